"""Budget planning and the order of tiers for each strategy.

The rule (documented in docs/guide/models.md, "Budget planning"): before the run, cost
each tier's calls by the rule the budget holds by (``models.plan_costs.call_costs``, for
a prompt the size of the tier's first patch prompt and what later ones carry): what the
budget holds before a call, and what stays spent after it. Keep free the largest hold's
excess over its charge, so the last call the plan counts still finds its worst case free:
the plan promises no call the budget then refuses. Reserve the strong tier's share
first: its test-writing call plus one candidate (two under the ``strong`` strategy), each
with one edit retry. What is left buys weak candidates, up to ``MAX_WEAK_CANDIDATES``; at
least one candidate per tier always. Free tiers (local models, unknown prices) get the
default counts. Counts set in the configuration win.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..config import Settings
from .context import PROMPT_OVERHEAD_TOKENS, CodeBudget, code_budgets
from .types import Context, TierPlan, TierView

if TYPE_CHECKING:
    from ..models import ModelClient

MAX_WEAK_CANDIDATES = 4
MIN_BEST_OF_N = 2
DEFAULT_WEAK_CANDIDATES = 3
DEFAULT_STRONG_CANDIDATES = 1
DEFAULT_WEAK_TESTS = 3
DEFAULT_STRONG_TESTS = 2
# With no prompt to measure (``swc eval``'s estimate of a run), a full prompt is the map
# and context budgets, this many tokens more, and this many bytes a token (more than code
# and English prose take with tiktoken).
PLANNED_BYTES_PER_TOKEN = 4
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


@dataclass(frozen=True)
class CallCost:
    """One call of a tier, in USD: what the budget holds before it is made (its worst
    case), and what the plan counts as spent after it."""

    held: float
    charged: float


def call_cost(
    client: ModelClient, settings: Settings, walk: TierWalk, tier: str, first: list[dict[str, str]]
) -> CallCost:
    """``tier``'s calls costed by the budget's own rule (``plan_costs.call_costs``) for a
    prompt the size of its first patch prompt, grown by what later prompts carry: one
    reply of the tier (its tests, or its failed answer on a retry) and, after the first
    tier, one reply of the tier before (its attempt)."""
    from ..models.budget import message_bytes
    from ..models.plan_costs import call_costs

    position = walk.tiers.index(tier)
    growth = settings.tier(tier).max_tokens
    if position > 0:
        growth += settings.tier(walk.tiers[position - 1]).max_tokens
    tokens = client.estimate_tokens(tier, first)
    grown = tokens + growth
    held, charged = call_costs(
        client,
        tier,
        prompt_tokens=grown,
        prompt_bytes=message_bytes(first) * grown // max(tokens, 1),
        messages=len(first),
    )
    return CallCost(held, charged)


def priced_budgets(
    client: ModelClient, settings: Settings, tiers: tuple[str, ...] | list[str]
) -> tuple[dict[str, CodeBudget], dict[str, int | None]]:
    """The code each of ``tiers`` is shown, chosen from the models' prices and windows
    (``context.code_budgets``: needs litellm), and the windows it was chosen with."""
    windows = {t: client.window(t) for t in tiers}
    prices = {}
    for tier in {*tiers, settings.tier_names[-1]}:
        known = client.prices(tier)
        prices[tier] = known.prompt if known.known else None
    return code_budgets(settings, tiers, windows, prices), windows


def first_prompt(
    settings: Settings,
    walk: TierWalk,
    tier: str,
    context: Context,
    task_text: str,
    small: bool,
    budgets: Mapping[str, int] | None = None,
) -> list[dict[str, str]]:
    """``tier``'s first patch prompt, as the run will build it (before any test is written)."""
    from .attempts import may_change_tests, patch_messages, tier_context

    view = tier_view(tier, walk.tiers.index(tier), walk, small=small, budgets=budgets)
    return patch_messages(
        edit_format=settings.tier(tier).edit_format or ("whole" if small else "search-replace"),
        context=tier_context(context, view),
        task_text=task_text,
        tests=(),
        prompts_dir=settings.prompts_dir,
        small=small,
        may_change_tests=may_change_tests(settings.test_changes, tier, small),
    )


def full_prompt_cost(
    client: ModelClient, settings: Settings, tier: str, context_tokens: int = 0
) -> CallCost:
    """``call_cost`` for a prompt filled to the map and the tier's code budget
    (``context_tokens``, or the run's), when there is no prompt to measure yet."""
    from ..models.plan_costs import call_costs

    code = context_tokens or settings.context_tokens
    tokens = settings.map_tokens + code + PROMPT_OVERHEAD_TOKENS
    held, charged = call_costs(
        client, tier, prompt_tokens=tokens, prompt_bytes=tokens * PLANNED_BYTES_PER_TOKEN
    )
    return CallCost(held, charged)


def plan_tiers(
    settings: Settings,
    strategy: str,
    *,
    models: dict[str, str],
    costs: dict[str, CallCost],
    small: dict[str, bool],
    budget: float | None = None,
    budgets: Mapping[str, int] | None = None,
) -> list[TierPlan]:
    """k candidates and m tests per tier, within ``budget`` (default: the settings').

    ``costs``: each tier's cost of one call (``call_cost``). Every call must find its
    worst case free when it is made: after the calls before it (what they charged), so
    the calls' charges must leave the largest hold's excess over its charge. ``budgets``:
    the tokens of code each tier is shown (default: ``context_tokens``)."""
    walk = walk_for(strategy, settings.tier_names)
    per_call = {t: costs[t].charged for t in walk.tiers}
    headroom = max(costs[t].held - costs[t].charged for t in walk.tiers)
    remaining = (settings.budget if budget is None else budget) - headroom
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
    return _tier_plans(settings, walk, counts, models, costs, small, budgets)


def _tier_plans(
    settings: Settings,
    walk: TierWalk,
    counts: Mapping[str, tuple[int, int]],
    models: Mapping[str, str],
    costs: Mapping[str, CallCost],
    small: Mapping[str, bool],
    budgets: Mapping[str, int] | None,
) -> list[TierPlan]:
    """Each tier's plan in walking order, from its counts (candidates, tests)."""
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
                costs[tier_name].held,
                tier_view(tier_name, position, walk, small=small[tier_name], budgets=budgets),
                costs[tier_name].charged,
            )
        )
    return plans


def promised_usd(plans: list[TierPlan], walk: TierWalk) -> float:
    """What the plan's calls need free in the budget: every call's charge, and the largest
    hold's excess over its charge (the last call still finds its worst case free)."""
    if not plans:
        return 0.0
    charges = sum(
        p.call_usd
        * (
            (TEST_CALLS_PER_TIER if p.tier in walk.test_writers else 0)
            + CALLS_PER_CANDIDATE * p.candidates
        )
        for p in plans
    )
    return charges + max(p.worst_case_call_usd - p.call_usd for p in plans)


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
