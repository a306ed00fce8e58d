"""How long to wait before trying a failed call again."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: ``base * factor**attempt`` seconds, capped.

    A provider's ``Retry-After`` is honoured but capped too, so one answer cannot stall a
    run for minutes; tests use a tiny ``base`` and ``cap`` to run fast.
    """

    base: float = 1.0
    factor: float = 2.0
    cap: float = 30.0
    retry_after_cap: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0 is the first)."""
        computed = min(self.cap, self.base * (self.factor**attempt))
        if retry_after is not None:
            return min(self.retry_after_cap, max(computed, retry_after))
        return computed


FAST_BACKOFF = Backoff(base=0.01, factor=2.0, cap=0.05, retry_after_cap=0.1)
