"""``ModelClient``: every model call of a run, priced, checked against the budget, recorded.

Order of one call (``complete``): resolve the tier, count the prompt, hold the worst case
on the budget (a call that could overrun is refused, not made), call the provider with
bounded retries, price what it reports, release the hold, record the call in the ledger,
and only then return the reply to the caller.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import BudgetExhausted, ConfigError, MissingCredentials, ModelError, SwcError
from ..interrupts import checkpoint
from . import _litellm as lib
from .budget import Budget, PromptSize, WorstCase, message_bytes, worst_case_tokens
from .retry import Backoff
from .specs import DEFAULT_LOCAL_MODEL, is_local, is_small_model
from .types import (
    EVENT_DONE,
    EVENT_REFUSED,
    EVENT_RETRY,
    EVENT_SERVER,
    EVENT_TOKEN,
    EVENT_WARNING,
    Completion,
    Model,
    ModelEvent,
    ModelSpec,
    Reply,
)

if TYPE_CHECKING:
    from .ledger import Ledger
    from .local import LocalServer

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
        self._prices: dict[str, tuple[float, float, bool]] = {}
        self._servers: dict[str, LocalServer] = {}
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
            for var in self._missing_vars(spec):
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

    def _missing_vars(self, spec: ModelSpec) -> list[str]:
        if spec.api_key_env:
            return [] if self.environ.get(spec.api_key_env) else [spec.api_key_env]
        provider = lib.provider_of(spec.model, spec.api_base)
        if provider is None and not spec.api_base:
            raise ConfigError(
                f"{spec.tier}.model {spec.model!r}: litellm cannot tell which provider serves it",
                hint="Prefix it with the provider (openai/, anthropic/, gemini/, ollama/, ...) "
                f"or set {spec.tier}.api_base to an OpenAI-compatible server.",
            )
        if lib.route(spec, self.environ).api_key == lib.KEYLESS_API_KEY:
            return []  # an OpenAI-compatible server reached through api_base
        missing = lib.provider_missing_keys(spec.model, spec.api_base)
        return [var for var in missing if not self.environ.get(var)]

    def price(self, tier: str) -> tuple[float, float]:
        """USD per prompt token and per completion token ((0, 0) when unknown or local)."""
        prompt, completion, _known = self._price(tier)
        return prompt, completion

    def price_known(self, tier: str) -> bool:
        return self._price(tier)[2]

    def _price(self, tier: str) -> tuple[float, float, bool]:
        with self._lock:
            if tier not in self._prices:
                self._prices[tier] = self._lookup_price(self.spec(tier))
            return self._prices[tier]

    def _lookup_price(self, spec: ModelSpec) -> tuple[float, float, bool]:
        if is_local(spec.model):
            return 0.0, 0.0, True
        prompt = _per_token(spec.input_cost_per_mtok)
        completion = _per_token(spec.output_cost_per_mtok)
        if prompt is None or completion is None:
            route = lib.route(spec, self.environ)
            listed = lib.listed_prices(spec.model, route.model)
            prompt = listed[0] if prompt is None else prompt
            completion = listed[1] if completion is None else completion
        known = prompt is not None and completion is not None
        return float(prompt or 0.0), float(completion or 0.0), known

    def estimate_tokens(self, tier: str, messages: list[dict]) -> int:
        spec = self.spec(tier)
        return lib.token_count(lib.route(spec, self.environ).model, messages=messages)

    def window(self, tier: str) -> int | None:
        """The most prompt tokens the tier's model takes (None: local, or not in the map)."""
        spec = self.spec(tier)
        return _window(spec, lib.route(spec, self.environ))

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
    ) -> Reply:
        checkpoint()  # a Ctrl-C that was swallowed somewhere still stops before paid work
        spec = self.spec(tier)
        route = self._route(spec)
        prompt_est = self.estimate_tokens(tier, messages)
        limit = self._reply_limit(spec, max_tokens, prompt_est)
        prompt_price, completion_price, known = self._price(tier)
        bound = self.worst_case(spec, route, prompt_est, limit, messages)
        worst = bound.cost(prompt_price, completion_price)
        facts = _CallFacts(prompt_est, limit, worst, prompt_hash(spec.model, messages))
        try:
            self.budget.reserve(worst, f"the {tier} model's {purpose} call")
        except BudgetExhausted as exc:
            self._record(
                spec, purpose, None, 0.0, facts, outcome=OUTCOME_REFUSED, detail=exc.message
            )
            self._emit(EVENT_REFUSED, spec, text=exc.message, purpose=purpose)
            raise
        if not known:
            self._warn(
                spec,
                f"no price is known for {spec.model} ({tier} tier): its calls are "
                f"counted as $0 and the budget cannot limit them. Set "
                f"{tier}.input_cost_per_mtok and {tier}.output_cost_per_mtok.",
            )
        started = time.monotonic()
        got: lib.Collected | None = None
        outcome, detail = OUTCOME_ERROR, None
        cost = 0.0
        try:
            got, attempts = self._call_with_retries(
                spec,
                route,
                messages,
                purpose=purpose,
                max_tokens=limit,
                stream=stream,
                temperature=spec.temperature if temperature is None else temperature,
            )
            self._fill_usage(got, route, prompt_est, limit)
            cost = got.prompt_tokens * prompt_price + got.completion_tokens * completion_price
            self.budget.ratios.observe(
                spec.model,
                reported_prompt=got.prompt_tokens,
                estimated_prompt=prompt_est,
                reported_completion=got.completion_tokens or 0,
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
            self.budget.settle(worst, cost)
            self._record(
                spec,
                purpose,
                got,
                cost,
                facts,
                outcome=outcome,
                detail=detail,
                latency=latency,
                known=known,
            )
            self._emit(EVENT_DONE, spec, text=outcome, purpose=purpose)
        assert got is not None and got.prompt_tokens is not None
        return Reply(
            text=_encodable(got.text),
            prompt_tokens=got.prompt_tokens,
            completion_tokens=got.completion_tokens or 0,
            cost_usd=cost,
            cost_known=known,
            latency_s=latency,
            model=spec.model,
            tier=tier,
            finish_reason=got.finish_reason,
        )

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
            context_window=_window(spec, route),
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

    def _fill_usage(
        self, got: lib.Collected, route: lib.Route, prompt_est: int, max_tokens: int
    ) -> None:
        """Providers that report no usage are charged by our own count."""
        if got.prompt_tokens is None or got.prompt_tokens < 0:  # none, or nonsense
            got.prompt_tokens = prompt_est
        if got.completion_tokens is None or got.completion_tokens < 0:
            # the provider stopped at max_tokens, whatever our tokenizer makes of the text
            got.completion_tokens = min(max_tokens, lib.token_count(route.model, text=got.text))

    def _call_with_retries(
        self,
        spec: ModelSpec,
        route: lib.Route,
        messages: list[dict],
        *,
        purpose: str,
        temperature: float,
        max_tokens: int,
        stream: bool,
    ) -> tuple[lib.Collected, int]:
        attempt = 0
        while True:
            try:
                return self._call_once(
                    spec,
                    route,
                    messages,
                    purpose=purpose,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    stream=stream,
                ), attempt + 1
            except Exception as exc:
                if isinstance(exc, SwcError) or not lib.is_provider_error(exc):
                    raise
                self._check_server(spec)
                message = lib.provider_message(exc)
                if attempt >= spec.retries or not lib.is_transient(exc):
                    raise _model_error(spec, exc, message, attempt + 1) from None
                delay = self.backoff.delay(attempt, lib.retry_after(exc))
                self._emit(EVENT_RETRY, spec, text=message, purpose=purpose, delay_s=delay)
                self.sleep(delay)
                attempt += 1

    def _call_once(
        self,
        spec: ModelSpec,
        route: lib.Route,
        messages: list[dict],
        *,
        purpose: str,
        temperature: float,
        max_tokens: int,
        stream: bool,
    ) -> lib.Collected:
        if self.model is not None:
            got = self.model.complete(
                spec, messages, purpose=purpose, temperature=temperature, max_tokens=max_tokens
            )
            return _collected(got, spec.model)
        response = lib.completion(
            route,
            messages,
            temperature=temperature,
            max_tokens=max_tokens,
            timeout=spec.timeout,
            stream=stream,
        )
        if not stream:
            return lib.collect(response)
        got = lib.Collected()
        for piece in lib.iter_stream(response, got):
            self._emit(EVENT_TOKEN, spec, text=piece, purpose=purpose)
        return got

    # -- local servers ------------------------------------------------------------------

    def _route(self, spec: ModelSpec) -> lib.Route:
        if not is_local(spec.model) or self.model is not None:
            return lib.route(spec, self.environ)
        return lib.route(spec, self.environ, self._local_server(spec).base_url)

    def _local_server(self, spec: ModelSpec) -> LocalServer:
        from .local import LocalServer, gguf_for

        gguf = gguf_for(spec.model)
        with self._lock:  # both tiers may name the same file: one server serves both
            server = self._servers.get(str(gguf))
            if server is None:
                alias = spec.model[len("local/") :]
                server = LocalServer.for_gguf(gguf, alias)
                self._servers[str(gguf)] = server
                self._emit(
                    EVENT_SERVER,
                    spec,
                    text=f"starting the local model server for {spec.model} on {server.base_url}",
                )
                started = time.monotonic()
                try:
                    server.start()
                except BaseException:
                    del self._servers[str(gguf)]
                    raise
                self._emit(
                    EVENT_SERVER,
                    spec,
                    text=f"local model server ready in {time.monotonic() - started:.1f}s",
                )
            return server

    def _check_server(self, spec: ModelSpec) -> None:
        """A local server that died makes every retry pointless: say why it died."""
        if not is_local(spec.model):
            return
        with self._lock:
            for server in self._servers.values():
                code = server.process.poll() if server.process else None
                if code is not None:
                    raise server.exit_error(code)

    def local_server_pids(self) -> list[int]:
        with self._lock:
            return [s.pid for s in self._servers.values() if s.pid is not None]

    def close(self) -> None:
        """Stop every local model server this client started."""
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.stop()

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
        facts: _CallFacts,
        *,
        outcome: str,
        detail: str | None,
        latency: float = 0.0,
        known: bool = True,
    ) -> None:
        if self.ledger is None:
            return
        prompt = (got.prompt_tokens or 0) if got else 0
        completion = (got.completion_tokens or 0) if got else 0
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
            strong_cost_usd=self._strong_cost(prompt, completion),
            prompt_estimate=facts.prompt_estimate,
            max_tokens=facts.max_tokens,
            reserved_usd=facts.reserved_usd,
            prompt_hash=facts.prompt_hash,
        )

    def _strong_cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """What these tokens would have cost at the strong tier's prices (None: unknown)."""
        try:
            prompt_price, completion_price, known = self._price("strong")
        except SwcError:
            return None
        if not known:
            return None
        return prompt_tokens * prompt_price + completion_tokens * completion_price


