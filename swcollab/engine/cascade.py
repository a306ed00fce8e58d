"""The engine: Task -> Context -> TestPlan -> Attempts -> Verdict -> Branch + Report.

``run_fix`` reads top to bottom like the data flow. Each stage is a function of plain
data; results the engine reacts to (an edit that did not apply, a failing test) are
values, and what ends a run (budget spent, missing credentials, Ctrl-C) is an exception
that is recorded in the ledger before it leaves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..errors import BudgetExhausted, Interrupted, SwcError
from ..interrupts import PauseSeam, checkpoint
from .attempts import Previous, patch_context, patch_messages, run_candidate
from .branch import PendingBranch, make_branch
from .context import build_context, trim_for_small_model
from .intake import resolve_base, test_command_for
from .plan import Flow, flow_for, plan_tiers
from .preflight import Preflight
from .record import close_run, interrupted
from .stages import (
    pick_by_consistency,
    pick_by_strong_judge,
    route_task,
    write_guidance,
    write_repro_tests,
)
from .testplan import TestPlan
from .types import (
    VERDICT_BUDGET,
    VERDICT_ERROR,
    VERDICT_FIXED,
    VERDICT_NOT_FIXED,
    VERDICT_UNVERIFIED,
    Attempt,
    Context,
    Event,
    EventSink,
    FixRequest,
    RunResult,
    TierPlan,
)

if TYPE_CHECKING:
    from pathlib import Path

    from ..models import Budget, Ledger, ModelClient
    from ..sandbox import TestCommand, Worktree


def _ignore(_event: Event) -> None:
    return None


@dataclass
class _Run:
    """Mutable state of one run, threaded through the steps below."""

    request: FixRequest
    client: ModelClient
    ledger: Ledger
    budget: Budget
    result: RunResult
    on_event: EventSink
    flow: Flow
    preflight: Preflight
    plans: dict[str, TierPlan] = field(default_factory=dict)
    small: dict[str, bool] = field(default_factory=dict)
    # Tiers already asked for reproduction tests: asking again would repeat a paid call
    # with the same prompt (write_repro_tests already retried an unusable answer).
    test_writers: set[str] = field(default_factory=set)
    pending: PendingBranch | None = None  # the accepted change, before its branch

    @property
    def prompts_dir(self) -> str | None:
        return self.request.settings.prompts_dir


def run_fix(
    request: FixRequest, *, on_event: EventSink = _ignore, budget: Budget | None = None
) -> RunResult:
    """Run one fix end to end. Raises only what ends a run; the ledger has it either way.

    ``budget`` may be shared by several runs (``swc eval -j N``); by default each run has
    its own, of ``settings.budget``.
    """
    from ..models import Budget, Ledger, ModelClient
    from ..sandbox import prune_stale_worktrees

    started = time.monotonic()
    settings = request.settings
    root = request.repo.root
    base_sha = resolve_base(root, request.base)
    prune_stale_worktrees(root)
    ledger = Ledger.open(request.repo.state_dir)
    budget = budget if budget is not None else Budget(settings.budget)
    with ModelClient(settings, budget=budget) as probe:
        specs = probe.specs()
    # Credentials (and litellm's import) are checked while the work is prepared.
    preflight = Preflight(settings, budget)
    run_id = ledger.start_run(
        task=request.task.title, strategy=settings.strategy,
        tiers={name: spec.model for name, spec in specs.items()}, base=base_sha,
        meta={"kind": request.task.kind, "issue": request.task.issue_number},
    )
    client = ModelClient(settings, budget=budget, ledger=ledger, run_id=run_id,
                         on_event=None)
    result = RunResult(run_id, VERDICT_NOT_FIXED, request.task, settings.strategy, base_sha)

    seam = PauseSeam.from_environment()

    def emit(event: Event) -> None:
        checkpoint()  # every stage: a Ctrl-C that was swallowed somewhere still stops here
        on_event(replace(event, data={**event.data, "cost_usd": budget.spent}))
        if seam is not None:
            seam.reached(event.stage)

    flow = flow_for(settings.strategy, settings.tier_names)
    run = _Run(request, client, ledger, budget, result, emit, flow, preflight)
    pending: BaseException | None = None
    try:
        with client:
            _execute(run)
        _make_branch(run)
    except BudgetExhausted as exc:
        result.verdict = VERDICT_BUDGET
        result.error = exc.message
        pending = exc
    except (KeyboardInterrupt, Interrupted):
        pending = interrupted(result)
    except SwcError as exc:
        result.verdict = VERDICT_ERROR
        result.error = exc.message
        pending = exc
    except Exception as exc:  # a bug: still close the run in the ledger, then surface it
        result.verdict = VERDICT_ERROR
        result.error = f"internal error: {exc!r}"
        pending = exc
    finally:
        result.duration_s = time.monotonic() - started
        if close_run(result, ledger, client, request.repo.state_dir) and pending is None:
            pending = interrupted(result)  # Ctrl-C while the run was being recorded
    if pending is not None and result.verdict != VERDICT_BUDGET:
        raise pending
    return result


def _execute(run: _Run) -> None:
    from ..sandbox import OFF_WARNING, Isolation, Worktree, require_sandbox, sandbox_summary

    request, settings = run.request, run.request.settings
    isolation = Isolation.from_settings(settings)
    require_sandbox(isolation)  # before any money is spent: no sandbox, no run
    run.result.sandbox = sandbox_summary(isolation)
    if not isolation.sandbox:
        run.result.warnings.append(OFF_WARNING)
    with Worktree(request.repo.root, run.result.base_sha,
                  include_dirty=request.include_dirty) as base:
        run.result.warnings.extend(base.warnings)
        command = test_command_for(base.path, settings, checkout=request.repo.root)
        run.result.test_command = command.display
        _record_interpreter(run, command)
        run.on_event(Event("context", "building the repo map and context"))
        # Budgets are counted with the estimate, so the map never waits for litellm.
        context, warnings = build_context(
            base.path, request.task, map_tokens=settings.map_tokens,
            context_tokens=settings.context_tokens, state_dir=request.repo.state_dir,
            max_file_size=settings.max_file_size,
        )
        run.result.warnings.extend(warnings)
        plan = TestPlan(command, settings.test_timeout, isolation,
                        user_tests=request.task.user_tests,
                        test_change_mode=settings.test_changes, base_root=base.path)
        run.result.generated_tests = plan.generated
        run.result.discarded_tests = plan.discarded
        # before the first model call: tests that cannot run here must not cost anything
        _baseline(run, plan, base.path, context)
        run.preflight.wait()
        _plan(run)
        context = _with_brief_and_examples(run, context)
        _cascade(run, plan, base.path, context)


def _plan(run: _Run) -> None:
    """Candidates and tests per tier within the budget (prices need litellm: after the
    preflight)."""
    settings, client = run.request.settings, run.client
    specs = client.specs()
    for name in specs:
        run.small[name] = client.is_small(name)
    plans = plan_tiers(
        settings, settings.strategy,
        models={n: s.model for n, s in specs.items()},
        prices={n: client.price(n) for n in specs},
        small=run.small,
    )
    run.plans = {p.tier: p for p in plans}
    run.result.plan = plans
    run.on_event(Event("plan", "plan: " + ", ".join(
        f"{p.tier} {p.model}: {p.candidates} candidate(s), {p.tests} test(s), {p.edit_format}"
        for p in plans), data={"plan": [p.__dict__ for p in plans]}))


def _record_interpreter(run: _Run, command: TestCommand) -> None:
    """Which Python runs the tests and why, for the report; a warning when it is swc's."""
    python_env = command.python_env
    if python_env is None:
        return
    run.result.interpreter = python_env.as_dict()
    run.result.notes.extend(python_env.notes)
    if python_env.fallback:
        run.result.warnings.append(
            f"tests run with swc's own interpreter {python_env.python}: no environment of "
            "the project was found (see README, \"Which test command\")")


