"""The plain data that flows between the engine's stages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import Settings
from ..gitrepo import RepoPaths
from ..task import Task

VERDICT_FIXED = "fixed"
VERDICT_NOT_FIXED = "not_fixed"
VERDICT_UNVERIFIED = "unverified"
VERDICT_BUDGET = "budget_exhausted"
VERDICT_INTERRUPTED = "interrupted"
VERDICT_ERROR = "error"

KIND_REPRO = "repro"
KIND_USER = "user"
KIND_EXISTING = "existing"
KIND_CHANGED = "changed"  # an existing test the candidate changed (TEST CHANGE)
KIND_FLAKY = "flaky"  # an existing test found flaky: run, shown, never required


@dataclass(frozen=True)
class Event:
    """Progress for the interface: ``stage`` is coarse (context, tests, draft, verdict)."""

    stage: str
    message: str
    tier: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[Event], None]


@dataclass(frozen=True)
class FixRequest:
    task: Task
    repo: RepoPaths
    settings: Settings
    base: str = "HEAD"
    include_dirty: bool = False
    keep_failed: bool = False
    include_tests: bool = True
    branch_prefix: str = "swc/"
    leave_branch: bool = True  # eval keeps results as diffs only


@dataclass(frozen=True)
class ContextFile:
    """One file as the model sees it: whole, or spans with line numbers and ``…``."""

    path: str
    language: str
    text: str  # as shown (a file shown in part carries the line-number gutter)
    ranges: tuple[tuple[int, int], ...] = ()  # 1-based inclusive line runs shown
    whole: bool = True
    total_lines: int = 0
    tokens: int = 0  # estimated
    numbered: bool = False  # the text carries the line-number gutter


@dataclass(frozen=True)
class Context:
    repo_map: str
    files: tuple[ContextFile, ...]
    ranked_paths: tuple[str, ...]
    test_output: str = ""
    brief: str = ""
    examples: tuple[dict[str, str], ...] = ()
    # What a tiny local model is shown instead of ``files``: the best span(s) of one file.
    small_files: tuple[ContextFile, ...] = ()
    # The code packed for other budgets (a tier's own ``context_tokens``), by budget.
    packs: tuple[tuple[int, tuple[ContextFile, ...]], ...] = ()

    def files_for(self, budget: int) -> tuple[ContextFile, ...]:
        """The code packed for ``budget`` tokens (``files`` when it was not packed)."""
        return dict(self.packs).get(budget, self.files)


@dataclass(frozen=True)
class GeneratedTest:
    path: str
    text: str
    language: str
    tier: str
    kept_ids: tuple[str, ...]
    # (file, line) that must be in a file for the test to be compiled (Rust: ``mod x;``)
    attach: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DiscardedTest:
    tier: str
    test_id: str
    reason: str


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class

    test_id: str
    kind: str  # repro | user | existing | changed | flaky
    status: str  # passed | failed | error | skipped | missing
    required: bool  # repro and user tests must pass; existing only if they passed on base


@dataclass(frozen=True)
class TestChange:
    """An existing test a candidate changed, declared with ``TEST CHANGE: reason``.

    ``test`` is the test's id (``path::Class::test``), or the path when the file changed
    as a whole (configuration, a non-Python test file); ``old``/``new`` are the assertion
    lines it lost and gained, for a reviewer."""

    __test__ = False

    path: str
    test: str
    kind: str  # modified | added | removed | renamed | config
    reason: str
    tier: str
    old: tuple[str, ...] = ()
    new: tuple[str, ...] = ()
    renamed_from: str = ""  # the test's former id, for kind "renamed"


@dataclass(frozen=True)
class Attempt:
    tier: str
    index: int
    model: str
    applied: bool
    edit_error: str
    diff: str
    outcomes: tuple[TestOutcome, ...]
    accepted: bool
    failure: str  # clipped test output or the edit error, for the next tier
    changed_files: tuple[str, ...] = ()
    test_changes: tuple[TestChange, ...] = ()  # declared, allowed and kept
    reverted_tests: tuple[str, ...] = ()  # test edits put back, each with why
    limit_hit: str = ""  # the sandbox's resource limit its tests hit, named for the user
    refused_edits: tuple[str, ...] = ()  # blocks left out (a protected path...), each with why
    needs_review: tuple[tuple[str, str], ...] = ()  # (path, why): files that run code

    @property
    def passed(self) -> int:
        return sum(1 for o in self.outcomes if o.required and o.status == "passed")

    @property
    def required(self) -> int:
        return sum(1 for o in self.outcomes if o.required)

    @property
    def regressions(self) -> tuple[str, ...]:
        return tuple(
            o.test_id
            for o in self.outcomes
            if o.kind == KIND_EXISTING and o.required and o.status != "passed"
        )


@dataclass(frozen=True)
class FlakyTest:
    """An existing test that passed on the base, failed on a candidate, and then passed on
    a re-run there or failed on a re-run on the base: it judges no candidate. The counts
    hold every run of it this run saw (the first ones included) and say why it is flaky;
    ``earlier``: the ledger knew it when the run started (found by run ``run_id``)."""

    __test__ = False

    test_id: str
    candidate_runs: int
    candidate_failures: int
    base_runs: int
    base_failures: int
    run_id: str = ""
    earlier: bool = False

    @property
    def why(self) -> str:
        """What showed it flaky: a pass on the candidate after a failure, a base failure."""
        reasons = []
        if self.candidate_failures < self.candidate_runs:
            reasons.append("passed on a re-run on the candidate")
        if self.base_failures:
            reasons.append("failed on the base too")
        return " and ".join(reasons) or "known flaky"

    def counts(self) -> str:
        return (
            f"failed {self.candidate_failures} of {self.candidate_runs} run(s) on a candidate, "
            f"{self.base_failures} of {self.base_runs} on the base"
        )


@dataclass(frozen=True)
class TierView:
    """What a tier's patch prompt shows besides the task, the map and the code."""

    brief: bool = True  # the repository brief
    examples: bool = True  # similar past fixes (few-shot)
    guidance: bool = False  # the strong model's plan or FAQ (strategies plan, faq)
    previous: bool = False  # what the tier before it tried, and why it failed
    trimmed: bool = False  # a tiny model's cut: the best spans of one file
    context_tokens: int = 0  # the budget its code was packed for (0: the run's default)
    context_why: str = ""  # why that budget (the user's, the tier's price, its window)


