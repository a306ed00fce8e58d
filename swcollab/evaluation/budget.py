"""One run's budget inside the eval's: both caps hold, and the eval can stop every run.

Every model call of a run reserves its worst case on the run's own budget (the per-task
cap, ``settings.budget``) and on the eval's shared one (``--budget``), so no number of
parallel workers can overrun either. When the eval's budget refuses a call, or the eval
is stopping (Ctrl-C), the next call of every run is refused and the runs end cleanly.
"""

from __future__ import annotations

import threading

from ..errors import BudgetExhausted, Interrupted
from ..models import Budget


class EvalControl:
    """What the workers share: the eval's budget and its stop flags."""

    def __init__(self, limit_usd: float | None) -> None:
        self.budget = Budget(limit_usd)
        self.budget_out = threading.Event()  # no new run is started once set
        self.stopping = threading.Event()  # Ctrl-C: in-flight runs end at their next call

    @property
    def halted(self) -> bool:
        return self.budget_out.is_set() or self.stopping.is_set()


class RunBudget(Budget):
    """The per-run cap, also charged to the eval's shared budget."""

    def __init__(self, limit_usd: float | None, control: EvalControl) -> None:
        # one book of token ratios for the whole eval: what one run learnt about a
        # provider's counting protects every later run's reservations
        super().__init__(limit_usd, ratios=control.budget.ratios)
        self.control = control
        self.hit_eval_cap = False

    def reserve(self, worst_case_usd: float, what: str) -> None:
        if self.control.stopping.is_set():
            raise Interrupted("the eval is stopping")
        super().reserve(worst_case_usd, what)
        try:
            self.control.budget.reserve(worst_case_usd, what)
        except BudgetExhausted as exc:
            super().settle(worst_case_usd, 0.0)  # give back the run's own hold
            self.hit_eval_cap = True
            self.control.budget_out.set()
            raise BudgetExhausted(
                "the eval's budget is spent: " + exc.message, spent=exc.spent, limit=exc.limit
            ) from None

    def settle(self, reserved_usd: float, actual_usd: float) -> None:
        super().settle(reserved_usd, actual_usd)
        self.control.budget.settle(reserved_usd, actual_usd)
