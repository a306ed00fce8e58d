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

Like an OpenAI-compatible provider, it answers a request for several samples (``n``) with
as many answers, each the next of its key (``takes_samples``; set it False to stand for a
provider without ``n``), and with ``caching`` it reports as cached the words a prompt
shares at its start with an earlier prompt of the same tier (automatic prefix caching).
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
    samples: int = 1  # answers asked for (n)

    @property
    def prompt(self) -> str:
        return "\n".join(str(m.get("content") or "") for m in self.messages)


class NoAnswer(LookupError):
    """The test gave the fake no answer for a purpose the engine asked for."""


class FakeModel:
    """Answers by purpose (and tier); keeps every call in ``calls``."""

    def __init__(
        self,
        answers: Mapping[str, str | Sequence[str]],
        *,
        takes_samples: bool = True,
        caching: bool = False,
    ) -> None:
        self.takes_samples = takes_samples
        self.caching = caching
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
        samples: int = 1,
    ) -> Completion:
        texts = [self.answer(spec.tier, purpose) for _ in range(max(1, samples))]
        earlier = [c.prompt.split() for c in self.calls if c.tier == spec.tier]
        call = FakeCall(
            spec.tier, purpose, tuple(dict(m) for m in messages), temperature, texts[0], samples
        )
        self.calls.append(call)
        words = call.prompt.split()
        completion = [min(len(t.split()), max_tokens) for t in texts]
        cut = any(len(t.split()) > max_tokens for t in texts)
        return Completion(
            texts[0],
            prompt_tokens=len(words),
            completion_tokens=sum(completion),
            finish_reason="length" if cut else "stop",
            texts=tuple(texts),
            cached_tokens=max((_shared_start(words, e) for e in earlier), default=0)
            if self.caching
            else None,
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


def _shared_start(words: list[str], earlier: list[str]) -> int:
    """How many words ``words`` shares with ``earlier`` at its start."""
    count = 0
    for mine, theirs in zip(words, earlier, strict=False):
        if mine != theirs:
            break
        count += 1
    return count
