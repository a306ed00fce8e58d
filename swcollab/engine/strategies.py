"""How a strategy walks its tiers: write tests, draft candidates, escalate, judge, pick.

Each tier works from its ``TierPlan``: how many candidates and tests, and what its
prompt shows (``TierPlan.view``). The walk ends with a ``Decision`` on the run and,
when a branch is wanted, a ``Commit`` of the chosen attempt.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import SwcError
from .attempts import (
    Draft,
    Previous,
    may_change_tests,
    patch_messages,
    run_candidate,
    tier_context,
)
from .branch import PendingBranch
from .context import trim_for_small_model
from .guidance import route_task, write_guidance
from .picking import pick_by_consistency, pick_by_strong_judge
from .repro_tests import write_repro_tests
from .sampling import SamplePool
from .state import Commit, Decision, RunState, result_of
from .types import (
    VERDICT_FIXED,
    VERDICT_UNVERIFIED,
    Attempt,
    Context,
    Event,
    TierPlan,
)

if TYPE_CHECKING:
    from pathlib import Path

    from .testsuite import TestSuite

GUIDANCE_TITLES = {"plan": "Plan from a senior engineer", "faq": "Questions and answers"}


def walk_tiers(run: RunState, suite: TestSuite, base_root: Path, context: Context) -> None:
    """The cascade (and strategies built on it): each tier drafts until one candidate
    passes; when no test can judge, the applied candidates are judged or voted on."""
    if run.walk.picker:
        _best_of_n(run, suite, base_root, context)
        return
    order = [run.plans[t] for t in run.walk.tiers]
    guidance = _guidance(run, context)
    if run.walk.route:
        order = _routed(run, context, order)
    previous: Previous | None = None
    candidates: list[Attempt] = []
    for position, tier in enumerate(order):
        if _writes_tests(run, tier, position, suite):
            suite = _write_tests(run, tier, suite, base_root, context)
        if not suite.can_judge() and position + 1 < len(order):
            suite = _write_tests(run, order[position + 1], suite, base_root, context, borrowed=True)
        pool = SamplePool.for_tier(run.client, tier.tier, tier.candidates)
        for index in range(1, tier.candidates + 1):
            attempt = _candidate(
                run,
                tier,
                index,
                suite,
                context,
                guidance,
                previous if tier.view.previous else None,
                pool=pool,
            )
            if attempt.accepted:
                return
            if attempt.applied and not attempt.regressions:
                candidates.append(attempt)
        best = best_attempt(run.attempts)
        if best is not None:
            previous = Previous(best.diff or "(no change applied)", best.failure)
        run.on_event(Event("escalate", f"{tier.tier} tier did not pass the tests", tier.tier))
    if not suite.can_judge() and candidates:
        _judge(run, suite, candidates, context)
    elif run.request.keep_failed:
        best = best_attempt(run.attempts)
        if best is not None and best.applied:
            _leave_branch(run, suite, best, suffix="-unverified")


def _writes_tests(run: RunState, tier: TierPlan, position: int, suite: TestSuite) -> bool:
    """Whether ``tier`` writes reproduction tests at its turn: the first tier does; a later
    one only when the tests so far cannot judge (its prompt would repeat, at its price,
    tests that already fail on the base and that its candidates must pass anyway), or when
    the configuration sets its ``tests``."""
    if not tier.tests:
        return False
    if position == 0 or not suite.can_judge():
        return True
    return run.request.settings.tier(tier.tier).tests is not None


def _best_of_n(run: RunState, suite: TestSuite, base_root: Path, context: Context) -> None:
    """The study's best-of-N: every candidate is drafted; the tests, when they can, say
    which pass; the picker tier chooses among those (or among all, unverified)."""
    tier = run.plans[run.walk.tiers[0]]
    if tier.tests:
        suite = _write_tests(run, tier, suite, base_root, context)
    pool = SamplePool.for_tier(run.client, tier.tier, tier.candidates)
    attempts = [
        _candidate(run, tier, index, suite, context, None, None, settle=False, pool=pool)
        for index in range(1, tier.candidates + 1)
    ]
    judged = suite.can_judge()
    pool = [a for a in attempts if (a.accepted if judged else a.applied and not a.regressions)]
    if not pool:
        if (
            run.request.keep_failed
            and (best := best_attempt(attempts)) is not None
            and best.applied
        ):
            _leave_branch(run, suite, best, suffix="-unverified")
        return
    if len(pool) == 1:
        chosen, why = pool[0], "the only one left"
    else:
        picker = run.walk.picker or "strong"
        run.on_event(Event("pick", f"{picker} tier picks one of {len(pool)}", picker))
        chosen, why = pick_by_strong_judge(
            client=run.client,
            candidates=pool,
            task=run.request.task,
            context=seen_by(run, picker, context),
            prompts_dir=run.prompts_dir,
            passing=judged,
            tier=picker,
        )
    run.decision = Decision(VERDICT_FIXED if judged else VERDICT_UNVERIFIED, chosen)
    run.notes.append(
        f"best of {len(attempts)}: {len(pool)} candidate(s) "
        + ("passed the tests" if judged else "applied (no test could judge them)")
        + f"; candidate {chosen.index} chosen: {why}"
    )
    if run.request.leave_branch:
        _leave_branch(run, suite, chosen, suffix="" if judged else "-unverified")


def _guidance(run: RunState, context: Context) -> tuple[str, str] | None:
    """The strong model's plan or FAQ (strategies ``suite`` and ``faq``): (text, title)."""
    kind = run.walk.guidance
    if kind is None:
        return None
    run.on_event(Event("guidance", f"strong model writes the {kind}", "strong"))
    text = write_guidance(
        client=run.client,
        kind=kind,
        task=run.request.task,
        context=seen_by(run, "strong", context),
        prompts_dir=run.prompts_dir,
    )
    run.notes.append(f"{kind} by the strong model: {len(text)} characters")
    return text, GUIDANCE_TITLES[kind]


