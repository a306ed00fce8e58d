"""What an eval runs: (strategy, model pair) combinations, shards, and the worst case cost."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..config import SOURCE_REPO, STRATEGIES, Settings, TierSettings
from ..errors import UsageError
from .tasks import EvalTask

UNUSED = "-"  # a tier the strategy never calls: not part of what identifies the run


@dataclass(frozen=True)
class Pair:
    weak: str
    strong: str


@dataclass(frozen=True)
class Combination:
    strategy: str
    pair: Pair

    @property
    def weak_key(self) -> str:
        return UNUSED if self.strategy == "strong" else self.pair.weak

    @property
    def strong_key(self) -> str:
        return UNUSED if self.strategy == "weak" else self.pair.strong

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.strategy, self.weak_key, self.strong_key)

    @property
    def label(self) -> str:
        return combo_label(*self.key)

    def settings_for(self, settings: Settings) -> Settings:
        """The user's settings with this strategy and these two models."""
        return replace(
            settings,
            strategy=self.strategy,
            weak=_with_model(settings, settings.weak, self.pair.weak),
            strong=_with_model(settings, settings.strong, self.pair.strong),
        )


def _with_model(settings: Settings, tier: TierSettings, model: str) -> TierSettings:
    """``tier`` with ``model``; a model other than the configured one (``--pairs``) is the
    user's choice: it is not sent to the repository file's server nor with the key that
    file names."""
    if model == tier.model:
        return tier
    from_repo = [
        a
        for a in ("api_base", "api_key_env")
        if settings.sources.get(f"{tier.name}.{a}") == SOURCE_REPO
    ]
    return replace(tier, model=model, **dict.fromkeys(from_repo))


def combo_label(strategy: str, weak: str, strong: str) -> str:
    return f"{strategy} ({weak}, {strong})"


def parse_strategies(text: str | None) -> list[str]:
    if not text:
        return ["cascade", "weak", "strong"]
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in STRATEGIES]
    if unknown:
        raise UsageError(
            f"--strategies: unknown strategy {unknown[0]!r}",
            hint="Choose from " + ", ".join(STRATEGIES) + ".",
        )
    return list(dict.fromkeys(names))


def parse_pair(text: str) -> Pair:
    """``weak=MODEL,strong=MODEL`` (either may be left out: the configured model is used)."""
    parts: dict[str, str] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in ("weak", "strong") or not value.strip():
            raise UsageError(f"--pairs {text!r}: expected weak=MODEL,strong=MODEL")
        parts[name] = value.strip()
    return Pair(parts.get("weak", ""), parts.get("strong", ""))


def combinations(strategies: list[str], pairs: list[Pair], settings: Settings) -> list[Combination]:
    """Every strategy with every pair; runs that would be identical are kept once."""
    default = Pair(settings.weak.model or "", settings.strong.model or "")
    filled = [Pair(p.weak or default.weak, p.strong or default.strong) for p in pairs]
    if not filled:
        filled = [default]
    for pair in filled:
        if not pair.weak or not pair.strong:
            raise UsageError(
                "the eval needs a weak and a strong model",
                hint="Pass --pairs weak=MODEL,strong=MODEL or set weak.model "
                "and strong.model (swc config show).",
            )
    seen: dict[tuple[str, str, str], Combination] = {}
    for pair in filled:
        for strategy in strategies:
            combo = Combination(strategy, pair)
            seen.setdefault(combo.key, combo)
    return list(seen.values())


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i, n = 0, 0
    if not sep or n < 1 or not 1 <= i <= n:
        raise UsageError(f"--shard {text!r}: expected I/N with 1 <= I <= N, e.g. 2/4")
    return i, n


def shard(tasks: list[EvalTask], spec: tuple[int, int] | None) -> list[EvalTask]:
    """Shard I of N: every N-th task of the list sorted by id, starting at the I-th."""
    ordered = sorted(tasks, key=lambda t: t.instance_id)
    if spec is None:
        return ordered
    index, count = spec
    return [t for position, t in enumerate(ordered) if position % count == index - 1]


def worst_case_run_usd(settings: Settings) -> float:
    """Most one run of ``settings`` can spend: the plan's calls at full size, within budget.

    The engine refuses any call that could overrun ``settings.budget``, so that caps it.
    """
    from ..engine.tiers import (
        CALLS_PER_CANDIDATE,
        TEST_CALLS_PER_TIER,
        full_prompt_cost,
        plan_tiers,
        priced_budgets,
        walk_for,
    )
    from ..models import Budget, ModelClient

    walk = walk_for(settings.strategy, settings.tier_names)
    with ModelClient(settings, budget=Budget(None)) as client:
        names = settings.tier_names
        chosen, _windows = priced_budgets(client, settings, names)
        budgets = {n: b.tokens for n, b in chosen.items()}
        plans = plan_tiers(
            settings,
            settings.strategy,
            models={n: client.spec(n).model for n in names},
            costs={n: full_prompt_cost(client, settings, n, budgets[n]) for n in names},
            small={n: client.is_small(n) for n in names},
            budgets=budgets,
        )
        pick = 0.0  # best-of-n: the picker's one call
        if walk.picker:
            pick = full_prompt_cost(client, settings, walk.picker).held
    total = pick
    for plan in plans:
        test_calls = TEST_CALLS_PER_TIER * 2  # its own tests, and at worst another tier's
        total += plan.worst_case_call_usd * (test_calls + CALLS_PER_CANDIDATE * plan.candidates)
    strong = next((p for p in plans if p.tier == "strong"), None)
    if strong is not None and (walk.guidance or walk.route or settings.judge == "strong"):
        total += strong.worst_case_call_usd * 2  # guidance or router, and the judge
    return min(total, settings.budget)
