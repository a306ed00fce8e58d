"""Running the eval: each (task, combination) through ``run_fix``, judged by hidden tests.

Each run is exactly what ``swc fix`` does, in its own worktrees at the task's base, with
``leave_branch=False`` so no branch is left in the user's repository: the result is kept
as a diff. Each run also gets a state directory of its own (ledger, reports, tag cache),
so nothing one run learned (an accepted diff in the ledger, a brief written at a later
commit) can reach another run's prompts.

Workers only run and judge; the calling thread stores what they return.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ..config import Settings
from ..errors import (
    ConfigError,
    Interrupted,
    LedgerError,
    MissingCredentials,
    MissingExtra,
    SwcError,
)
from ..gitrepo import RepoPaths
from ..interrupts import checkpoint
from .budget import EvalControl, RunBudget
from .combos import Combination
from .hidden import TestConfig, check_task, judge
from .store import STATUS_DONE, STATUS_STOPPED, EvalStore, RunRecord
from .tasks import EvalTask, Skip

if TYPE_CHECKING:
    from ..task import Task

# Errors that would end every run the same way: stop the eval instead of recording each.
FATAL = (MissingCredentials, MissingExtra, ConfigError)

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class EvalSetup:
    repo: RepoPaths
    settings: Settings
    tests: TestConfig
    version: str


def _quiet(_message: str) -> None:
    return None


def run_key(task: EvalTask, combo: Combination, version: str) -> tuple[str, str, str, str, str]:
    return (task.instance_id, *combo.key, version)


def check_tasks(
    setup: EvalSetup,
    tasks: list[EvalTask],
    store: EvalStore,
    *,
    jobs: int = 1,
    trusted: frozenset[str] = frozenset(),
    on_progress: Progress = _quiet,
) -> tuple[list[EvalTask], list[Skip]]:
    """Tasks usable here, and a ``Skip`` for each that is not (checked once, then cached)."""
    key = f"{setup.tests.command or 'detected'}|{setup.tests.timeout:g}"
    usable: list[EvalTask] = []
    skips: list[Skip] = []
    unknown: list[EvalTask] = []
    for task in tasks:
        if task.instance_id in trusted:
            usable.append(task)
            continue
        found, problem = store.checked(task.instance_id, key)
        if not found:
            unknown.append(task)
        elif problem:
            skips.append(Skip(task.instance_id, "check", problem))
        else:
            usable.append(task)

    def check(task: EvalTask) -> tuple[EvalTask, str | None]:
        on_progress(f"checking {task.instance_id} on its base")
        return task, check_task(setup.repo.root, task, setup.tests)

    for task, problem in parallel(unknown, check, jobs, EvalControl(None)):
        store.remember_check(task.instance_id, key, problem)
        if problem:
            skips.append(Skip(task.instance_id, "check", problem))
        else:
            usable.append(task)
    order = {t.instance_id: i for i, t in enumerate(tasks)}
    usable.sort(key=lambda t: order[t.instance_id])
    return usable, skips


def pending(
    tasks: list[EvalTask], combos: list[Combination], store: EvalStore, version: str, *, rerun: bool
) -> tuple[list[tuple[EvalTask, Combination]], int]:
    """The runs still to do, and how many finished ones are reused."""
    todo: list[tuple[EvalTask, Combination]] = []
    reused = 0
    for task in tasks:
        for combo in combos:
            done = None if rerun else store.result(run_key(task, combo, version))
            if done is not None and done.status == STATUS_DONE:
                reused += 1
            else:
                todo.append((task, combo))
    return todo, reused


def execute(
    setup: EvalSetup,
    todo: list[tuple[EvalTask, Combination]],
    control: EvalControl,
    *,
    jobs: int,
    on_record: Callable[[RunRecord], None],
    on_progress: Progress = _quiet,
) -> None:
    """Run ``todo`` (``jobs`` at a time); ``on_record`` is called in this thread for each."""

    def one(item: tuple[EvalTask, Combination]) -> RunRecord | None:
        task, combo = item
        if control.halted:
            return None
        checkpoint()  # a Ctrl-C that was swallowed somewhere still ends the eval here
        on_progress(f"{task.instance_id}: {combo.label}")
        return run_one(setup, task, combo, control)

    for record in parallel(todo, one, jobs, control):
        if record is not None:
            on_record(record)


def parallel(
    items: Iterable[T], fn: Callable[[T], R], jobs: int, control: EvalControl
) -> Iterator[R]:
    """``fn`` over ``items``, ``jobs`` at a time, results yielded in this thread.

    With one job everything runs in this thread (signals and Ctrl-C as usual). On Ctrl-C
    the runs in flight are told to stop at their next model call and are waited for, so
    their worktrees are removed; then ``Interrupted`` is raised.
    """
    if jobs <= 1:
        try:
            for item in items:
                yield fn(item)
        except KeyboardInterrupt:
            control.stopping.set()
            raise Interrupted("the eval was interrupted; finished runs are saved") from None
        return
    queue = list(items)
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="swc-eval") as pool:
        running: set[Future[R]] = set()
        try:
            while queue or running:
                while queue and len(running) < jobs and not control.halted:
                    running.add(pool.submit(fn, queue.pop(0)))
                if not running:
                    break
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        except KeyboardInterrupt:
            control.stopping.set()
            wait(running)
            raise Interrupted("the eval was interrupted; finished runs are saved") from None
        except BaseException:
            control.stopping.set()  # a fatal error: the other runs end at their next call
            raise


@contextmanager
def _run_state(repo: RepoPaths) -> Iterator[RepoPaths]:
    """A private state directory for one run, seeded with the repository's tag cache."""
    holder = Path(tempfile.mkdtemp(prefix="swc-eval-state-"))
    state = holder / "swc"
    state.mkdir()
    tags = repo.state_dir / "tags.db"
    if tags.is_file():
        try:
            with (
                closing(sqlite3.connect(f"file:{tags}?mode=ro", uri=True)) as src,
                closing(sqlite3.connect(state / "tags.db")) as dst,
            ):
                src.backup(dst)
        except sqlite3.Error:
            (state / "tags.db").unlink(missing_ok=True)  # a cache: the run rebuilds it
    known = _copy_flaky(repo.state_dir, state)
    try:
        # state_dir is common_dir / "swc": the engine's ledger and caches land in holder.
        yield RepoPaths(root=repo.root, common_dir=holder)
    finally:
        _copy_flaky(state, repo.state_dir, leave=known)
        shutil.rmtree(holder, ignore_errors=True)