def _with_brief_and_examples(run: _Run, context: Context) -> Context:
    """Context add-ons for the weak tier: the repository brief and similar past fixes."""
    from ..brief import STALE_SHARE, load_brief, write_brief
    from .examples import find_examples

    request, settings = run.request, run.request.settings
    state_dir, root, base = request.repo.state_dir, request.repo.root, run.result.base_sha
    brief = load_brief(root, state_dir, base)
    if brief is not None and brief.source == "generated" and brief.stale_share >= STALE_SHARE:
        run.on_event(Event("brief", "the repository brief is stale: strong model rewrites it",
                           "strong"))
        brief = write_brief(client=run.client, root=root, state_dir=state_dir, commit=base,
                            run_id=run.result.run_id, prompts_dir=run.prompts_dir)
        run.result.notes.append("repository brief rewritten (its files changed)")
    if brief is not None:
        run.result.brief = f"{brief.source}:{brief.run_id or brief.commit[:12]}"
        context = replace(context, brief=brief.text)
    if settings.fewshot > 0:
        runs = run.ledger.runs(limit=500)
        examples = find_examples(root, request.task.text, base, settings.fewshot, runs)
        if examples:
            run.result.notes.append("few-shot examples: " + ", ".join(
                f"{e.source} {e.ref[:12]}" for e in examples))
            context = replace(context, examples=tuple(e.as_prompt() for e in examples))
    return context