@dataclass(frozen=True)
class TierPlan:
    tier: str
    model: str
    candidates: int
    tests: int
    edit_format: str
    worst_case_call_usd: float  # what the budget holds before each call
    view: TierView = TierView()
    call_usd: float = 0.0  # what the plan counts as spent by each call


@dataclass
class RunResult:
    run_id: str
    verdict: str
    task: Task
    strategy: str
    base_sha: str
    plan: list[TierPlan] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    generated_tests: list[GeneratedTest] = field(default_factory=list)
    discarded_tests: list[DiscardedTest] = field(default_factory=list)
    existing_tests: tuple[str, ...] = ()
    user_tests: tuple[str, ...] = ()
    test_command: str = ""
    branch: str | None = None
    winner: Attempt | None = None
    cost_usd: float = 0.0
    strong_only_cost_usd: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens the providers read from their caches
    cache_saving_usd: float = 0.0  # what those cost less than uncached prompt tokens
    calls: int = 0
    calls_by_tier: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    report_path: str | None = None
    pr_url: str | None = None
    error: str | None = None
    route: str | None = None  # tier the router chose, or "fallback"
    brief: str | None = None  # which brief the weak tier saw
    diff: str = ""  # the branch's diff against its base, byte for byte
    sandbox: dict[str, Any] = field(default_factory=dict)  # where model-written code ran
    context_path: str | None = None  # the first patch prompt, saved (swc runs show --context)
    interpreter: dict[str, Any] = field(default_factory=dict)  # the Python tests ran with
    patch_path: str | None = None  # the accepted diff, when no branch could hold it
    saved_diff: str = ""  # that diff, for the report
    # existing tests that judged no candidate: found flaky now, or known from earlier runs
    flaky_tests: list[FlakyTest] = field(default_factory=list)

    @property
    def needs_review(self) -> list[str]:
        """The accepted change's files that run code (build, task, CI files), each with
        why: said on stdout, in ``--json`` and in the report, not only in the diff."""
        flagged = self.winner.needs_review if self.winner else ()
        return [f"{path}: {why}" for path, why in flagged]
