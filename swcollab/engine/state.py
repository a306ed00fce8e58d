"""What a run has so far: each stage's returned value, kept as it returns it; and the one
place that turns them into the ``RunResult`` (``result_of``).

A run can end at any stage (budget spent, Ctrl-C, a test command that cannot run), so
the result is assembled from whatever the stages have returned by then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .types import (
    VERDICT_NOT_FIXED,
    Attempt,
    EventSink,
    FixRequest,
    RunResult,
    TierPlan,
)

if TYPE_CHECKING:
    from ..models import Budget, Ledger, ModelClient
    from .branch import BranchOutcome, PendingBranch
    from .preflight import Preflight
    from .testsuite import TestSuite
    from .tiers import TierWalk


@dataclass(frozen=True)
class Setup:
    """Where the run's tests run: the sandbox, the command, the interpreter."""

    sandbox: dict[str, Any]
    test_command: str
    interpreter: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """The run's verdict and the attempt it chose (None: no attempt was good enough)."""

    verdict: str
    winner: Attempt | None = None


@dataclass(frozen=True)
class Ending:
    """What ended a run early (budget, error): its verdict and message for the report."""

    verdict: str
    error: str


@dataclass(frozen=True)
class Commit:
    """The chosen attempt made a commit on no ref (or why not), and the diff it holds."""

    pending: PendingBranch
    diff: str = ""


@dataclass
class RunState:
    """One run's inputs, its collaborators, and each stage's value once it has one."""

    request: FixRequest
    client: ModelClient
    ledger: Ledger
    budget: Budget
    run_id: str
    base_sha: str
    on_event: EventSink
    walk: TierWalk
    preflight: Preflight
    setup: Setup | None = None
    tests: TestSuite | None = None  # the latest test suite (each stage returns a new one)
    plans: dict[str, TierPlan] = field(default_factory=dict)
    small: dict[str, bool] = field(default_factory=dict)
    brief: str | None = None  # which brief the weak tier saw
    route: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    decision: Decision | None = None
    commit: Commit | None = None
    branch: BranchOutcome | None = None
    context_path: str | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Tiers already asked for reproduction tests: asking again would repeat a paid call
    # with the same prompt (write_repro_tests already retried an unusable answer).
    test_writers: set[str] = field(default_factory=set)

    @property
    def prompts_dir(self) -> str | None:
        return self.request.settings.prompts_dir


def result_of(run: RunState, ending: Ending | None = None, duration_s: float = 0.0) -> RunResult:
    """The run's result from what its stages returned (lists copied: never shared)."""
    request, tests, setup = run.request, run.tests, run.setup
    decision = run.decision or Decision(VERDICT_NOT_FIXED)
    branch = run.branch
    return RunResult(
        run.run_id,
        ending.verdict if ending else decision.verdict,
        request.task,
        request.settings.strategy,
        run.base_sha,
        plan=list(run.plans.values()),
        attempts=list(run.attempts),
        generated_tests=list(tests.generated) if tests else [],
        discarded_tests=list(tests.discarded) if tests else [],
        existing_tests=tests.existing_files if tests else (),
        user_tests=tests.user_tests if tests else (),
        test_command=setup.test_command if setup else "",
        branch=branch.branch if branch else None,
        winner=decision.winner,
        notes=list(run.notes),
        warnings=[*run.warnings, *(branch.warnings if branch else ())],
        duration_s=duration_s,
        error=ending.error if ending else branch.error if branch else None,
        route=run.route,
        brief=run.brief,
        diff=run.commit.diff if run.commit else "",
        sandbox=dict(setup.sandbox) if setup else {},
        context_path=run.context_path,
        interpreter=dict(setup.interpreter) if setup else {},
        patch_path=branch.patch_path if branch else None,
        saved_diff=branch.saved_diff if branch else "",
        flaky_tests=tests.flaky.in_run(tests.baseline_pass) if tests and tests.flaky else [],
    )
