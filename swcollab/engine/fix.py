"""The engine: Task -> Context -> TestSuite -> Attempts -> Verdict -> Branch + Report.

``run_fix`` reads top to bottom like the data flow. Each stage is a function of plain
data that returns a value; the run keeps each value (``state.RunState``) and the result
is assembled from them in one place (``state.result_of``). Results the engine reacts to
(an edit that did not apply, a failing test) are values, and what ends a run (budget
spent, missing credentials, Ctrl-C) is an exception that is recorded in the ledger
before it leaves.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import BudgetExhausted, Interrupted, SwcError
from ..interrupts import PauseSeam, checkpoint, deferred_interrupts
from .branch import make_branch
from .context import Candidates, prepare_context, wanted_budgets, window_warnings, with_packs
from .intake import resolve_base, test_command_for
from .preflight import Preflight
from .record import close_run, interruption
from .state import Ending, RunState, Setup, result_of
from .strategies import walk_tiers
from .testsuite import TestSuite
from .tiers import (
    call_cost,
    first_prompt,
    plan_tiers,
    priced_budgets,
    promised_usd,
    walk_for,
)
from .types import (
    VERDICT_BUDGET,
    VERDICT_ERROR,
    VERDICT_INTERRUPTED,
    Context,
    Event,
    EventSink,
    FixRequest,
    RunResult,
)

if TYPE_CHECKING:
    from pathlib import Path

    from ..models import Budget, Model
    from ..sandbox import Isolation, TestRunner, Worktree


def _ignore(_event: Event) -> None:
    return None


def run_fix(
    request: FixRequest,
    *,
    on_event: EventSink = _ignore,
    budget: Budget | None = None,
    model: Model | None = None,
    test_runner: TestRunner | None = None,
) -> RunResult:
    """Run one fix end to end. Raises only what ends a run; the ledger has it either way.

    ``budget`` may be shared by several runs (``swc eval -j N``); by default each run has
    its own, of ``settings.budget``. ``model`` and ``test_runner`` replace the providers
    and the sandboxed test runs (tests of the engine: ``models.fake.FakeModel``).
    """
    from ..models import Budget

    started = time.monotonic()
    run = _start(request, on_event, budget or Budget(request.settings.budget), model)
    ending: Ending | None = None
    pending: BaseException | None = None
    try:
        with run.client:
            _execute(run, test_runner)
        _make_branch(run)
    except (KeyboardInterrupt, Exception) as exc:
        ending, pending = _ended_by(exc, run)
    finally:
        result = result_of(run, ending, time.monotonic() - started)
        result, cut = close_run(result, run.ledger, run.client, request.repo.state_dir)
        if cut and pending is None:  # Ctrl-C while the run was being recorded
            pending = interruption(result.branch)
            if not result.branch:
                result = replace(result, verdict=VERDICT_INTERRUPTED, error="interrupted")
    if pending is not None and result.verdict != VERDICT_BUDGET:
        raise pending
    return result


def _ended_by(exc: BaseException, run: RunState) -> tuple[Ending | None, BaseException]:
    """What ends a run early, for its result; and what to raise once it is recorded."""
    if isinstance(exc, (KeyboardInterrupt, Interrupted)):
        branch = run.branch.branch if run.branch else None
        ending = None if branch else Ending(VERDICT_INTERRUPTED, "interrupted")
        return ending, interruption(branch)
    if isinstance(exc, BudgetExhausted):
        return Ending(VERDICT_BUDGET, exc.message), exc
    if isinstance(exc, SwcError):
        return Ending(VERDICT_ERROR, exc.message), exc
    # a bug: still close the run in the ledger, then surface it
    return Ending(VERDICT_ERROR, f"internal error: {exc!r}"), exc


def _make_branch(run: RunState) -> None:
    """The branch from the pending commit, made and recorded whole (after the worktrees)."""
    if run.commit is None:
        return
    run.on_event(Event("commit", f"creating branch {run.commit.pending.branch}"))
    with deferred_interrupts():  # the branch and the record that it exists, whole
        run.branch = make_branch(
            run.commit.pending,
            repo_root=run.request.repo.root,
            state_dir=run.request.repo.state_dir,
            run_id=run.run_id,
            base_sha=run.base_sha,
            on_event=run.on_event,
        )


def _start(
    request: FixRequest, on_event: EventSink, budget: Budget, model: Model | None
) -> RunState:
    """The run's base, ledger row, model client and the credential check (started)."""
    from ..config import require_trust
    from ..models import Ledger, ModelClient
    from ..sandbox import prune_stale_worktrees

    settings = request.settings
    require_trust(settings)  # the CLI stopped already; callers of the engine stop here
    root = request.repo.root
    base_sha = resolve_base(root, request.base)
    prune_stale_worktrees(root)
    ledger = Ledger.open(request.repo.state_dir)
    with ModelClient(settings, budget=budget, model=model) as probe:
        specs = probe.specs()
    # Credentials (and litellm's import) are checked while the work is prepared.
    preflight = Preflight(settings, budget, model)
    run_id = ledger.start_run(
        task=request.task.title,
        strategy=settings.strategy,
        tiers={name: spec.model for name, spec in specs.items()},
        base=base_sha,
        meta={"kind": request.task.kind, "issue": request.task.issue_number},
    )
    client = ModelClient(
        settings, budget=budget, ledger=ledger, run_id=run_id, on_event=None, model=model
    )
    seam = PauseSeam.from_environment()

    def emit(event: Event) -> None:
        checkpoint()  # every stage: a Ctrl-C that was swallowed somewhere still stops here
        on_event(replace(event, data={**event.data, "cost_usd": budget.spent}))
        if seam is not None:
            seam.reached(event.stage)

    walk = walk_for(settings.strategy, settings.tier_names)
    return RunState(request, client, ledger, budget, run_id, base_sha, emit, walk, preflight)