def _baseline(run: _Run, plan: TestPlan, base_root: Path, context: Context) -> None:
    """What the tests say on the base; ends the run (exit 3) when they cannot run."""
    from .baseline import run_baseline

    run.result.user_tests = plan.user_tests
    warnings = run_baseline(plan, base_root, context.ranked_paths, run.on_event)
    run.result.existing_tests = plan.existing_files
    run.result.warnings.extend(warnings)


def _cascade(run: _Run, plan: TestPlan, base_root: Path, context: Context) -> None:
    if run.flow.picker:
        _best_of_n(run, plan, base_root, context)
        return
    order = [run.plans[t] for t in run.flow.tiers]
    guidance, guidance_title = _guidance(run, context)
    if run.flow.route:
        order = _routed(run, context, order)
    previous: Previous | None = None
    candidates: list[Attempt] = []
    for position, tier in enumerate(order):
        tier_context = trim_for_small_model(context) if run.small[tier.tier] else context
        if tier.tests:
            _write_tests(run, tier, plan, base_root, tier_context)
        if not plan.can_judge() and position + 1 < len(order):
            _borrow_tests(run, order[position + 1], plan, base_root, context)
        for index in range(1, tier.candidates + 1):
            attempt = _candidate(run, tier, index, plan, tier_context, guidance, guidance_title,
                                 previous)
            if attempt.accepted:
                return
            if attempt.applied and not attempt.regressions:
                candidates.append(attempt)
        best = _best(run.result.attempts)
        if best is not None:
            previous = Previous(best.diff or "(no change applied)", best.failure)
        run.on_event(Event("escalate", f"{tier.tier} tier did not pass the tests", tier.tier))
    if not plan.can_judge() and candidates:
        _judge(run, plan, candidates, context)
    elif run.request.keep_failed:
        best = _best(run.result.attempts)
        if best is not None and best.applied:
            _leave_branch(run, plan, best, suffix="-unverified")


def _best_of_n(run: _Run, plan: TestPlan, base_root: Path, context: Context) -> None:
    """The study's best-of-N: every candidate is drafted; the tests, when they can, say
    which pass; the picker tier chooses among those (or among all, unverified)."""
    tier = run.plans[run.flow.tiers[0]]
    tier_context = trim_for_small_model(context) if run.small[tier.tier] else context
    if tier.tests:
        _write_tests(run, tier, plan, base_root, tier_context)
    attempts = [_candidate(run, tier, index, plan, tier_context, "", "", None, settle=False)
                for index in range(1, tier.candidates + 1)]
    judged = plan.can_judge()
    pool = [a for a in attempts if (a.accepted if judged else a.applied and not a.regressions)]
    if not pool:
        if run.request.keep_failed and (best := _best(attempts)) is not None and best.applied:
            _leave_branch(run, plan, best, suffix="-unverified")
        return
    if len(pool) == 1:
        chosen, why = pool[0], "the only one left"
    else:
        run.on_event(Event("pick", f"{run.flow.picker} tier picks one of {len(pool)}",
                           run.flow.picker))
        chosen, why = pick_by_strong_judge(
            client=run.client, candidates=pool, task=run.request.task, context=context,
            prompts_dir=run.prompts_dir, passing=judged, tier=run.flow.picker or "strong")
    run.result.verdict = VERDICT_FIXED if judged else VERDICT_UNVERIFIED
    run.result.winner = chosen
    run.result.notes.append(
        f"best of {len(attempts)}: {len(pool)} candidate(s) "
        + ("passed the tests" if judged else "applied (no test could judge them)")
        + f"; candidate {chosen.index} chosen: {why}")
    if run.request.leave_branch:
        _leave_branch(run, plan, chosen, suffix="" if judged else "-unverified")


