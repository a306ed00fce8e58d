"""A tier's candidate answers: the prompt paid for once where the provider allows it.

A tier's k candidates are drafted from one prompt. Where the provider returns several
samples of one prompt (``n``, ``ModelClient.takes_samples``), the first candidate's turn
asks for all k in one request: the prompt is billed once and each sample only for its
reply. Elsewhere each candidate is its own request, made only when the candidate's turn
comes (a tier stops at the first candidate that passes), its prompt told apart by the
candidate's index at the end, after the shared prefix a provider's cache serves. When the
budget left cannot hold all the samples' replies, the candidate is asked for alone.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import BudgetExhausted

if TYPE_CHECKING:
    from ..models import ModelClient
    from ..models.types import Reply


@dataclass
class SamplePool:
    """Answers of one tier's patch prompt, handed out one candidate at a time."""

    tier: str
    candidates: int
    together: bool  # one request with n samples (else one request per candidate)
    answers: deque[str] = field(default_factory=deque)
    requests: int = 0

    @classmethod
    def for_tier(cls, client: ModelClient, tier: str, candidates: int) -> SamplePool:
        return cls(tier, candidates, candidates > 1 and client.takes_samples(tier))

    def take(
        self, client: ModelClient, messages: list[dict], index: int, temperature: float
    ) -> str:
        """Candidate ``index``'s answer: from an earlier request's samples, or asked for
        now (with the samples every later candidate will take, when ``together``)."""
        if not self.answers:
            wanted = self.candidates - index + 1 if self.together else 1
            try:
                reply = self._ask(client, messages, temperature, wanted)
            except BudgetExhausted:
                if wanted <= 1:
                    raise
                # what is left holds one reply, not all of them: this candidate alone
                reply = self._ask(client, messages, temperature, 1)
            # A provider may return fewer samples than asked: the next turn asks again.
            self.answers.extend(reply.samples)
        return self.answers.popleft()

    def _ask(
        self, client: ModelClient, messages: list[dict], temperature: float, samples: int
    ) -> Reply:
        reply = client.complete(
            self.tier, messages, purpose="patch", temperature=temperature, samples=samples
        )
        self.requests += 1
        return reply
