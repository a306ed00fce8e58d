"""Everything that touches litellm, imported lazily so ``swc --help`` never pays for it.

litellm does the provider work; this module decides how a ``ModelSpec`` is routed to it
(provider, base URL, key), what a model costs, which errors are worth a retry, and how a
provider's error reads for people.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config import SOURCE_REPO, Settings, TierSettings
from ..errors import ConfigError
from .specs import is_local, spec_from_tier
from .types import ModelSpec

# Sent as the key to OpenAI-compatible servers reached through api_base without a
# configured key: local servers (vLLM, llama.cpp, Ollama) accept anything, and we must
# not forward OPENAI_API_KEY to a server that is not OpenAI.
KEYLESS_API_KEY = "sk-no-key-required"
_OPENAI_COMPATIBLE = {"openai", "custom_openai", "hosted_vllm", "text-completion-openai"}
_PREFIX = re.compile(r"^(litellm\.\w+:\s*)+")


_early: list[threading.Thread] = []
_early_lock = threading.Lock()


def import_in_background() -> None:
    """Start importing litellm in a daemon thread (once per process), so that reading the
    task (an issue, a test run) overlaps it. A later ``litellm()`` in any thread waits for
    this import (Python's per-module import lock) rather than starting its own."""
    with _early_lock:
        if _early or "litellm" in sys.modules:
            return
        thread = threading.Thread(target=_import_quietly, name="swc-litellm-import", daemon=True)
        _early.append(thread)
        thread.start()


def _import_quietly() -> None:
    # A failure is not lost: the import is repeated where litellm is needed, and reported.
    with contextlib.suppress(Exception):
        litellm()


def litellm() -> Any:
    """The litellm module, configured once: local price map, quiet, no retries of its own."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm as _litellm

    _litellm.suppress_debug_info = True  # it would print help banners on stdout
    _litellm.num_retries = 0
    return _litellm


@dataclass(frozen=True)
class Route:
    """How litellm is asked: the model name it sees, where, and with which key."""

    model: str
    api_base: str | None
    api_key: str | None
    provider: str | None


def provider_of(model: str, api_base: str | None = None) -> str | None:
    try:
        return str(litellm().get_llm_provider(model=model, api_base=api_base)[1])
    except Exception:  # litellm raises several types for "cannot tell"
        return None


def route(spec: ModelSpec, environ: Mapping[str, str], local_base: str | None = None) -> Route:
    if is_local(spec.model):
        name = spec.model[len("local/") :] or "local"
        return Route(f"openai/{name}", local_base, KEYLESS_API_KEY, "openai")
    key = environ.get(spec.api_key_env) if spec.api_key_env else None
    provider = provider_of(spec.model, spec.api_base)
    if spec.api_base and provider in (None, *_OPENAI_COMPATIBLE):
        # Any OpenAI-compatible server: a bare name is routed as openai/<name>.
        model = spec.model if provider else f"openai/{spec.model}"
        return Route(model, spec.api_base, key or KEYLESS_API_KEY, "openai")
    if key is None and environ is not os.environ:
        key = _key_from_environ(spec, environ)
    return Route(spec.model, spec.api_base, key, provider)


def _key_from_environ(spec: ModelSpec, environ: Mapping[str, str]) -> str | None:
    """A provider key that is in ``environ`` but not in os.environ (where litellm looks)."""
    missing = provider_missing_keys(spec.model, spec.api_base)
    if len(missing) == 1 and environ.get(missing[0]):
        return environ[missing[0]]
    return None


class _NoKeysSet:
    """Stands for the ``os`` module in ``provider_key_names``: an environment without keys."""

    environ: Mapping[str, str] = {}


def provider_key_names(model: str, api_base: str | None = None) -> frozenset[str]:
    """The variables litellm reads this model's key from, whichever of them are set now.

    ``validate_environment`` names only the missing ones, so a copy of it is run with an
    empty environment in place of ``os.environ`` (no global state changes: other threads
    are unaffected). A model reached through ``api_base`` by a bare name is routed as
    ``openai/<name>`` (``route``), so it gets OpenAI's variable."""
    if api_base and provider_of(model, api_base) is None:
        model = f"openai/{model}"
    check = litellm().validate_environment
    blank = types.FunctionType(
        check.__code__,
        {**check.__globals__, "os": _NoKeysSet},
        check.__name__,
        check.__defaults__,
        check.__closure__,
    )
    blank.__kwdefaults__ = check.__kwdefaults__
    try:
        result = blank(model=model)
    except Exception:  # a litellm that looks keys up otherwise: none is known
        return frozenset()
    return frozenset(str(name) for name in result.get("missing_keys", []))


def checked_spec(tier: TierSettings, settings: Settings) -> ModelSpec:
    """The tier's ``ModelSpec``; a repository's file may name as its ``api_key_env`` only
    the provider's own key variable (one naming GITHUB_TOKEN would send that token to the
    model's server). The user's own configuration (user file, environment, flag) may
    name any variable."""
    spec = spec_from_tier(tier, settings)
    var = spec.api_key_env
    from_repo = settings.sources.get(f"{tier.name}.api_key_env") == SOURCE_REPO
    if not var or not from_repo or is_local(spec.model):
        return spec
    names = provider_key_names(spec.model, spec.api_base)
    if var not in names:
        known = ", ".join(sorted(names)) or "none that litellm knows"
        raise ConfigError(
            f"the repository's file sets {tier.name}.api_key_env = {var!r}, not a key "
            f"variable of {spec.model!r} ({known}); a repository may name only its model's "
            f"own: set {tier.name}.api_key_env in your own config (your config.toml or "
            f"SWC_{tier.name.upper()}_API_KEY_ENV) if you mean it"
        )
    return spec


def provider_missing_keys(model: str, api_base: str | None) -> list[str]:
    """The environment variables litellm says this model needs and os.environ lacks."""
    result = litellm().validate_environment(model=model, api_base=api_base)
    return [str(k) for k in result.get("missing_keys", [])]


def completion(
    route_: Route,
    messages: list[dict],
    *,
    temperature: float,
    max_tokens: int,
    timeout: float,
    stream: bool,
    samples: int = 1,
) -> Any:
    kwargs: dict[str, Any] = {
        "model": route_.model,
        "messages": provider_messages(route_, messages),
        "temperature": temperature,
        "max_tokens": max_tokens,
        "timeout": timeout,
        # Our retry loop is the only one: it knows the budget and reports each retry.
        "num_retries": 0,
        "max_retries": 0,
        # Providers that reject a parameter (e.g. temperature on reasoning models) get
        # the call without it rather than an error.
        "drop_params": True,
    }
    if samples > 1:
        kwargs["n"] = samples
    if route_.api_base:
        kwargs["api_base"] = route_.api_base
    if route_.api_key:
        kwargs["api_key"] = route_.api_key
    if stream:
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True}
    return litellm().completion(**kwargs)


