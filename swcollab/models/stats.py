"""``swc stats``: what runs achieved and cost, and what strong-only runs would have cost."""

from __future__ import annotations

import sqlite3
from typing import Any

# One row a run: its verdict, what its calls cost, whether the strong tier answered, and
# what the same tokens would have cost at strong prices (the engine's figure if it gave
# one, else the sum over the calls).
_PER_RUN = """
    SELECT r.id, r.strategy, r.verdict,
        (SELECT COALESCE(SUM(c.cost_usd), 0) FROM calls c WHERE c.run_id = r.id) AS spend,
        (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id AND c.tier = 'strong'
            AND c.outcome != 'refused') AS strong_calls,
        COALESCE(r.strong_only_cost_usd,
            (SELECT SUM(c.strong_cost_usd) FROM calls c WHERE c.run_id = r.id)) AS strong_only,
        (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id) AS calls,
        (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id AND c.cost_known = 0
            AND c.outcome = 'ok') AS unpriced
    FROM runs r
"""


def summarise(rows: list[sqlite3.Row]) -> dict[str, Any]:
    runs = len(rows)
    finished = sum(1 for r in rows if r["verdict"] is not None)
    fixed = sum(1 for r in rows if r["verdict"] == "fixed")
    spend = sum(r["spend"] for r in rows)
    strong_runs = sum(1 for r in rows if r["strong_calls"])
    compared = [r for r in rows if r["strong_only"] is not None]
    strong_only = sum(r["strong_only"] for r in compared) if compared else None
    compared_spend = sum(r["spend"] for r in compared)
    saving = None if strong_only is None else strong_only - compared_spend
    return {
        "runs": runs,
        "finished": finished,
        "fixed": fixed,
        "fixed_pct": _pct(fixed, finished),
        "verdicts": _count_verdicts(rows),
        "calls": sum(r["calls"] for r in rows),
        "spend_usd": spend,
        "cost_per_fixed_usd": spend / fixed if fixed else None,
        "strong_runs": strong_runs,
        "strong_pct": _pct(strong_runs, runs),
        "strong_only_usd": strong_only,
        "saving_usd": saving,
        "saving_pct": _pct(saving, strong_only) if saving is not None else None,
        "unpriced_calls": sum(r["unpriced"] for r in rows),
    }


def _pct(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return 100.0 * part / whole


def _count_verdicts(rows: list[sqlite3.Row]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        verdict = row["verdict"] or "unfinished"
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def totals(db: sqlite3.Connection) -> dict[str, Any]:
    return summarise(db.execute(_PER_RUN).fetchall())


def strategy_rows(db: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = db.execute(_PER_RUN).fetchall()
    strategies = sorted({r["strategy"] for r in rows})
    return [{"strategy": name, **summarise([r for r in rows if r["strategy"] == name])}
            for name in strategies]


def model_rows(db: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = db.execute("""
        SELECT model, GROUP_CONCAT(DISTINCT tier) AS tiers, COUNT(*) AS calls,
            SUM(outcome = 'ok') AS ok, SUM(outcome = 'error') AS errors,
            SUM(outcome = 'refused') AS refused,
            SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
            SUM(cost_usd) AS spend_usd, AVG(CASE WHEN outcome = 'ok' THEN latency_s END)
                AS mean_latency_s,
            SUM(cost_known = 0 AND outcome = 'ok') AS unpriced_calls
        FROM calls GROUP BY model ORDER BY spend_usd DESC, model
    """).fetchall()
    return [dict(row) for row in rows]
