"""The per-run budget: a call that could overrun what is left is refused before it is made.

What a call can cost is bounded by what the provider can *report*, not by what our
tokenizer counts. ``worst_case_tokens`` gives that bound; ``TokenRatios`` remembers, per
model, the largest reported-to-estimated ratio seen (in this run, in earlier runs through
the ledger, and across the runs of one ``swc eval``), so a provider that counts more than
our tokenizer raises every later reservation for its model.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from ..errors import BudgetExhausted

# Costs are sums of small floats; this absorbs rounding so an exact fit is not refused.
_EPSILON = 1e-12

# The reservation never assumes a provider counts fewer than RATIO_FLOOR times the prompt
# tokens we counted, whatever it reported before: tokenizers of real providers count
# within about 1.5x of tiktoken on code and prose, and the promise must hold even for a
# provider whose count jumps from one call to the next.
RATIO_FLOOR = 3.0
# A ratio seen above the floor is used with this headroom (the next prompt may differ).
SEEN_HEADROOM = 1.15
# Tokens a provider may add around the messages (role markers, chat template).
PROMPT_OVERHEAD_TOKENS = 16
TOKENS_PER_MESSAGE = 8


@dataclass(frozen=True)
class WorstCase:
    """The most prompt and completion tokens a provider could report for one call."""

    prompt_tokens: int
    completion_tokens: int

    def cost(self, prompt_price: float, completion_price: float) -> float:
        return self.prompt_tokens * prompt_price + self.completion_tokens * completion_price


def worst_case_tokens(
    *,
    estimate: int,
    prompt_bytes: int,
    messages: int,
    max_tokens: int,
    seen_prompt_ratio: float | None,
    seen_completion_ratio: float | None,
    context_window: int | None = None,
) -> WorstCase:
    """Bound what a provider can report for a call.

    See docs/guide/models.md, "The budget is never overrun".

    Prompt: with no history for the model, the larger of ``RATIO_FLOOR`` times our count
    and the prompt's UTF-8 bytes (every tokenizer in use, byte-level BPE or SentencePiece
    with byte fallback, spends at least one byte per token). With history, the larger of
    the floor and the largest ratio seen (with headroom). Either way a provider charges
    no prompt beyond its context window: it refuses longer ones.

    Completion: ``max_tokens`` is sent with the request and the provider stops there; a
    provider seen to report more has its overshoot applied to every later call.
    """
    fixed = PROMPT_OVERHEAD_TOKENS + TOKENS_PER_MESSAGE * messages
    scaled = math.ceil(max(estimate, 1) * RATIO_FLOOR)
    if seen_prompt_ratio is None:
        prompt = max(scaled, prompt_bytes) + fixed
    else:
        prompt = max(scaled, math.ceil(max(estimate, 1) * seen_prompt_ratio * SEEN_HEADROOM))
        prompt += fixed
    if context_window:
        prompt = min(prompt, context_window)
    completion = max_tokens
    if seen_completion_ratio is not None and seen_completion_ratio > 1.0:
        completion = math.ceil(max_tokens * seen_completion_ratio * SEEN_HEADROOM)
    return WorstCase(prompt, completion)


# A prompt as the budget sizes it: its messages, or (UTF-8 bytes, messages) of one to come.
PromptSize = list[dict] | tuple[int, int]


def message_bytes(messages: list[dict]) -> int:
    """The UTF-8 size of the messages' text (the prompt's bound with no history)."""
    return sum(len(str(m.get("content") or "").encode("utf-8", "replace")) for m in messages)


class TokenRatios:
    """Per model: the largest reported/estimated prompt ratio and reported/max_tokens ratio.

    Only ever raised, never lowered; shared by every run of one budget (``swc eval -j``).
    """

    def __init__(self) -> None:
        self._prompt: dict[str, float] = {}
        self._completion: dict[str, float] = {}
        self._lock = threading.Lock()

    def raise_to(
        self, model: str, *, prompt: float | None = None, completion: float | None = None
    ) -> None:
        with self._lock:
            if prompt is not None and math.isfinite(prompt) and prompt > 0:
                self._prompt[model] = max(prompt, self._prompt.get(model, 0.0))
            if completion is not None and math.isfinite(completion) and completion > 0:
                self._completion[model] = max(completion, self._completion.get(model, 0.0))

    def observe(
        self,
        model: str,
        *,
        reported_prompt: int,
        estimated_prompt: int,
        reported_completion: int,
        max_tokens: int,
    ) -> None:
        self.raise_to(
            model,
            prompt=reported_prompt / estimated_prompt if estimated_prompt > 0 else None,
            completion=reported_completion / max_tokens if max_tokens > 0 else None,
        )

    def prompt_ratio(self, model: str) -> float | None:
        with self._lock:
            return self._prompt.get(model)

    def completion_ratio(self, model: str) -> float | None:
        with self._lock:
            return self._completion.get(model)


class Budget:
    """Money one run may spend. ``None`` means unlimited.

    ``reserve`` holds the worst case of a call before it is made; ``settle`` replaces the
    hold with what the call really cost. Holding (not just checking) keeps the promise
    when several calls run at once.
    """

    def __init__(self, limit_usd: float | None, *, ratios: TokenRatios | None = None) -> None:
        if limit_usd is not None and not (0 <= limit_usd < math.inf):
            raise ValueError("a budget must be a finite number >= 0")
        self.limit = limit_usd
        self.spent = 0.0
        self.ratios = ratios if ratios is not None else TokenRatios()
        self._held = 0.0
        self._lock = threading.Lock()

    def remaining(self) -> float | None:
        if self.limit is None:
            return None
        with self._lock:
            return max(0.0, self.limit - self.spent - self._held)

    def reserve(self, worst_case_usd: float, what: str) -> None:
        """Hold ``worst_case_usd`` or raise ``BudgetExhausted`` without holding anything."""
        worst = max(0.0, worst_case_usd)
        with self._lock:
            if self.limit is not None and self.spent + self._held + worst > self.limit + _EPSILON:
                left = max(0.0, self.limit - self.spent - self._held)
                raise BudgetExhausted(
                    f"budget exhausted: {what} could cost up to ${worst:.4f} and only "
                    f"${left:.4f} of ${self.limit:.2f} is left",
                    spent=self.spent,
                    limit=self.limit,
                )
            self._held += worst

    def settle(self, reserved_usd: float, actual_usd: float) -> None:
        """Release a hold made by ``reserve`` and add what the call actually cost."""
        with self._lock:
            self._held = max(0.0, self._held - max(0.0, reserved_usd))
            self.spent += max(0.0, actual_usd)

    def __repr__(self) -> str:
        limit = "unlimited" if self.limit is None else f"${self.limit:.4f}"
        return f"Budget(spent=${self.spent:.4f}, limit={limit})"
