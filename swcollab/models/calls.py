"""The plain facts of one model call, and the small rules around it: what is asked, what
is held and recorded, what the provider bills, and how its failure reads."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigError, ModelError
from . import _litellm as lib
from .specs import is_local
from .types import Completion, ModelSpec, Prices


@dataclass(frozen=True)
class Request:
    """How one request is asked, besides its messages."""

    purpose: str
    temperature: float
    max_tokens: int
    stream: bool
    samples: int


def charge(prices: Prices, got: lib.Collected) -> float:
    """What the provider bills for a call: its cached prompt tokens at the cache's price."""
    return prices.cost(
        got.prompt_tokens or 0,
        got.completion_tokens or 0,
        cached=got.cached_tokens or 0,
        written=got.cache_write_tokens or 0,
    )


@dataclass(frozen=True)
class CallFacts:
    """What the ledger keeps about a call besides its outcome: what was held and asked."""

    prompt_estimate: int
    max_tokens: int  # every sample's reply cap, summed
    reserved_usd: float
    prompt_hash: str
    samples: int = 1  # answers asked for with the one prompt


def collected(got: Completion, model: str) -> lib.Collected:
    return lib.Collected(
        got.text,
        got.prompt_tokens,
        got.completion_tokens,
        got.finish_reason,
        model,
        list(got.texts or (got.text,)),
        got.cached_tokens,
        got.cache_write_tokens,
    )


_SURROGATES = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """A reply as text that can be written anywhere: a provider's JSON may carry lone
    surrogates ("\\ud800"), which no file, git object or terminal can hold."""
    return _SURROGATES.sub("\ufffd", text)


def prompt_hash(model: str, messages: list[dict]) -> str:
    """Identifies a request's prompt: the same model asked the same thing twice is a repeat."""
    canonical = json.dumps([model, messages], sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[:32]


def per_token(per_mtok: float | None) -> float | None:
    return None if per_mtok is None else per_mtok / 1_000_000


def model_error(spec: ModelSpec, exc: BaseException, message: str, attempts: int) -> ModelError:
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    hint = None
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        var = spec.api_key_env or "the provider's API key variable"
        hint = f"Check the key in {var}."
    elif status == 404:
        hint = f"Check the model name {spec.model!r} and the tier's api_base."
    return ModelError(f"the {spec.tier} model {spec.model} failed{tries}: {message}", hint=hint)


def window_of(spec: ModelSpec, route: lib.Route) -> int | None:
    """A model's prompt window from litellm's map; none for a local model (its server's)."""
    return None if is_local(spec.model) else lib.context_window(route.model)


def prices_of(spec: ModelSpec, environ: Mapping[str, str]) -> Prices:
    """A tier's prices: configured, else litellm's price map (cached reads too)."""
    if is_local(spec.model):
        return Prices()
    prompt = per_token(spec.input_cost_per_mtok)
    completion = per_token(spec.output_cost_per_mtok)
    cache_read = per_token(spec.cached_input_cost_per_mtok)
    cache_write = None
    if prompt is None or completion is None or cache_read is None:
        route = lib.route(spec, environ)
        listed = lib.listed_prices(spec.model, route.model)
        # A configured prompt price with no configured cache price: the map's cache
        # price belongs to the map's prompt price, so no discount is assumed.
        if cache_read is None and prompt is None:
            cache_read, cache_write = listed.cache_read, listed.cache_write
        prompt = listed.prompt if prompt is None else prompt
        completion = listed.completion if completion is None else completion
    known = prompt is not None and completion is not None
    return Prices(float(prompt or 0.0), float(completion or 0.0), cache_read, cache_write, known)


def missing_key_vars(spec: ModelSpec, environ: Mapping[str, str]) -> list[str]:
    """The environment variables holding a key that ``spec``'s provider needs and
    ``environ`` lacks."""
    if spec.api_key_env:
        return [] if environ.get(spec.api_key_env) else [spec.api_key_env]
    provider = lib.provider_of(spec.model, spec.api_base)
    if provider is None and not spec.api_base:
        raise ConfigError(
            f"{spec.tier}.model {spec.model!r}: litellm cannot tell which provider serves it",
            hint="Prefix it with the provider (openai/, anthropic/, gemini/, ollama/, ...) "
            f"or set {spec.tier}.api_base to an OpenAI-compatible server.",
        )
    if lib.route(spec, environ).api_key == lib.KEYLESS_API_KEY:
        return []  # an OpenAI-compatible server reached through api_base
    missing = lib.provider_missing_keys(spec.model, spec.api_base)
    return [var for var in missing if not environ.get(var)]


def fill_usage(got: lib.Collected, route: lib.Route, prompt_est: int, max_tokens: int) -> None:
    """Providers that report no usage are charged by our own count (each answer's reply
    stopped at ``max_tokens``, whatever our tokenizer makes of its text)."""
    if got.prompt_tokens is None or got.prompt_tokens < 0:  # none, or nonsense
        got.prompt_tokens = prompt_est
    if got.completion_tokens is None or got.completion_tokens < 0:
        texts = got.texts or [got.text]
        got.completion_tokens = sum(
            min(max_tokens, lib.token_count(route.model, text=text)) for text in texts
        )