def _routed(run: RunState, context: Context, order: list[TierPlan]) -> list[TierPlan]:
    router = run.request.settings.router
    router_context = seen_by(run, router, context)
    tier, reason = route_task(
        client=run.client,
        router=router,
        task=run.request.task,
        context=router_context,
        prompts_dir=run.prompts_dir,
    )
    if tier is None:
        run.route = "fallback"
        run.notes.append(f"route: {reason}")
        return order
    run.route = tier
    run.notes.append(f"route: {router} router sent the task to {tier}: {reason}")
    run.on_event(Event("route", f"router chose {tier}: {reason}", router))
    names = [p.tier for p in order]
    return order[names.index(tier) :] if tier in names else order


def seen_by(run: RunState, tier: str, context: Context) -> Context:
    """The context as ``tier`` sees it in its patch prompts (``tier_context``), so its
    other requests (tests, plan, route, judge) start with the same prefix and a provider's
    prompt cache serves it; a tier with no plan (a best-of-n picker) sees it whole, a tiny
    model its trimmed cut."""
    plan = run.plans.get(tier)
    if plan is not None:
        return tier_context(context, plan.view)
    return trim_for_small_model(context) if run.small.get(tier) else context


def _write_tests(
    run: RunState,
    tier: TierPlan,
    suite: TestSuite,
    base_root: Path,
    context: Context,
    *,
    borrowed: bool = False,
) -> TestSuite:
    """``tier``'s reproduction tests added to ``suite`` (once a tier). ``borrowed``: no
    test of the tier before survived, so this one writes them (tests are short)."""
    if tier.tier in run.test_writers:
        return suite
    run.test_writers.add(tier.tier)
    if borrowed:
        run.notes.append(f"no reproduction test survived; {tier.tier} tier wrote tests")
    suite = write_repro_tests(
        client=run.client,
        tier=tier.tier,
        count=max(tier.tests, 2) if borrowed else tier.tests,
        task=run.request.task,
        context=tier_context(context, tier.view),
        suite=suite,
        base_root=base_root,
        prompts_dir=run.prompts_dir,
        on_event=run.on_event,
        small=run.small[tier.tier],
    )
    run.tests = suite
    return suite