def _execute(run: RunState, test_runner: TestRunner | None) -> None:
    from ..sandbox import OFF_WARNING, Isolation, Worktree, require_sandbox

    request, settings = run.request, run.request.settings
    isolation = Isolation.from_settings(settings)
    require_sandbox(isolation)  # before any money is spent: no sandbox, no run
    if not isolation.sandbox:
        run.warnings.append(OFF_WARNING)
    with Worktree(request.repo.root, run.base_sha, include_dirty=request.include_dirty) as base:
        run.warnings.extend(base.warnings)
        suite = _set_up(run, base, _with_cache(isolation, base), test_runner)
        run.on_event(Event("context", "building the repo map and context"))
        # Budgets are counted with the estimate, so the map never waits for litellm; the
        # code is packed for the tiers' priced budgets once the prices are known.
        prepared = prepare_context(
            base.path,
            request.task,
            map_tokens=settings.map_tokens,
            context_tokens=settings.context_tokens,
            state_dir=request.repo.state_dir,
            max_file_size=settings.max_file_size,
            other_budgets=wanted_budgets(settings, run.walk.tiers),
        )
        context = prepared.context
        run.warnings.extend(prepared.warnings)
        # before the first model call: tests that cannot run here must not cost anything
        suite = _baseline(run, suite, base.path, context)
        run.preflight.wait()
        context = _with_brief_and_examples(run, context)
        context = _plan(run, context, prepared.candidates)
        walk_tiers(run, suite, base.path, context)


def _with_cache(isolation: Isolation, base: Worktree) -> Isolation:
    """A cache directory for the run's test commands (cargo's target directory, Go's
    build cache), shared by its attempts and removed with the base worktree."""
    from ..sandbox.worktree import holder_of

    holder = holder_of(base.path)
    if holder is None:
        return isolation
    cache = holder / "cache"
    cache.mkdir(exist_ok=True)
    return replace(isolation, cache_dir=cache)


def _set_up(
    run: RunState, base: Worktree, isolation: Isolation, test_runner: TestRunner | None
) -> TestSuite:
    """The test command and interpreter (``Setup``) and the run's first test suite."""
    from ..ecosystems import ecosystem_of
    from ..sandbox import SandboxRunner, sandbox_summary
    from .flaky import flaky_tests_for

    request, settings = run.request, run.request.settings
    command = test_command_for(base.path, settings, checkout=request.repo.root)
    python_env = command.python_env
    run.setup = Setup(
        sandbox_summary(isolation),
        command.display,
        python_env.as_dict() if python_env is not None else {},
    )
    notes, warnings = ecosystem_of(command).setup_warnings(command)
    run.notes.extend(notes)
    run.warnings.extend(warnings)
    run.tests = TestSuite(
        command,
        settings.test_timeout,
        isolation,
        user_tests=request.task.user_tests,
        test_change_mode=settings.test_changes,
        base_root=base.path,
        runner=test_runner or SandboxRunner(),
        flaky=flaky_tests_for(settings.flaky_tests, run.ledger),
    )
    return run.tests


