"""``ModelClient``: every model call of a run, priced, checked against the budget, recorded.

Order of one call (``complete``): resolve the tier, count the prompt, hold the worst case
on the budget (a call that could overrun is refused, not made), call the provider with
bounded retries, price what it reports, release the hold, record the call in the ledger,
and only then return the reply to the caller.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import BudgetExhausted, MissingCredentials, SwcError
from ..interrupts import checkpoint
from . import _litellm as lib
from .budget import Budget, PromptSize, WorstCase, message_bytes, worst_case_tokens
from .calls import (
    CallFacts,
    Request,
    charge,
    collected,
    encodable,
    fill_usage,
    missing_key_vars,
    model_error,
    prices_of,
    prompt_hash,
    window_of,
)
from .local_servers import LocalServers
from .retry import Backoff
from .specs import DEFAULT_LOCAL_MODEL, is_local, is_small_model
from .types import (
    EVENT_DONE,
    EVENT_REFUSED,
    EVENT_RETRY,
    EVENT_SERVER,
    EVENT_TOKEN,
    EVENT_WARNING,
    Model,
    ModelEvent,
    ModelSpec,
    Prices,
    Reply,
)

if TYPE_CHECKING:
    from .ledger import Ledger

# Room kept free in a local model's context window beyond the prompt.
_LOCAL_MIN_REPLY = 16

OUTCOME_OK = "ok"
OUTCOME_ERROR = "error"
OUTCOME_REFUSED = "refused"
OUTCOME_INTERRUPTED = "interrupted"


class ModelClient:
    """The one door to the models of a run (see module docstring for what a call does)."""

    def __init__(
        self,
        settings: Settings,
        *,
        budget: Budget,
        ledger: Ledger | None = None,
        run_id: str | None = None,
        on_event: Callable[[ModelEvent], None] | None = None,
        environ: Mapping[str, str] | None = None,
        backoff: Backoff | None = None,
        model: Model | None = None,
    ) -> None:
        self.settings = settings
        self.model = model  # None: the providers, through litellm
        self.budget = budget
        self.ledger = ledger
        self.run_id = run_id
        self.on_event = on_event
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.backoff = backoff or Backoff()
        self.warnings: list[str] = []  # shown once each; also sent as warning events
        self.sleep: Callable[[float], None] = time.sleep
        self._specs: dict[str, ModelSpec] = {}
        self._prices: dict[str, Prices] = {}
        self._servers = LocalServers(lambda spec, text: self._emit(EVENT_SERVER, spec, text=text))
        self._seeded: set[str] = set()  # models whose ledger history was read
        self._lock = threading.RLock()

    # -- tiers --------------------------------------------------------------------------

    def spec(self, tier: str) -> ModelSpec:
        with self._lock:
            if tier not in self._specs:
                spec = lib.checked_spec(self.settings.tier(tier), self.settings)
                self._specs[tier] = spec
                if spec.is_default:
                    self._warn(
                        spec,
                        f"no model is configured for the {tier} tier: using the "
                        f"offline {DEFAULT_LOCAL_MODEL} (tiny: fine for trying swc, "
                        "not for real bugs). Set SWC_WEAK_MODEL / SWC_STRONG_MODEL or "
                        'weak = "..." / strong = "..." in .swc.toml.',
                    )
            return self._specs[tier]

    def specs(self) -> dict[str, ModelSpec]:
        return {name: self.spec(name) for name in self.settings.tier_names}

    def check_credentials(self, tiers: tuple[str, ...] | list[str] | None = None) -> None:
        """Stop before any work when a model cannot be reached: exit 3 naming what is missing."""
        needed_by: dict[str, list[str]] = {}
        if self.model is not None:
            return  # no provider is reached
        for name in tiers or self.settings.tier_names:
            spec = self.spec(name)
            if is_local(spec.model):
                from .local import gguf_for

                gguf_for(spec.model)  # raises MissingExtra / ConfigError with the fix
                continue
            for var in missing_key_vars(spec, self.environ):
                needed_by.setdefault(var, []).append(f"the {name} model {spec.model}")
        if needed_by:
            missing = "; ".join(
                f"{var} (needed by {' and '.join(users)})" for var, users in needed_by.items()
            )
            exports = " ".join(f"{var}=..." for var in needed_by)
            raise MissingCredentials(
                f"missing credentials: {missing}",
                hint=f"Fix: export {exports} (or set a tier's api_key_env to the variable "
                "that holds its key).",
            )

    def price(self, tier: str) -> tuple[float, float]:
        """USD per prompt token and per completion token ((0, 0) when unknown or local)."""
        prices = self.prices(tier)
        return prices.prompt, prices.completion

    def price_known(self, tier: str) -> bool:
        return self.prices(tier).known

    def prices(self, tier: str) -> Prices:
        """The tier's prices: configured, else litellm's price map (cached reads too)."""
        with self._lock:
            if tier not in self._prices:
                self._prices[tier] = prices_of(self.spec(tier), self.environ)
            return self._prices[tier]

    def takes_samples(self, tier: str) -> bool:
        """Whether one request of ``tier`` can return several samples (``n``), each priced
        for its completion only."""
        if self.model is not None:
            return bool(getattr(self.model, "takes_samples", False))
        spec = self.spec(tier)
        if is_local(spec.model):
            return False  # llama.cpp's server drops n: one answer a request
        return lib.takes_samples(lib.route(spec, self.environ))

    def estimate_tokens(self, tier: str, messages: list[dict]) -> int:
        spec = self.spec(tier)
        return lib.token_count(lib.route(spec, self.environ).model, messages=messages)

    def window(self, tier: str) -> int | None:
        """The most prompt tokens the tier's model takes (None: local, or not in the map)."""
        spec = self.spec(tier)
        return window_of(spec, lib.route(spec, self.environ))

    def is_small(self, tier: str) -> bool:
        return is_small_model(self.spec(tier).model)

    # -- calls --------------------------------------------------------------------------

    def complete(
        self,
        tier: str,
        messages: list[dict],
        *,
        purpose: str,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stream: bool = False,
        samples: int = 1,
    ) -> Reply:
        """One request. ``samples`` > 1 asks for that many answers to the one prompt
        (``takes_samples``: else one is asked for); the provider may return fewer."""
        checkpoint()  # a Ctrl-C that was swallowed somewhere still stops before paid work
        spec = self.spec(tier)
        route = self._route(spec)
        samples = max(1, samples) if not stream and self.takes_samples(tier) else 1
        prompt_est = self.estimate_tokens(tier, messages)
        limit = self._reply_limit(spec, max_tokens, prompt_est)
        prices = self.prices(tier)
        facts = self._hold(spec, route, messages, purpose, (prompt_est, limit, samples))
        started = time.monotonic()
        got: lib.Collected | None = None
        outcome, detail = OUTCOME_ERROR, None
        cost = 0.0
        try:
            got, attempts = self._call_with_retries(
                spec,
                route,
                messages,
                Request(
                    purpose,
                    spec.temperature if temperature is None else temperature,
                    limit,
                    stream,
                    samples,
                ),
            )
            fill_usage(got, route, prompt_est, limit)
            cost = charge(prices, got)
            self.budget.ratios.observe(
                spec.model,
                reported_prompt=got.prompt_tokens,
                estimated_prompt=prompt_est,
                reported_completion=(got.completion_tokens or 0) // max(1, len(got.texts)),
                max_tokens=limit,
            )
            outcome = OUTCOME_OK
            detail = f"{attempts} attempts" if attempts > 1 else None
        except KeyboardInterrupt:
            outcome = OUTCOME_INTERRUPTED
            raise
        except SwcError as exc:
            detail = exc.message
            raise
        except Exception as exc:  # a bug of ours or of litellm: record it, then let it show
            detail = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            latency = time.monotonic() - started
            self.budget.settle(facts.reserved_usd, cost)
            self._record(
                spec,
                purpose,
                got,
                cost,
                facts,
                outcome=outcome,
                detail=detail,
                latency=latency,
                known=prices.known,
            )
            self._emit(EVENT_DONE, spec, text=outcome, purpose=purpose)
        assert got is not None and got.prompt_tokens is not None
        return Reply(
            text=encodable(got.text),
            prompt_tokens=got.prompt_tokens,
            completion_tokens=got.completion_tokens or 0,
            cost_usd=cost,
            cost_known=prices.known,
            latency_s=latency,
            model=spec.model,
            tier=tier,
            finish_reason=got.finish_reason,
            texts=tuple(encodable(t) for t in got.texts[:samples]),
            cached_tokens=got.cached_tokens or 0,
        )

    def _hold(
        self,
        spec: ModelSpec,
        route: lib.Route,
        messages: list[dict],
        purpose: str,
        sizes: tuple[int, int, int],
    ) -> CallFacts:
        """Hold the call's worst case on the budget (``sizes``: our prompt count, the
        reply cap, the samples asked for), or record its refusal and raise."""
        prompt_est, limit, samples = sizes
        prices = self.prices(spec.tier)
        bound = self.worst_case(spec, route, prompt_est, limit, messages)
        # n samples: the prompt once, n replies (the budget holds the prompt uncached)
        worst = bound.cost(prices.prompt, prices.completion * samples)
        facts = CallFacts(
            prompt_est, limit * samples, worst, prompt_hash(spec.model, messages), samples
        )
        try:
            self.budget.reserve(worst, f"the {spec.tier} model's {purpose} call")
        except BudgetExhausted as exc:
            self._record(
                spec, purpose, None, 0.0, facts, outcome=OUTCOME_REFUSED, detail=exc.message
            )
            self._emit(EVENT_REFUSED, spec, text=exc.message, purpose=purpose)
            raise
        if not prices.known:
            self._warn(
                spec,
                f"no price is known for {spec.model} ({spec.tier} tier): its calls are "
                f"counted as $0 and the budget cannot limit them. Set "
                f"{spec.tier}.input_cost_per_mtok and {spec.tier}.output_cost_per_mtok.",
            )
        return facts

    def worst_case_usd(
        self, tier: str, messages: list[dict], *, samples: int = 1, max_tokens: int | None = None
    ) -> float:
        """What ``complete`` would hold on the budget for this request."""
        spec = self.spec(tier)
        route = lib.route(spec, self.environ)  # never starts a local server
        estimate = self.estimate_tokens(tier, messages)
        limit = self._reply_limit(spec, max_tokens, estimate)
        prices = self.prices(tier)
        bound = self.worst_case(spec, route, estimate, limit, messages)
        return bound.cost(prices.prompt, prices.completion * samples)

    def worst_case(
        self, spec: ModelSpec, route: lib.Route, estimate: int, limit: int, prompt: PromptSize
    ) -> WorstCase:
        """The most tokens the provider could report for a call (see ``budget``) of a prompt
        we count ``estimate`` tokens: its messages, or (bytes, messages) of one to come."""
        size, count = (message_bytes(prompt), len(prompt)) if isinstance(prompt, list) else prompt
        self._seed_ratios(spec.model)
        ratios = self.budget.ratios
        return worst_case_tokens(
            estimate=estimate,
            prompt_bytes=size,
            messages=count,
            max_tokens=limit,
            seen_prompt_ratio=ratios.prompt_ratio(spec.model),
            seen_completion_ratio=ratios.completion_ratio(spec.model),
            context_window=window_of(spec, route),
        )

    def _seed_ratios(self, model: str) -> None:
        """What earlier runs learnt about this model's token counts (once per client)."""
        with self._lock:
            if model in self._seeded or self.ledger is None:
                return
            self._seeded.add(model)
        prompt, completion = self.ledger.largest_ratios(model)
        self.budget.ratios.raise_to(model, prompt=prompt, completion=completion)

    def _reply_limit(self, spec: ModelSpec, max_tokens: int | None, prompt_est: int) -> int:
        limit = max_tokens or spec.max_tokens
        if is_local(spec.model):
            from .local import LOCAL_N_CTX

            # llama.cpp refuses prompt + max_tokens beyond its context window.
            limit = min(limit, max(_LOCAL_MIN_REPLY, LOCAL_N_CTX - prompt_est - 8))
        return limit

    def _call_with_retries(
        self, spec: ModelSpec, route: lib.Route, messages: list[dict], request: Request
    ) -> tuple[lib.Collected, int]:
        attempt = 0
        while True:
            try:
                return self._call_once(spec, route, messages, request), attempt + 1
            except Exception as exc:
                if isinstance(exc, SwcError) or not lib.is_provider_error(exc):
                    raise
                self._check_server(spec)
                message = lib.provider_message(exc)
                if attempt >= spec.retries or not lib.is_transient(exc):
                    raise model_error(spec, exc, message, attempt + 1) from None
                delay = self.backoff.delay(attempt, lib.retry_after(exc))
                self._emit(EVENT_RETRY, spec, text=message, purpose=request.purpose, delay_s=delay)
                self.sleep(delay)
                attempt += 1

    def _call_once(
        self, spec: ModelSpec, route: lib.Route, messages: list[dict], request: Request
    ) -> lib.Collected:
        if self.model is not None:
            extra = {"samples": request.samples} if request.samples > 1 else {}
            got = self.model.complete(
                spec,
                messages,
                purpose=request.purpose,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                **extra,
            )
            return collected(got, spec.model)
        response = lib.completion(
            route,
            messages,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            timeout=spec.timeout,
            stream=request.stream,
            samples=request.samples,
        )
        if not request.stream:
            return lib.collect(response)
        got = lib.Collected()
        for piece in lib.iter_stream(response, got):
            self._emit(EVENT_TOKEN, spec, text=piece, purpose=request.purpose)
        return got

    # -- local servers ------------------------------------------------------------------

    def _route(self, spec: ModelSpec) -> lib.Route:
        if not is_local(spec.model) or self.model is not None:
            return lib.route(spec, self.environ)
        return lib.route(spec, self.environ, self._servers.base_url(spec))

    def _check_server(self, spec: ModelSpec) -> None:
        """A local server that died makes every retry pointless: say why it died."""
        if is_local(spec.model):
            self._servers.check()

    def local_server_pids(self) -> list[int]:
        return self._servers.pids()

    def close(self) -> None:
        """Stop every local model server this client started."""
        self._servers.stop_all()

    def __enter__(self) -> ModelClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events and records -------------------------------------------------------------

    def _emit(self, kind: str, spec: ModelSpec, **fields: Any) -> None:
        if self.on_event is not None:
            self.on_event(ModelEvent(kind=kind, tier=spec.tier, model=spec.model, **fields))

    def _warn(self, spec: ModelSpec, message: str) -> None:
        with self._lock:
            if message in self.warnings:
                return
            self.warnings.append(message)
        self._emit(EVENT_WARNING, spec, text=message)

    def _record(
        self,
        spec: ModelSpec,
        purpose: str,
        got: lib.Collected | None,
        cost: float,
        facts: CallFacts,
        *,
        outcome: str,
        detail: str | None,
        latency: float = 0.0,
        known: bool = True,
    ) -> None:
        if self.ledger is None:
            return
        from .ledger import CallCache

        prompt = (got.prompt_tokens or 0) if got else 0
        completion = (got.completion_tokens or 0) if got else 0
        cached = (got.cached_tokens or 0) if got else 0
        written = (got.cache_write_tokens or 0) if got else 0
        self.ledger.record_call(
            self.run_id,
            tier=spec.tier,
            model=spec.model,
            purpose=purpose,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=cost,
            cost_known=known,
            latency_s=latency,
            outcome=outcome,
            detail=detail,
            strong_cost_usd=self._strong_cost(prompt, completion, cached),
            prompt_estimate=facts.prompt_estimate,
            max_tokens=facts.max_tokens,
            reserved_usd=facts.reserved_usd,
            prompt_hash=facts.prompt_hash,
            cache=CallCache(
                cached_tokens=cached,
                cache_write_tokens=written,
                uncached_cost_usd=self.prices(spec.tier).cost(prompt, completion) if got else 0.0,
                samples=facts.samples,
                answers=len(got.texts) if got else 0,
            ),
        )

    def _strong_cost(self, prompt_tokens: int, completion_tokens: int, cached: int) -> float | None:
        """What these tokens would have cost at the strong tier's prices, the cached ones
        at its cache price (None: unknown)."""
        try:
            prices = self.prices("strong")
        except SwcError:
            return None
        if not prices.known:
            return None
        return prices.cost(prompt_tokens, completion_tokens, cached=cached)