def _candidate(
    run: RunState,
    tier: TierPlan,
    index: int,
    suite: TestSuite,
    context: Context,
    guidance: tuple[str, str] | None,
    previous: Previous | None,
    *,
    settle: bool = True,
    pool: SamplePool | None = None,
) -> Attempt:
    """Draft, apply and test one candidate; with ``settle``, an accepted one wins the run.
    ``pool``: the tier's answers (one request with n samples where the provider allows)."""
    from ..sandbox import Worktree

    request = run.request
    run.on_event(
        Event(
            "draft",
            f"candidate {index} of {tier.candidates}",
            tier.tier,
            {"candidate": index, "of": tier.candidates},
        )
    )
    draft = _draft(run, tier, index, suite, tier_context(context, tier.view), guidance, previous)
    draft = replace(draft, pool=pool)
    # every candidate of the run at one path (one after the other): build caches keyed
    # by a package's directory (Go's) serve the next candidate too
    worktree = Worktree(
        request.repo.root,
        run.base_sha,
        include_dirty=request.include_dirty,
        name=f"{run.run_id}-attempt",
    )
    try:
        attempt = run_candidate(
            client=run.client,
            draft=draft,
            worktree=worktree,
            suite=suite,
            prompts_dir=run.prompts_dir,
            on_event=run.on_event,
        )
        run.attempts.append(attempt)
        run.on_event(Event("attempt", _attempt_line(attempt), tier.tier, _attempt_data(attempt)))
        if attempt.accepted and settle:
            run.decision = Decision(VERDICT_FIXED, attempt)
            if request.leave_branch:
                _commit(run, suite, attempt, worktree.base_sha, _branch_name(run))
    finally:
        worktree.remove()
    return attempt


def _draft(
    run: RunState,
    tier: TierPlan,
    index: int,
    suite: TestSuite,
    context: Context,
    guidance: tuple[str, str] | None,
    previous: Previous | None,
) -> Draft:
    """One candidate's patch request, as ``tier`` sees the task (``context`` is its view)."""
    small = run.small[tier.tier]
    messages = patch_messages(
        edit_format=tier.edit_format,
        context=context,
        task_text=run.request.task.text,
        tests=suite.generated,
        guidance=guidance if tier.view.guidance else None,
        previous=previous,
        prompts_dir=run.prompts_dir,
        small=small,
        may_change_tests=may_change_tests(suite.test_change_mode, tier.tier, small),
        # one prompt for all samples, or each request told apart after the shared part
        sample=(1, 1) if _together(run, tier) else (index, tier.candidates),
    )
    _remember_prompt(run, tier, messages, context)
    settings = run.request.settings
    temperature = settings.tier(tier.tier).temperature if tier.candidates > 1 else 0.0
    files = tuple(f.path for f in context.files)
    return Draft(
        tier,
        index,
        messages,
        temperature,
        files,
        settings.allow_config_edits,
        settings.allow_code_hook_edits,
    )


def _together(run: RunState, tier: TierPlan) -> bool:
    """Whether ``tier``'s candidates come from one request with n samples."""
    return tier.candidates > 1 and run.client.takes_samples(tier.tier)


def _attempt_data(attempt: Attempt) -> dict[str, object]:
    return {
        "candidate": attempt.index,
        "passed": attempt.passed,
        "required": attempt.required,
        "accepted": attempt.accepted,
    }