@dataclass(frozen=True)
class _CallFacts:
    """What the ledger keeps about a call besides its outcome: what was held and asked."""

    prompt_estimate: int
    max_tokens: int
    reserved_usd: float
    prompt_hash: str


def _collected(got: Completion, model: str) -> lib.Collected:
    return lib.Collected(
        got.text, got.prompt_tokens, got.completion_tokens, got.finish_reason, model
    )


_SURROGATES = re.compile("[\ud800-\udfff]")


def _encodable(text: str) -> str:
    """A reply as text that can be written anywhere: a provider's JSON may carry lone
    surrogates ("\\ud800"), which no file, git object or terminal can hold."""
    return _SURROGATES.sub("\ufffd", text)


def prompt_hash(model: str, messages: list[dict]) -> str:
    """Identifies a request's prompt: the same model asked the same thing twice is a repeat."""
    canonical = json.dumps([model, messages], sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:32]


def _per_token(per_mtok: float | None) -> float | None:
    return None if per_mtok is None else per_mtok / 1_000_000


def _model_error(spec: ModelSpec, exc: BaseException, message: str, attempts: int) -> ModelError:
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    hint = None
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        var = spec.api_key_env or "the provider's API key variable"
        hint = f"Check the key in {var}."
    elif status == 404:
        hint = f"Check the model name {spec.model!r} and the tier's api_base."
    return ModelError(f"the {spec.tier} model {spec.model} failed{tries}: {message}", hint=hint)


def _window(spec: ModelSpec, route: lib.Route) -> int | None:
    """A model's prompt window from litellm's map; none for a local model (its server's)."""
    return None if is_local(spec.model) else lib.context_window(route.model)