def _copy_flaky(source: Path, target: Path, leave: frozenset[str] = frozenset()) -> frozenset[str]:
    """Copy the flaky tests ``source``'s ledger knows (but those in ``leave``) into
    ``target``'s; returns the ids ``source`` knows. A run starts with the repository's
    list, so they judge no candidate of it, as in ``swc fix``; what the run finds goes
    back (it is not prompt material, unlike the rest of a run's state)."""
    from ..models.ledger import Ledger

    try:
        if not Ledger.exists(source):
            return frozenset()
        with Ledger.open(source) as ledger:
            rows = ledger.flaky_tests()
        new = [row for row in rows if row["test_id"] not in leave]
        if new:
            with Ledger.open(target) as ledger:
                ledger.remember_flaky(new)
    except LedgerError:
        return frozenset()  # a damaged ledger costs re-runs only; swc fix there names it
    return frozenset(row["test_id"] for row in rows)


def _fix_task(task: EvalTask) -> Task:
    from ..gitout import slugify
    from ..task import Task

    return Task(
        kind="prompt", title=task.title, text=task.problem_statement, slug=slugify(task.instance_id)
    )


def _unfinished(
    base: dict[str, str],
    budget: RunBudget,
    started: float,
    status: str,
    verdict: str,
    note: str,
    error: str,
) -> RunRecord:
    """The record of a run that ended without a result (interrupted, or an error)."""
    return RunRecord(
        **base,
        status=status,
        verdict=verdict,
        resolved=False,
        cost_usd=budget.spent,
        calls_weak=0,
        calls_strong=0,
        winner_tier=None,
        duration_s=time.monotonic() - started,
        judge_s=0.0,
        diff="",
        note=note,
        failing=(),
        error=error,
    )


def run_one(
    setup: EvalSetup, task: EvalTask, combo: Combination, control: EvalControl
) -> RunRecord:
    """One run through the engine, then the hidden tests on its diff."""
    from ..engine import FixRequest
    from ..engine.fix import run_fix
    from ..engine.types import VERDICT_BUDGET, VERDICT_ERROR, VERDICT_INTERRUPTED

    settings = combo.settings_for(setup.settings)
    budget = RunBudget(settings.budget, control)
    started = time.monotonic()
    base = dict(
        task_id=task.instance_id,
        strategy=combo.strategy,
        weak_model=combo.weak_key,
        strong_model=combo.strong_key,
        swc_version=setup.version,
    )
    with _run_state(setup.repo) as run_repo:
        request = FixRequest(
            task=_fix_task(task),
            repo=run_repo,
            settings=settings,
            base=task.base_commit,
            include_tests=False,
            leave_branch=False,
        )
        try:
            result = run_fix(request, budget=budget)
        except Interrupted:
            control.stopping.set()
            return _unfinished(
                base,
                budget,
                started,
                STATUS_STOPPED,
                VERDICT_INTERRUPTED,
                "interrupted",
                "interrupted",
            )
        except FATAL:
            raise
        except SwcError as exc:
            return _unfinished(
                base,
                budget,
                started,
                STATUS_DONE,
                VERDICT_ERROR,
                "the run failed: " + exc.message,
                exc.message,
            )
    winner = result.winner
    diff = winner.diff if winner is not None else ""
    judged_at = time.monotonic()
    judgement = judge(setup.repo.root, task, diff, setup.tests)
    stopped = result.verdict == VERDICT_BUDGET and budget.hit_eval_cap
    return RunRecord(
        **base,
        status=STATUS_STOPPED if stopped else STATUS_DONE,
        verdict=result.verdict,
        resolved=judgement.resolved,
        cost_usd=result.cost_usd,
        calls_weak=result.calls_by_tier.get("weak", 0),
        calls_strong=result.calls_by_tier.get("strong", 0),
        winner_tier=winner.tier if winner is not None else None,
        duration_s=result.duration_s,
        judge_s=time.monotonic() - judged_at,
        diff=diff,
        note=judgement.note,
        failing=judgement.failing,
        error=result.error,
    )