def _remember_prompt(
    run: RunState, tier: TierPlan, messages: list[dict[str, str]], context: Context
) -> None:
    """The first patch prompt of the run, for ``swc runs show ID --context``."""
    from .context import CodeBudget
    from .preview import prompt_view, save_view, shown_budget

    if run.context_path is not None:
        return
    view = prompt_view(
        tier=tier.tier,
        model=tier.model,
        edit_format=tier.edit_format,
        small=run.small[tier.tier],
        messages=messages,
        context=context,
        tokens=run.client.estimate_tokens(tier.tier, messages),
        code_budget=CodeBudget(
            shown_budget(run.request.settings, tier.view.context_tokens, run.small[tier.tier]),
            tier.view.context_why,
        ),
    )
    try:
        run.context_path = str(save_view(run.request.repo.state_dir, run.run_id, view))
    except OSError as exc:
        run.warnings.append(f"could not save the prompt's context: {exc}")


def _attempt_line(attempt: Attempt) -> str:
    if not attempt.applied:
        return f"candidate {attempt.index}: no usable edit"
    verdict = "passes" if attempt.accepted else "fails"
    return f"candidate {attempt.index}: {attempt.passed}/{attempt.required} tests pass, {verdict}"


def best_attempt(attempts: list[Attempt]) -> Attempt | None:
    """The attempt that came closest: applied, most tests passed, fewest regressions."""
    applied = [a for a in attempts if a.applied]
    pool = applied or attempts
    return max(pool, key=lambda a: (a.passed, -len(a.regressions)), default=None)


def _judge(run: RunState, suite: TestSuite, candidates: list[Attempt], context: Context) -> None:
    if run.request.settings.judge == "strong" and "strong" in run.plans:
        chosen, why = pick_by_strong_judge(
            client=run.client,
            candidates=candidates,
            task=run.request.task,
            context=seen_by(run, "strong", context),
            prompts_dir=run.prompts_dir,
        )
    else:
        chosen, why = pick_by_consistency(candidates)
    run.decision = Decision(VERDICT_UNVERIFIED, chosen)
    run.notes.append(
        "no test could judge the candidates (none written failed on the base); chosen by " + why
    )
    if run.request.leave_branch:
        _leave_branch(run, suite, chosen, suffix="-unverified")


def _branch_name(run: RunState, suffix: str = "") -> str:
    task = run.request.task
    part = f"issue-{task.issue_number}" if task.issue_number else task.slug
    return f"{run.request.branch_prefix}{part}{suffix}"


def _commit(run: RunState, suite: TestSuite, attempt: Attempt, base: str, branch: str) -> None:
    """Make the attempt's diff (and, unless --no-tests, the kept generated tests) a commit
    on ``base``, on no ref yet: the branch is named last, once every worktree is gone.
    Built from the diff alone, never from a worktree a test ran in, so the branch holds
    exactly what was judged and shown."""
    from ..gitout import commit_patch
    from ..report import commit_message

    kept = [t for t in suite.generated if t.kept_ids] if run.request.include_tests else []
    tests = {t.path: t.text for t in kept}
    appends: dict[str, list[str]] = {}
    for file, line in (pair for t in kept for pair in t.attach):
        appends.setdefault(file, []).append(line)  # the test's `mod` line in its crate
    message = commit_message(result_of(run), run.budget.spent)
    try:
        commit, diff = commit_patch(
            run.request.repo.root, base, attempt.diff, tests, message=message, appends=appends
        )
    except (SwcError, ValueError, OSError) as exc:
        problem = exc.message if isinstance(exc, SwcError) else f"{type(exc).__name__}: {exc}"
        run.commit = Commit(PendingBranch(branch, None, attempt.diff, problem, attempt.diff))
        return
    run.commit = Commit(PendingBranch(branch, commit, winner_diff=attempt.diff), diff)


def _leave_branch(run: RunState, suite: TestSuite, attempt: Attempt, *, suffix: str) -> None:
    """Leave a chosen (not accepted) attempt on a branch, built from its diff."""
    from ..sandbox import work_base

    base, _warnings = work_base(run.request.repo.root, run.base_sha, run.request.include_dirty)
    _commit(run, suite, attempt, base, _branch_name(run, suffix))
