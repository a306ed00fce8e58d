"""``swc stats``: what runs achieved and cost, and what strong-only runs would have cost."""

from __future__ import annotations

import sqlite3
from typing import Any

# One row a run: its verdict, what its calls cost, whether the strong tier answered, and
# what the same tokens would have cost at strong prices (the engine's figure if it gave
# one, else the sum over the calls).
_PER_RUN = """
    SELECT r.id, r.strategy, r.verdict, r.meta,
        (SELECT COALESCE(SUM(c.cost_usd), 0) FROM calls c WHERE c.run_id = r.id) AS spend,
        (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id AND c.tier = 'strong'
            AND c.outcome != 'refused') AS strong_calls,
        COALESCE(r.strong_only_cost_usd,
            (SELECT SUM(c.strong_cost_usd) FROM calls c WHERE c.run_id = r.id)) AS strong_only,
        (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id) AS calls,
        (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id AND c.cost_known = 0
            AND c.outcome = 'ok') AS unpriced,
        (SELECT COALESCE(SUM(c.cached_tokens), 0) FROM calls c WHERE c.run_id = r.id)
            AS cached_tokens,
        (SELECT COALESCE(SUM(COALESCE(c.uncached_cost_usd, c.cost_usd) - c.cost_usd), 0)
            FROM calls c WHERE c.run_id = r.id) AS cache_saving
    FROM runs r
"""


BRIEF_STRATEGY = "brief"


def _per_run(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Fix runs, each charged its share of the repository brief it was shown.

    A brief is written once (a run of strategy "brief") and read by many runs: its cost is
    spread evenly over the runs that used it, so per-strategy figures include it once.
    """
    rows = [dict(r) for r in db.execute(_PER_RUN).fetchall()]
    briefs = {r["id"]: r["spend"] for r in rows if r["strategy"] == BRIEF_STRATEGY}
    runs = [r for r in rows if r["strategy"] != BRIEF_STRATEGY]
    users: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        run["meta"] = _meta(run.get("meta"))
        brief = str(run["meta"].get("brief") or "")
        brief_id = brief.partition(":")[2]
        if brief.startswith("generated:") and brief_id in briefs:
            users.setdefault(brief_id, []).append(run)
    for brief_id, using in users.items():
        share = briefs[brief_id] / len(using)
        for run in using:
            run["spend"] += share
            run["brief_share"] = share
    return runs


def _meta(raw: Any) -> dict[str, Any]:
    import json

    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def route_outcomes(rows: list[dict[str, Any]]) -> dict[str, int] | None:
    """What is measurable about routing: weak-routed runs the weak tier fixed, or not.

    Whether a strong-routed task would have been fixed by the weak tier is not known.
    """
    routed = [r for r in rows if r.get("meta", {}).get("route")]
    if not routed:
        return None
    outcome = {"weak_fixed_by_weak": 0, "weak_escalated": 0, "strong": 0, "fallback": 0}
    for run in routed:
        meta = run["meta"]
        if meta["route"] == "weak":
            fixed_by_weak = run["verdict"] == "fixed" and meta.get("winner_tier") == "weak"
            outcome["weak_fixed_by_weak" if fixed_by_weak else "weak_escalated"] += 1
        elif meta["route"] in outcome:
            outcome[meta["route"]] += 1
    return outcome


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
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
        # prompt tokens the providers' caches served, and what that took off the spend
        "cached_tokens": sum(r["cached_tokens"] for r in rows),
        "cache_saving_usd": sum(r["cache_saving"] for r in rows),
        "brief_cost_usd": sum(r.get("brief_share", 0.0) for r in rows),
        "routes": route_outcomes(rows),
    }


def _pct(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return 100.0 * part / whole


def _count_verdicts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        verdict = row["verdict"] or "unfinished"
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def totals(db: sqlite3.Connection) -> dict[str, Any]:
    return {**summarise(_per_run(db)), "prompt_ratios": prompt_ratios(db)}


def strategy_rows(db: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = _per_run(db)
    strategies = sorted({r["strategy"] for r in rows})
    return [
        {"strategy": name, **summarise([r for r in rows if r["strategy"] == name])}
        for name in strategies
    ]


def model_rows(db: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = db.execute(f"""
        SELECT model, GROUP_CONCAT(DISTINCT tier) AS tiers, COUNT(*) AS calls,
            SUM(outcome = 'ok') AS ok, SUM(outcome = 'error') AS errors,
            SUM(outcome = 'refused') AS refused,
            SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
            SUM(cached_tokens) AS cached_tokens,
            SUM(COALESCE(uncached_cost_usd, cost_usd) - cost_usd) AS cache_saving_usd,
            SUM(cost_usd) AS spend_usd, AVG(CASE WHEN outcome = 'ok' THEN latency_s END)
                AS mean_latency_s,
            SUM(cost_known = 0 AND outcome = 'ok') AS unpriced_calls,
            {_MAX_RATIO} AS max_prompt_ratio
        FROM calls GROUP BY model ORDER BY spend_usd DESC, model
    """).fetchall()
    return [dict(row) for row in rows]


# The largest provider-reported / swc-counted prompt tokens of a model's answered calls:
# what its next reservation is scaled by when above the floor (see models/budget.py).
_MAX_RATIO = """MAX(CASE WHEN outcome = 'ok' AND prompt_estimate > 0
    THEN ROUND(CAST(prompt_tokens AS REAL) / prompt_estimate, 3) END)"""


def prompt_ratios(db: sqlite3.Connection) -> dict[str, float]:
    """Model -> largest reported/estimated prompt-token ratio (models with history only)."""
    rows = db.execute(
        f"SELECT model, {_MAX_RATIO} AS ratio FROM calls GROUP BY model ORDER BY model"
    ).fetchall()
    return {row["model"]: row["ratio"] for row in rows if row["ratio"] is not None}
