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


class Model(Protocol):
    """The seam to the providers: one request answered. ``ModelClient`` calls it (litellm
    by default) between holding the budget and recording the call, so a test can put a
    deterministic model here (``models.fake.FakeModel``) and keep the rest as it runs.

    ``purpose`` says what the request is for (tests, patch, patch-retry, plan, faq,
    route, judge, pick, brief)."""

    def complete(
        self,
        spec: ModelSpec,
        messages: list[dict],
        *,
        purpose: str,
        temperature: float,
        max_tokens: int,
    ) -> Completion: ...
