"""Closing a run: its totals from the ledger, its report, its ledger row; and Ctrl-C.

Closing is done whole (a Ctrl-C meanwhile waits for it), so the ledger never keeps a run
as still running because it was interrupted while being recorded.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Interrupted
from ..interrupts import deferred_interrupts
from .types import RunResult

if TYPE_CHECKING:
    from ..models import Ledger, ModelClient


def interruption(branch: str | None) -> Interrupted:
    """Ctrl-C: after the branch exists it is reported; before, nothing was left."""
    if branch:
        return Interrupted(
            f"interrupted after the fix was committed: branch {branch} "
            f"holds it (look at it: git diff HEAD...{branch})"
        )
    return Interrupted("interrupted: worktrees removed, no branch was made")


def close_run(
    result: RunResult, ledger: Ledger, client: ModelClient, state_dir: Path
) -> tuple[RunResult, bool]:
    """Account, save the report and close the run in the ledger: the result with its
    totals and report, and True when Ctrl-C arrived meanwhile (it is delivered once the
    run is recorded, and reported by the caller)."""
    closed = result
    try:
        with deferred_interrupts():
            try:
                closed = replace(result, **totals(result, ledger, client))
                closed = finish(closed, ledger, state_dir)
            finally:
                ledger.close()
    except KeyboardInterrupt:
        return closed, True
    return closed, False


def totals(result: RunResult, ledger: Ledger, client: ModelClient) -> dict[str, Any]:
    """From the ledger: what was spent, what strong-only would have cost, the calls by
    tier; and the models layer's warnings."""
    calls = ledger.calls(result.run_id)
    strong = client.prices("strong")
    by_tier: dict[str, int] = {}
    for call in calls:
        by_tier[call["tier"]] = by_tier.get(call["tier"], 0) + 1
    cost = sum(c["cost_usd"] or 0.0 for c in calls)
    return {
        "calls": len(calls),
        "cost_usd": cost,
        "prompt_tokens": sum(c["prompt_tokens"] or 0 for c in calls),
        "completion_tokens": sum(c["completion_tokens"] or 0 for c in calls),
        "cached_tokens": sum(c["cached_tokens"] or 0 for c in calls),
        "cache_saving_usd": max(
            0.0, sum(c["uncached_cost_usd"] or c["cost_usd"] or 0.0 for c in calls) - cost
        ),
        # the same calls on the strong model, their cached tokens at its cache price
        "strong_only_cost_usd": sum(
            strong.cost(c["prompt_tokens"] or 0, c["completion_tokens"] or 0, c["cached_tokens"])
            for c in calls
        ),
        "calls_by_tier": by_tier,
        "warnings": [*result.warnings, *(w for w in client.warnings if w not in result.warnings)],
    }


def finish(result: RunResult, ledger: Ledger, state_dir: Path) -> RunResult:
    """The result with its saved report; the run closed in the ledger, which remembers
    the tests it found flaky."""
    from ..report import save_report

    try:
        result = replace(result, report_path=str(save_report(result, state_dir)))
    except OSError as exc:
        result = replace(result, warnings=[*result.warnings, f"could not save the report: {exc}"])
    from .flaky import ledger_rows

    ledger.remember_flaky(ledger_rows(result.flaky_tests, result.run_id, result.base_sha))
    ledger.finish_run(
        result.run_id,
        verdict=result.verdict,
        branch=result.branch,
        cost_usd=result.cost_usd,
        strong_only_cost_usd=result.strong_only_cost_usd,
        report_path=result.report_path,
        meta={
            "notes": result.notes,
            "winner_tier": result.winner.tier if result.winner else None,
            "attempts": len(result.attempts),
            "error": result.error,
            "route": result.route,
            "brief": result.brief,
            "winner_diff": result.winner.diff if result.winner else None,
            "task_text": result.task.text[:2000],
            "patch_path": result.patch_path,
        },
    )
    return result