def _baseline(run: RunState, suite: TestSuite, base_root: Path, context: Context) -> TestSuite:
    """What the tests say on the base; ends the run (exit 3) when they cannot run."""
    from .baseline import run_baseline
    from .existing_tests import select_existing_tests

    existing = select_existing_tests(base_root, context, run.request.task.text)
    suite, warnings = run_baseline(suite, base_root, existing, run.on_event)
    run.tests = suite
    run.warnings.extend(warnings)
    return suite


def _plan(run: RunState, context: Context, candidates: Candidates) -> Context:
    """Candidates and tests per tier within what is left of the budget, each call costed
    as the budget will reserve it, and the code each tier is shown, priced (prices need
    litellm: after the preflight). Returns the context packed for those budgets."""
    from dataclasses import asdict

    settings, client = run.request.settings, run.client
    specs = client.specs()
    run.small = {name: client.is_small(name) for name in specs}
    task_text = run.request.task.text
    chosen, windows = priced_budgets(client, settings, run.walk.tiers)
    budgets = {t: b.tokens for t, b in chosen.items()}
    context = with_packs(context, candidates, budgets.values())
    run.warnings.extend(window_warnings(budgets, settings, windows))
    costs = {
        tier: call_cost(
            client,
            settings,
            run.walk,
            tier,
            first_prompt(settings, run.walk, tier, context, task_text, run.small[tier], budgets),
        )
        for tier in run.walk.tiers
    }
    plans = plan_tiers(
        settings,
        settings.strategy,
        models={n: s.model for n, s in specs.items()},
        costs=costs,
        small=run.small,
        budget=run.budget.remaining(),
        budgets=budgets,
    )
    plans = [replace(p, view=replace(p.view, context_why=chosen[p.tier].why)) for p in plans]
    run.plans = {p.tier: p for p in plans}
    left, needed = run.budget.remaining(), promised_usd(plans, run.walk)
    if left is not None and needed > left:
        enough = math.ceil((needed + settings.budget - left) * 100) / 100
        run.warnings.append(
            f"the plan's calls need up to ${needed:.4f} and the budget has ${left:.4f} "
            f"left: one may be refused before the last tier's turn ends (--budget "
            f"{enough:.2f} holds them all)"
        )
    shown = ", ".join(
        f"{p.tier} {p.model}: {p.candidates} candidate(s), {p.tests} test(s), {p.edit_format}, "
        f"code {p.view.context_tokens:,} tokens"
        for p in plans
    )
    run.on_event(Event("plan", f"plan: {shown}", data={"plan": [asdict(p) for p in plans]}))
    return context


def _with_brief_and_examples(run: RunState, context: Context) -> Context:
    """Context add-ons for the weak tier: the repository brief and similar past fixes."""
    from ..brief import STALE_SHARE, load_brief, write_brief
    from .examples import find_examples

    request, settings = run.request, run.request.settings
    state_dir, root, base = request.repo.state_dir, request.repo.root, run.base_sha
    brief = load_brief(root, state_dir, base)
    if brief is not None and brief.source == "generated" and brief.stale_share >= STALE_SHARE:
        run.on_event(
            Event("brief", "the repository brief is stale: strong model rewrites it", "strong")
        )
        brief = write_brief(
            client=run.client,
            root=root,
            state_dir=state_dir,
            commit=base,
            run_id=run.run_id,
            prompts_dir=run.prompts_dir,
        )
        run.notes.append("repository brief rewritten (its files changed)")
    if brief is not None:
        run.brief = f"{brief.source}:{brief.run_id or brief.commit[:12]}"
        context = replace(context, brief=brief.text)
    if settings.fewshot > 0:
        runs = run.ledger.runs(limit=500)
        examples = find_examples(root, request.task.text, base, settings.fewshot, runs)
        if examples:
            run.notes.append(
                "few-shot examples: " + ", ".join(f"{e.source} {e.ref[:12]}" for e in examples)
            )
            context = replace(context, examples=tuple(e.as_prompt() for e in examples))
    return context


__all__ = ["VERDICT_ERROR", "resolve_base", "run_fix"]