def _guidance(run: _Run, context: Context) -> tuple[str, str]:
    kind = run.flow.guidance
    if kind is None:
        return "", ""
    run.on_event(Event("guidance", f"strong model writes the {kind}", "strong"))
    text = write_guidance(client=run.client, kind=kind, task=run.request.task, context=context,
                          prompts_dir=run.prompts_dir)
    run.result.notes.append(f"{kind} by the strong model: {len(text)} characters")
    title = "Plan from a senior engineer" if kind == "plan" else "Questions and answers"
    return text, title


def _routed(run: _Run, context: Context, order: list[TierPlan]) -> list[TierPlan]:
    router = run.request.settings.router
    router_context = trim_for_small_model(context) if run.small[router] else context
    tier, reason = route_task(client=run.client, router=router, task=run.request.task,
                              context=router_context, prompts_dir=run.prompts_dir)
    if tier is None:
        run.result.route = "fallback"
        run.result.notes.append(f"route: {reason}")
        return order
    run.result.route = tier
    run.result.notes.append(f"route: {router} router sent the task to {tier}: {reason}")
    run.on_event(Event("route", f"router chose {tier}: {reason}", router))
    names = [p.tier for p in order]
    return order[names.index(tier):] if tier in names else order


def _write_tests(run: _Run, tier: TierPlan, plan: TestPlan, base_root: Path,
                 context: Context) -> None:
    if tier.tier in run.test_writers:
        return
    run.test_writers.add(tier.tier)
    write_repro_tests(client=run.client, tier=tier.tier, count=tier.tests,
                      task=run.request.task, context=context, plan=plan, base_root=base_root,
                      prompts_dir=run.prompts_dir, on_event=run.on_event,
                      small=run.small[tier.tier])


def _borrow_tests(run: _Run, helper: TierPlan, plan: TestPlan, base_root: Path,
                  context: Context) -> None:
    """No test of this tier fails on the base: the next tier writes them (tests are short)."""
    if helper.tier in run.test_writers:
        return
    run.test_writers.add(helper.tier)
    run.result.notes.append(f"no reproduction test survived; {helper.tier} tier wrote tests")
    helper_context = trim_for_small_model(context) if run.small[helper.tier] else context
    write_repro_tests(client=run.client, tier=helper.tier, count=max(helper.tests, 2),
                      task=run.request.task, context=helper_context, plan=plan,
                      base_root=base_root, prompts_dir=run.prompts_dir, on_event=run.on_event,
                      small=run.small[helper.tier])


def _candidate(run: _Run, tier: TierPlan, index: int, plan: TestPlan, context: Context,
               guidance: str, guidance_title: str, previous: Previous | None, *,
               settle: bool = True) -> Attempt:
    """Draft, apply and test one candidate; with ``settle``, an accepted one wins the run."""
    settings = run.request.settings
    run.on_event(Event("draft", f"candidate {index} of {tier.candidates}", tier.tier,
                       {"candidate": index, "of": tier.candidates}))
    context = patch_context(context, tier.tier)
    messages = patch_messages(
        edit_format=tier.edit_format, context=context, task_text=run.request.task.text,
        tests=plan.generated, guidance=guidance if tier.tier == "weak" else "",
        guidance_title=guidance_title, previous=previous, prompts_dir=run.prompts_dir,
        small=run.small[tier.tier], tier=tier.tier, test_change_mode=plan.test_change_mode,
        sample=(index, tier.candidates),
    )
    _remember_prompt(run, tier, messages, context)
    temperature = settings.tier(tier.tier).temperature if tier.candidates > 1 else 0.0
    attempt, worktree = run_candidate(
        client=run.client, tier=tier, index=index, repo_root=run.request.repo.root,
        base_sha=run.result.base_sha, include_dirty=run.request.include_dirty,
        context=context, plan=plan, messages=messages, temperature=temperature,
        prompts_dir=run.prompts_dir, on_event=run.on_event,
        allow_config_edits=settings.allow_config_edits,
    )
    try:
        run.result.attempts.append(attempt)
        run.on_event(Event("attempt", _attempt_line(attempt), tier.tier,
                           {"candidate": index, "passed": attempt.passed,
                            "required": attempt.required, "accepted": attempt.accepted}))
        if attempt.accepted and settle:
            run.result.verdict = VERDICT_FIXED
            run.result.winner = attempt
            if run.request.leave_branch:
                _commit_winner(run, plan, worktree)
    finally:
        worktree.remove()
    return attempt


