"""A deterministic model for tests of the engine: it answers by the request's purpose.

``FakeModel`` stands where the providers stand (``ModelClient(model=...)``,
``run_fix(model=...)``), so the budget, the ledger and every stage run as they do for a
user, in-process and without a network. It never reads the prompt to decide what to
answer: rewording a template cannot change which answer a test gets.

Answers are keyed by purpose (``tests``, ``patch``, ``plan``, ``faq``, ``route``,
``judge``, ``pick``, ``brief``), optionally for one tier (``"strong:patch"``). A key
holds one answer or a list consumed in order whose last item repeats. A retry after a
malformed edit (``patch-retry``) takes the next ``patch`` answer. Token counts are the
words of the prompt and of the answer, so costs can be recomputed in a test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .types import Completion, ModelSpec

PURPOSES = ("tests", "patch", "plan", "faq", "route", "judge", "pick", "brief")
# purposes answered from another purpose's answers
SAME_AS = {"patch-retry": "patch"}


@dataclass(frozen=True)
class FakeCall:
    """One request the fake answered: which tier, what for, what it was shown."""

    tier: str
    purpose: str
    messages: tuple[dict, ...]
    temperature: float
    answer: str

    @property
    def prompt(self) -> str:
        return "\n".join(str(m.get("content") or "") for m in self.messages)


class NoAnswer(LookupError):
    """The test gave the fake no answer for a purpose the engine asked for."""


class FakeModel:
    """Answers by purpose (and tier); keeps every call in ``calls``."""

    def __init__(self, answers: Mapping[str, str | Sequence[str]]) -> None:
        self._answers: dict[str, list[str]] = {}
        for key, value in answers.items():
            purpose = key.rpartition(":")[2]
            if purpose not in PURPOSES:
                raise ValueError(f"FakeModel: unknown purpose {purpose!r} in {key!r}")
            items = [value] if isinstance(value, str) else list(value)
            if not items:
                raise ValueError(f"FakeModel: no answer in {key!r}")
            self._answers[key] = items
        self.calls: list[FakeCall] = []

    def answer(self, tier: str, purpose: str) -> str:
        """The next answer for ``purpose`` asked of ``tier`` (tier-specific first)."""
        wanted = SAME_AS.get(purpose, purpose)
        for key in (f"{tier}:{wanted}", wanted):
            items = self._answers.get(key)
            if items:
                return items.pop(0) if len(items) > 1 else items[0]
        raise NoAnswer(f"FakeModel has no answer for {tier}:{wanted}")

    def complete(
        self,
        spec: ModelSpec,
        messages: list[dict],
        *,
        purpose: str,
        temperature: float,
        max_tokens: int,
    ) -> Completion:
        text = self.answer(spec.tier, purpose)
        call = FakeCall(spec.tier, purpose, tuple(dict(m) for m in messages), temperature, text)
        self.calls.append(call)
        completion = len(text.split())
        cut = completion > max_tokens
        return Completion(
            text,
            prompt_tokens=len(call.prompt.split()),
            completion_tokens=min(completion, max_tokens),
            finish_reason="length" if cut else "stop",
        )

    def count(self, tier: str | None = None, purpose: str | None = None) -> int:
        """How many calls were made (of ``tier``, for ``purpose``)."""
        return sum(
            1
            for c in self.calls
            if (tier is None or c.tier == tier) and (purpose is None or c.purpose == purpose)
        )

    def asked(self) -> list[tuple[str, str]]:
        """(tier, purpose) of every call, in order."""
        return [(c.tier, c.purpose) for c in self.calls]