def takes_samples(route_: Route) -> bool:
    """Whether the provider returns several samples of one prompt (``n``) for the prompt's
    price once: litellm's list of the OpenAI parameters the provider supports."""
    try:
        supported = litellm().get_supported_openai_params(
            model=route_.model, custom_llm_provider=route_.provider
        )
    except Exception:  # an unknown provider: ask for one sample at a time
        return False
    return "n" in (supported or [])


def marks_cache(route_: Route) -> bool:
    """Providers that cache only a prefix the request marks (``cache_control``): Claude,
    directly or through Bedrock and Vertex AI. The others cache repeated prefixes alone."""
    return route_.provider == "anthropic" or (
        route_.provider in ("bedrock", "bedrock_converse", "vertex_ai") and "claude" in route_.model
    )


def provider_messages(route_: Route, messages: list[dict]) -> list[dict]:
    """The messages as the provider takes them: role and content only, and for a provider
    that caches marked prefixes, the run's shared prefix (``prompts.SHARED_PREFIX``) as a
    content block of its own with a cache mark."""
    from ..prompts import SHARED_PREFIX

    out: list[dict] = []
    for message in messages:
        plain = {"role": message["role"], "content": message["content"]}
        cut = message.get(SHARED_PREFIX)
        text = plain["content"]
        if marks_cache(route_) and isinstance(cut, int) and isinstance(text, str) and cut > 0:
            blocks: list[dict] = [
                {"type": "text", "text": text[:cut], "cache_control": {"type": "ephemeral"}}
            ]
            if text[cut:]:
                blocks.append({"type": "text", "text": text[cut:]})
            plain["content"] = blocks
        out.append(plain)
    return out


@dataclass
class Collected:
    text: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = ""
    model: str = ""
    # every sample's text when the request asked for several (``texts[0]`` is ``text``)
    texts: list[str] = field(default_factory=list)
    cached_tokens: int | None = None  # prompt tokens read from the provider's cache
    cache_write_tokens: int | None = None  # prompt tokens written to it (Anthropic)


def collect(response: Any) -> Collected:
    """Texts, usage and finish reason of a non-streamed response."""
    out = Collected()
    choices = getattr(response, "choices", None) or []
    for choice in choices:
        message = getattr(choice, "message", None)
        out.texts.append((getattr(message, "content", None) or "") if message is not None else "")
    if choices:
        out.text = out.texts[0]
        out.finish_reason = getattr(choices[0], "finish_reason", None) or ""
    _take_usage(out, getattr(response, "usage", None))
    out.model = str(getattr(response, "model", "") or "")
    return out


