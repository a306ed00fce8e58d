"""The cascade engine: one function a stage, wired together in ``fix.run_fix``."""

from .types import (
    VERDICT_BUDGET,
    VERDICT_ERROR,
    VERDICT_FIXED,
    VERDICT_INTERRUPTED,
    VERDICT_NOT_FIXED,
    VERDICT_UNVERIFIED,
    Event,
    FixRequest,
    RunResult,
)

__all__ = [
    "VERDICT_BUDGET",
    "VERDICT_ERROR",
    "VERDICT_FIXED",
    "VERDICT_INTERRUPTED",
    "VERDICT_NOT_FIXED",
    "VERDICT_UNVERIFIED",
    "Event",
    "FixRequest",
    "RunResult",
]
