"""Budget planning and the order of tiers for each strategy.

The rule (documented in docs/guide/models.md, "Budget planning"): before the run,
estimate each tier's worst-case cost per call (a full prompt plus ``max_tokens`` of output
at the tier's prices). Reserve the strong tier's share first: its test-writing call plus
one candidate (two under the ``strong`` strategy), each with one edit retry. What is left
buys weak candidates, up to ``MAX_WEAK_CANDIDATES``; at least one candidate per tier
always. Free tiers (local models, unknown prices) get the default counts. Counts set in
the configuration win.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..config import Settings
from .types import TierPlan, TierView

MAX_WEAK_CANDIDATES = 4
MIN_BEST_OF_N = 2
DEFAULT_WEAK_CANDIDATES = 3
DEFAULT_STRONG_CANDIDATES = 1
DEFAULT_WEAK_TESTS = 3
DEFAULT_STRONG_TESTS = 2
PROMPT_OVERHEAD_TOKENS = 1500
CALLS_PER_CANDIDATE = 2  # the draft and, at worst, one retry after a malformed edit
TEST_CALLS_PER_TIER = 2  # test writing and its one retry


@dataclass(frozen=True)
class TierWalk:
    """How a strategy walks the tiers."""

    tiers: tuple[str, ...]  # drafting order
    test_writers: tuple[str, ...]  # tiers that write reproduction tests
    guidance: str | None = None  # "plan" or "faq": strong writes guidance for weak
    route: bool = False
    picker: str | None = None  # best-of-n: the tier that picks among all drafted candidates


def walk_for(strategy: str, order: tuple[str, ...] = ("weak", "strong")) -> TierWalk:
    """The tiers a strategy walks; ``order`` is the configured cascade (``tier_order``)."""
    if strategy in ("weak", "strong"):
        return TierWalk((strategy,), (strategy,))
    if strategy == "strong-first":
        return TierWalk(("strong", "weak"), ("strong",))
    if strategy == "best-of-n":
        return TierWalk((order[0],), (order[0],), picker=order[-1])
    guidance = strategy if strategy in ("plan", "faq") else None
    return TierWalk(tuple(order), tuple(order), guidance=guidance, route=strategy == "route")


def call_cost(
    settings: Settings, prices: tuple[float, float], context_tokens: int = 0, *, tier: str
) -> float:
    """A call's worst case: a full prompt (the tier's code budget, ``context_tokens``, or
    the run's) and a full reply of the tier's ``max_tokens``."""
    code = context_tokens or settings.context_tokens
    prompt_tokens = settings.map_tokens + code + PROMPT_OVERHEAD_TOKENS
    return prices[0] * prompt_tokens + prices[1] * settings.tier(tier).max_tokens


def plan_tiers(
    settings: Settings,
    strategy: str,
    *,
    models: dict[str, str],
    prices: dict[str, tuple[float, float]],
    small: dict[str, bool],
    budgets: Mapping[str, int] | None = None,
) -> list[TierPlan]:
    """k candidates and m tests per tier, within ``settings.budget``; ``budgets``: the
    tokens of code each tier is shown (default: ``context_tokens``)."""
    walk = walk_for(strategy, settings.tier_names)
    budgets = budgets or {}
    per_call = {t: call_cost(settings, prices[t], budgets.get(t, 0), tier=t) for t in walk.tiers}
    remaining = settings.budget
    counts: dict[str, tuple[int, int]] = {}
    # The strong tier's share is reserved first, middle tiers next; weak takes what is left.
    for tier_name in sorted(walk.tiers, key=lambda t: (t == "weak", t != "strong")):
        tier = settings.tier(tier_name)
        writes = tier_name in walk.test_writers
        tests = tier.tests or (
            (DEFAULT_WEAK_TESTS if tier_name == "weak" else DEFAULT_STRONG_TESTS) if writes else 0
        )
        if tier.candidates:
            k = tier.candidates
        elif tier_name != "weak":  # strong, and middle tiers of a longer cascade
            k = 2 if strategy == "strong" else DEFAULT_STRONG_CANDIDATES
        elif per_call[tier_name] <= 0:
            k = DEFAULT_WEAK_CANDIDATES
        else:
            test_cost = TEST_CALLS_PER_TIER * per_call[tier_name] if writes else 0.0
            affordable = int((remaining - test_cost) // (CALLS_PER_CANDIDATE * per_call[tier_name]))
            k = max(1, min(MAX_WEAK_CANDIDATES, affordable))
        test_calls = TEST_CALLS_PER_TIER if writes else 0
        remaining -= per_call[tier_name] * (test_calls + CALLS_PER_CANDIDATE * k)
        if walk.picker and not tier.candidates:
            k = max(k, MIN_BEST_OF_N)  # one candidate leaves nothing to pick from
        counts[tier_name] = (k, tests if writes else 0)
    plans = []
    for position, tier_name in enumerate(walk.tiers):
        tier = settings.tier(tier_name)
        edit_format = tier.edit_format or ("whole" if small[tier_name] else "search-replace")
        k, m = counts[tier_name]
        plans.append(
            TierPlan(
                tier_name,
                models[tier_name],
                k,
                m,
                edit_format,
                per_call[tier_name],
                tier_view(tier_name, position, walk, small=small[tier_name], budgets=budgets),
            )
        )
    return plans


def tier_view(
    tier: str,
    position: int,
    walk: TierWalk,
    *,
    small: bool,
    budgets: Mapping[str, int] | None = None,
) -> TierView:
    """What ``tier``'s patch prompt shows: the brief and the examples are there for the
    cheaper tiers (not the strong one), the strong model's guidance for the weak tier
    only, the previous tier's attempt for every tier after the first, and a tiny model
    sees the best spans of one file instead of every file; the code is packed for the
    tier's ``budgets`` entry (none: the run's ``context_tokens``)."""
    return TierView(
        brief=tier != "strong",
        examples=tier != "strong",
        guidance=walk.guidance is not None and tier == "weak",
        previous=position > 0,
        trimmed=small,
        context_tokens=(budgets or {}).get(tier, 0),
    )