def _remember_prompt(run: _Run, tier: TierPlan, messages: list[dict[str, str]],
                     context: Context) -> None:
    """The first patch prompt of the run, for ``swc runs show ID --context``."""
    from .preview import prompt_view, save_view

    if run.result.context_path is not None:
        return
    view = prompt_view(tier=tier.tier, model=tier.model, edit_format=tier.edit_format,
                       small=run.small[tier.tier], messages=messages, context=context,
                       tokens=run.client.estimate_tokens(tier.tier, messages))
    try:
        run.result.context_path = str(save_view(run.request.repo.state_dir,
                                                run.result.run_id, view))
    except OSError as exc:
        run.result.warnings.append(f"could not save the prompt's context: {exc}")


def _attempt_line(attempt: Attempt) -> str:
    if not attempt.applied:
        return f"candidate {attempt.index}: no usable edit"
    verdict = "passes" if attempt.accepted else "fails"
    return f"candidate {attempt.index}: {attempt.passed}/{attempt.required} tests pass, {verdict}"


def _best(attempts: list[Attempt]) -> Attempt | None:
    applied = [a for a in attempts if a.applied]
    pool = applied or attempts
    return max(pool, key=lambda a: (a.passed, -len(a.regressions)), default=None)


def _judge(run: _Run, plan: TestPlan, candidates: list[Attempt], context: Context) -> None:
    if run.request.settings.judge == "strong" and "strong" in run.plans:
        chosen, why = pick_by_strong_judge(client=run.client, candidates=candidates,
                                           task=run.request.task, context=context,
                                           prompts_dir=run.prompts_dir)
    else:
        chosen, why = pick_by_consistency(candidates)
    run.result.verdict = VERDICT_UNVERIFIED
    run.result.winner = chosen
    run.result.notes.append(
        "no test could judge the candidates (none written failed on the base); chosen by "
        + why
    )
    if run.request.leave_branch:
        _leave_branch(run, plan, chosen, suffix="-unverified")


def _branch_name(run: _Run, suffix: str = "") -> str:
    task = run.request.task
    part = f"issue-{task.issue_number}" if task.issue_number else task.slug
    return f"{run.request.branch_prefix}{part}{suffix}"


def _commit(run: _Run, plan: TestPlan, attempt: Attempt, base: str, branch: str) -> None:
    """Make the attempt's diff (and, unless --no-tests, the kept generated tests) a commit
    on ``base``, on no ref yet: ``_make_branch`` names it last, once every worktree is
    gone. Built from the diff alone, never from a worktree a test ran in, so the branch
    holds exactly what was judged and shown."""
    from ..gitout import commit_patch
    from ..report import commit_message

    tests = ({t.path: t.text for t in plan.generated if t.kept_ids}
             if run.request.include_tests else {})
    message = commit_message(run.result, run.budget.spent)
    try:
        commit, run.result.diff = commit_patch(run.request.repo.root, base, attempt.diff,
                                               tests, message=message)
    except (SwcError, ValueError, OSError) as exc:
        problem = exc.message if isinstance(exc, SwcError) else f"{type(exc).__name__}: {exc}"
        run.pending = PendingBranch(branch, None, attempt.diff, problem)
        return
    run.pending = PendingBranch(branch, commit)


def _make_branch(run: _Run) -> None:
    if run.pending is not None:
        make_branch(run.pending, repo_root=run.request.repo.root,
                    state_dir=run.request.repo.state_dir, result=run.result,
                    on_event=run.on_event)


def _commit_winner(run: _Run, plan: TestPlan, worktree: Worktree) -> None:
    assert run.result.winner is not None
    _commit(run, plan, run.result.winner, worktree.base_sha, _branch_name(run))


def _leave_branch(run: _Run, plan: TestPlan, attempt: Attempt, *, suffix: str) -> None:
    """Leave a chosen (not accepted) attempt on a branch, built from its diff."""
    from ..sandbox import work_base

    base, _warnings = work_base(run.request.repo.root, run.result.base_sha,
                                run.request.include_dirty)
    _commit(run, plan, attempt, base, _branch_name(run, suffix))


__all__ = ["VERDICT_ERROR", "resolve_base", "run_fix"]
