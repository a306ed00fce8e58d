"""``swc eval`` from options to outcome: tasks, checks, shard, runs, table. No printing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..config import Settings
from ..errors import Interrupted, UsageError
from ..gitrepo import RepoPaths
from ..sandbox.isolation import Isolation, require_sandbox
from . import gitops
from .budget import EvalControl
from .combos import Combination, Pair, combinations, shard, worst_case_run_usd
from .hidden import TestConfig
from .runner import EvalSetup, check_tasks, execute, pending, run_key
from .store import STATUS_DONE, EvalStore, RunRecord
from .summary import ComboRow, summarize
from .tasks import EvalTask, Skip, read_jsonl, repo_matches, write_jsonl

Progress = Callable[[str], None]


@dataclass(frozen=True)
class EvalOptions:
    tasks_file: Path | None = None
    history: str | None = None  # a revision range; None: not mining
    limit: int | None = None
    save: Path | None = None
    strategies: tuple[str, ...] = ("cascade", "weak", "strong")
    pairs: tuple[Pair, ...] = ()
    jobs: int = 1
    budget: float | None = None
    rerun: bool = False
    shard: tuple[int, int] | None = None
    dry_run: bool = False
    issues: bool = False  # mined tasks: add the GitHub issue the commit message names


@dataclass
class EvalOutcome:
    tasks: list[EvalTask] = field(default_factory=list)  # in scope: this shard, checked
    skips: list[Skip] = field(default_factory=list)
    combos: list[Combination] = field(default_factory=list)
    todo: int = 0
    reused: int = 0
    worst_case_usd: float | None = None
    records: list[RunRecord] = field(default_factory=list)
    rows: list[ComboRow] = field(default_factory=list)
    spent_usd: float = 0.0
    stopped: str | None = None  # "budget" when the eval's budget ran out
    dry_run: bool = False
    saved_to: Path | None = None
    examined_commits: int = 0


def _quiet(_message: str) -> None:
    return None


def load_tasks(
    repo: RepoPaths,
    options: EvalOptions,
    tests: TestConfig,
    store: EvalStore,
    on_progress: Progress,
) -> tuple[list[EvalTask], list[Skip], int, bool]:
    """The task set (from the file or mined), skips, commits examined, and whether mined."""
    if (options.tasks_file is None) == (options.history is None):
        raise UsageError(
            "say which tasks with exactly one of --tasks FILE.jsonl or --from-history [REV-RANGE]"
        )
    if options.tasks_file is not None:
        if not options.tasks_file.is_file():
            raise UsageError(f"--tasks {options.tasks_file}: no such file")
        tasks, skips = read_jsonl(options.tasks_file)
        names = gitops.repo_names(repo.root)
        ours = [t for t in tasks if repo_matches(t.repo, names)]
        skips += [
            Skip(t.instance_id, "repo", f"instance of another repository: {t.repo}")
            for t in tasks
            if t not in ours
        ]
        return ours, skips, 0, False
    from .issues import github_issue_reader
    from .mining import mine_history

    reader = github_issue_reader(repo.root) if options.issues else None
    mined = mine_history(
        repo.root,
        tests,
        rev_range=options.history or "HEAD",
        limit=options.limit,
        cache=store,
        on_progress=on_progress,
        issue_reader=reader,
    )
    return mined.tasks, mined.skips, mined.examined, True


def _run_all(
    setup: EvalSetup,
    todo: list[tuple[EvalTask, Combination]],
    options: EvalOptions,
    store: EvalStore,
    outcome: EvalOutcome,
    on_progress: Progress,
) -> None:
    """Every pending run, each saved as it ends; the eval's budget and Ctrl-C stop them."""
    control = EvalControl(options.budget)

    def record(done: RunRecord) -> None:
        store.save_result(done)
        why = done.note or done.verdict
        outcome_word = "resolved" if done.resolved else f"unresolved ({why})"
        on_progress(
            f"  {done.task_id} {done.strategy}: {outcome_word}, "
            f"${done.cost_usd:.4f}, {done.duration_s:.0f}s"
        )

    execute(setup, todo, control, jobs=options.jobs, on_record=record, on_progress=on_progress)
    outcome.spent_usd = control.budget.spent
    if control.stopping.is_set():
        raise Interrupted(
            "the eval was interrupted; finished runs are saved and the "
            "next `swc eval` resumes from there"
        )
    if control.budget_out.is_set():
        outcome.stopped = "budget"


def evaluate(
    repo: RepoPaths,
    settings: Settings,
    options: EvalOptions,
    store: EvalStore,
    *,
    on_progress: Progress = _quiet,
) -> EvalOutcome:
    isolation = Isolation.from_settings(settings)
    if not (options.dry_run and options.tasks_file is not None):
        # mining, checks, candidates and hidden tests all run in it: fail before any work
        require_sandbox(isolation)
    tests = TestConfig(settings.test_cmd, settings.test_timeout, isolation)
    combos = combinations(list(options.strategies), list(options.pairs), settings)
    outcome = EvalOutcome(combos=combos, dry_run=options.dry_run)
    tasks, skips, outcome.examined_commits, mined = load_tasks(
        repo, options, tests, store, on_progress
    )
    if options.tasks_file is not None and options.limit is not None:
        tasks = tasks[: options.limit]
    if options.save is not None:
        write_jsonl(options.save, tasks)
        outcome.saved_to = options.save
    store.save_tasks(tasks)
    tasks = shard(tasks, options.shard)
    setup = EvalSetup(repo, settings, tests, __version__)
    if not options.dry_run:
        trusted = frozenset(t.instance_id for t in tasks) if mined else frozenset()
        tasks, check_skips = check_tasks(
            setup, tasks, store, jobs=options.jobs, trusted=trusted, on_progress=on_progress
        )
        skips += check_skips
    store.save_skips(skips)
    outcome.tasks, outcome.skips = tasks, skips
    todo, outcome.reused = pending(tasks, combos, store, __version__, rerun=options.rerun)
    outcome.todo = len(todo)
    outcome.worst_case_usd = worst_case(settings, todo, options.budget)
    if not options.dry_run and todo:
        _run_all(setup, todo, options, store, outcome, on_progress)
    outcome.records = scoped_records(store, tasks, combos)
    outcome.rows = summarize(outcome.records)
    return outcome


def worst_case(
    settings: Settings, todo: list[tuple[EvalTask, Combination]], cap: float | None
) -> float:
    """Most the runs still to do could spend, from each combination's plan and budget."""
    per_combo: dict[tuple[str, str, str], float] = {}
    total = 0.0
    for _task, combo in todo:
        if combo.key not in per_combo:
            per_combo[combo.key] = worst_case_run_usd(combo.settings_for(settings))
        total += per_combo[combo.key]
    return total if cap is None else min(total, cap)


def scoped_records(
    store: EvalStore, tasks: list[EvalTask], combos: list[Combination]
) -> list[RunRecord]:
    """The finished records of these tasks and combinations, at this swc version."""
    records = []
    for task in tasks:
        for combo in combos:
            record = store.result(run_key(task, combo, __version__))
            if record is not None and record.status == STATUS_DONE:
                records.append(record)
    return records


def merge(into: Path, sources: list[Path]) -> tuple[int, list[RunRecord], list[Skip]]:
    """Combine shard databases into ``into``; returns results added, all results, skips."""
    missing = [s for s in sources if not s.is_file()]
    if missing:
        raise UsageError(f"swc eval merge: {missing[0]}: no such file")
    added = 0
    with EvalStore(into) as store:
        for source in sources:
            if source.resolve() != into.resolve():
                added += store.merge_from(source)
        return added, store.results(), store.skips()
