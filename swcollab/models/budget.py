"""The per-run budget: a call that could overrun what is left is refused before it is made."""

from __future__ import annotations

import threading

from ..errors import BudgetExhausted

# Costs are sums of small floats; this absorbs rounding so an exact fit is not refused.
_EPSILON = 1e-12


class Budget:
    """Money one run may spend. ``None`` means unlimited.

    ``reserve`` holds the worst case of a call before it is made; ``settle`` replaces the
    hold with what the call really cost. Holding (not just checking) keeps the promise
    when several calls run at once.
    """

    def __init__(self, limit_usd: float | None) -> None:
        if limit_usd is not None and limit_usd < 0:
            raise ValueError("a budget cannot be negative")
        self.limit = limit_usd
        self.spent = 0.0
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
