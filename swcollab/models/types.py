"""Plain data of the models layer: what a tier resolves to, what a call returns, events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# Event kinds sent to ``on_event``; the CLI decides how (and whether) to show each.
EVENT_TOKEN = "token"  # streamed text arriving (``text`` is the new piece)
EVENT_RETRY = "retry"  # a transient failure; the call is tried again after ``delay_s``
EVENT_WARNING = "warning"  # something the user should read once (unknown price, default model)
EVENT_REFUSED = "refused"  # the budget could not pay for the call; it was not made
EVENT_SERVER = "server"  # a local model server started or stopped
EVENT_DONE = "done"  # a call finished (successfully or not)


@dataclass(frozen=True)
class ModelSpec:
    """One tier resolved: the model to call, how to reach it, and what it costs."""

    tier: str
    model: str
    api_base: str | None
    api_key_env: str | None
    temperature: float
    max_tokens: int
    input_cost_per_mtok: float | None
    output_cost_per_mtok: float | None
    timeout: float
    retries: int
    # True when no model was configured and the embedded local default was chosen.
    is_default: bool = False
    cached_input_cost_per_mtok: float | None = None


@dataclass(frozen=True)
class Prices:
    """What a model charges, in USD per token. A prompt token read from the provider's
    cache costs ``cache_read`` (None: as any prompt token), one written to it (Anthropic's
    cache writes) ``cache_write`` (None: as any prompt token)."""

    prompt: float = 0.0
    completion: float = 0.0
    cache_read: float | None = None
    cache_write: float | None = None
    known: bool = True  # False: no price is known, calls are counted as $0

    def cost(
        self, prompt_tokens: int, completion_tokens: int, cached: int = 0, written: int = 0
    ) -> float:
        """What a call with these token counts is billed, its cached prompt tokens at
        the cache's price."""
        cached = min(max(cached, 0), prompt_tokens)
        written = min(max(written, 0), prompt_tokens - cached)
        read_price = self.prompt if self.cache_read is None else self.cache_read
        write_price = self.cache_write or self.prompt
        return (
            (prompt_tokens - cached - written) * self.prompt
            + cached * read_price
            + written * write_price
            + completion_tokens * self.completion
        )


@dataclass(frozen=True)
class Reply:
    """What one completed call returned and cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    cost_known: bool
    latency_s: float
    model: str
    tier: str
    finish_reason: str = ""  # "length" when the reply was cut at max_tokens
    # Every sample's text when the request asked for several (``texts[0]`` is ``text``);
    # a provider may return fewer than asked.
    texts: tuple[str, ...] = ()
    cached_tokens: int = 0  # prompt tokens the provider read from its cache (cheaper)

    @property
    def samples(self) -> tuple[str, ...]:
        return self.texts or (self.text,)


@dataclass(frozen=True)
class ModelEvent:
    """Progress of the models layer, for the interface (never printed by the layer itself)."""

    kind: str
    tier: str
    model: str
    text: str = ""
    purpose: str = ""
    delay_s: float = 0.0


@dataclass(frozen=True)
class Completion:
    """What a provider answered to one request, before swc prices and records it."""

    text: str
    prompt_tokens: int | None = None  # None: the provider reported none (swc counts)
    completion_tokens: int | None = None
    finish_reason: str = "stop"
    texts: tuple[str, ...] = ()  # every sample's text, when several were asked for
    cached_tokens: int | None = None  # prompt tokens served from the provider's cache
    cache_write_tokens: int | None = None  # prompt tokens written to it (Anthropic)


class Model(Protocol):
    """The seam to the providers: one request answered. ``ModelClient`` calls it (litellm
    by default) between holding the budget and recording the call, so a test can put a
    deterministic model here (``models.fake.FakeModel``) and keep the rest as it runs.

    ``purpose`` says what the request is for (tests, patch, patch-retry, plan, faq,
    route, judge, pick, brief). A model with ``takes_samples = True`` is also passed
    ``samples=N`` when N > 1 and answers with up to N texts in ``Completion.texts``."""

    def complete(
        self,
        spec: ModelSpec,
        messages: list[dict],
        *,
        purpose: str,
        temperature: float,
        max_tokens: int,
    ) -> Completion: ...