def iter_stream(stream: Any, out: Collected) -> Iterator[str]:
    """Yield text pieces as they arrive, filling ``out`` (text, usage) along the way."""
    for chunk in stream:
        choices = getattr(chunk, "choices", None) or []
        if choices:
            delta = getattr(choices[0], "delta", None)
            piece = (getattr(delta, "content", None) or "") if delta is not None else ""
            if getattr(choices[0], "finish_reason", None):
                out.finish_reason = choices[0].finish_reason
            if piece:
                out.text += piece
                yield piece
        _take_usage(out, getattr(chunk, "usage", None))
        out.model = out.model or str(getattr(chunk, "model", "") or "")
    out.texts = [out.text]


def _take_usage(out: Collected, usage: Any) -> None:
    if usage is None:
        return
    prompt = getattr(usage, "prompt_tokens", None)
    completion_ = getattr(usage, "completion_tokens", None)
    if prompt is not None:
        out.prompt_tokens = int(prompt)
    if completion_ is not None:
        out.completion_tokens = int(completion_)
    details = getattr(usage, "prompt_tokens_details", None)
    cached = _count_of(details, "cached_tokens")
    if cached is None:
        cached = _count_of(usage, "cache_read_input_tokens")
    written = _count_of(details, "cache_creation_tokens")
    if written is None:
        written = _count_of(usage, "cache_creation_input_tokens")
    if cached is not None:
        out.cached_tokens = cached
    if written is not None:
        out.cache_write_tokens = written


def _count_of(obj: Any, name: str) -> int | None:
    value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return int(value) if isinstance(value, (int, float)) and value >= 0 else None


def token_count(model: str, *, messages: list[dict] | None = None, text: str | None = None) -> int:
    try:
        if messages is not None:
            return int(litellm().token_counter(model=model, messages=messages))
        return int(litellm().token_counter(model=model, text=text or ""))
    except Exception:  # an exotic tokenizer failing must not stop a run: ~4 chars a token
        chars = sum(len(str(m.get("content") or "")) for m in messages or []) + len(text or "")
        return chars // 3 + 4


@dataclass(frozen=True)
class ListedPrices:
    """USD per token from litellm's price map (None: not listed)."""

    prompt: float | None = None
    completion: float | None = None
    cache_read: float | None = None  # a prompt token read from the provider's cache
    cache_write: float | None = None  # a prompt token written to it (Anthropic)


def listed_prices(*names: str) -> ListedPrices:
    """The first of ``names`` that litellm's price map lists, with its prices."""
    for name in names:
        try:
            info = litellm().get_model_info(name)
        except Exception:  # "not mapped" is an exception in litellm
            continue
        prompt = info.get("input_cost_per_token")
        completion_ = info.get("output_cost_per_token")
        if prompt is not None or completion_ is not None:
            return ListedPrices(
                prompt,
                completion_,
                info.get("cache_read_input_token_cost"),
                info.get("cache_creation_input_token_cost"),
            )
    return ListedPrices()


def context_window(model: str) -> int | None:
    """The most prompt tokens the model accepts, from litellm's model map (None: unknown)."""
    try:
        info = litellm().get_model_info(model)
    except Exception:  # "not mapped" is an exception in litellm
        return None
    value = info.get("max_input_tokens")  # not "max_tokens": for some models, the output cap
    return int(value) if isinstance(value, int) and value > 0 else None


def is_transient(exc: BaseException) -> bool:
    """Rate limits, time-outs, connection failures and 5xx are worth another try."""
    lib = litellm()
    transient = (
        lib.RateLimitError,
        lib.Timeout,
        lib.InternalServerError,
        lib.ServiceUnavailableError,
        lib.BadGatewayError,
        lib.APIConnectionError,
    )
    if isinstance(exc, transient):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status in (408, 429) or status >= 500)


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (``Retry-After``), if it said."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def is_provider_error(exc: BaseException) -> bool:
    """Errors that come from the provider or the connection to it (not our own bugs)."""
    import openai

    lib = litellm()
    return isinstance(
        exc, (openai.OpenAIError, lib.exceptions.APIError, lib.exceptions.OpenAIError)
    ) or type(exc).__module__.startswith("litellm")


def provider_message(exc: BaseException) -> str:
    """The provider's message without litellm's repeated class-name prefixes."""
    text = " ".join(str(exc).split())
    text = _PREFIX.sub("", text)
    for noise in ("Received Model Group=", "LiteLLM Retried:"):
        text = text.split(noise)[0].strip()
    name = type(exc).__name__
    if not text.startswith(name):
        text = f"{name}: {text}" if text else name
    return text[:1000]
