"""The test suite: the tests that decide whether a candidate patch is good enough.

Three kinds of tests judge a candidate: reproduction tests the models write (kept only
when they fail on the unpatched code for a reason other than a broken test), tests the
user named (they must fail on the base), and existing tests near the likely change (a
candidate must not break one that passed on the base).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..edits.paths import check_path
from ..sandbox.runner import SandboxRunner
from .types import (
    KIND_CHANGED,
    KIND_EXISTING,
    KIND_FLAKY,
    KIND_REPRO,
    KIND_USER,
    DiscardedTest,
    GeneratedTest,
    TestChange,
    TestOutcome,
)

if TYPE_CHECKING:
    from ..sandbox import Isolation, TestCommand, TestRun, TestRunner
    from .flaky import FlakyTests
    from .testchange import TestRules

REASON_PASSES = "passes on the unpatched code, so it proves nothing"
REASON_BROKEN = "syntax or import error in the test itself"
REASON_SKIPPED = "skipped on the unpatched code"
REASON_NO_TESTS = "the answer held no test that could be run"
REASON_NO_RESULT = "yielded no per-test result, so it cannot judge"


@dataclass(frozen=True)
class TestSuite:
    """The tests that judge candidates; a stage that adds to it returns a new suite."""

    __test__ = False  # not a pytest test class

    command: TestCommand
    timeout: float
    isolation: Isolation
    user_tests: tuple[str, ...] = ()
    existing_files: tuple[str, ...] = ()
    baseline_pass: frozenset[str] = frozenset()
    generated: tuple[GeneratedTest, ...] = ()
    discarded: tuple[DiscardedTest, ...] = ()
    test_change_mode: str = "strong"  # who may change existing tests (``test_changes``)
    base_root: Path | None = None  # the base's worktree, for tests first run later
    runner: TestRunner = field(default_factory=SandboxRunner, compare=False)
    # the run's flaky tests (engine/flaky.py), one object for every suite of a run: a test
    # found flaky on one candidate judges no later one. None: no detection, none excluded
    flaky: FlakyTests | None = field(default=None, compare=False)
    # a cache, not state: what passes on the base in files first run after the baseline
    _base_passing: dict[str, frozenset[str]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # a cache: the command of each directory's tests (``command_for``)
    _commands: dict[str, TestCommand] = field(default_factory=dict, repr=False, compare=False)

    @property
    def repro_ids(self) -> list[str]:
        return [test_id for g in self.generated for test_id in g.kept_ids]

    def user_tests_files(self) -> list[str]:
        return list(dict.fromkeys(t.split("::")[0] for t in self.user_tests))

    def can_judge(self) -> bool:
        """A verdict of "fixed" needs a test that failed on the base and must now pass."""
        return bool(self.repro_ids or self.user_tests)

    def with_tests(
        self, generated: Sequence[GeneratedTest] = (), discarded: Sequence[DiscardedTest] = ()
    ) -> TestSuite:
        """This suite with more generated tests kept and discarded."""
        return replace(
            self,
            generated=(*self.generated, *generated),
            discarded=(*self.discarded, *discarded),
        )

    def run(
        self,
        root: Path,
        selection: Sequence[str] = (),
        command: TestCommand | None = None,
        timeout: float | None = None,
    ) -> TestRun:
        """One run of the test command (or ``command``) in ``root``, through the runner,
        within ``timeout`` seconds (default: the suite's). In a repository of several
        projects (a TypeScript frontend beside a Python package), each selected file runs
        under its own project's command, and the runs are reported as one."""
        if command is not None or not selection:
            return self._run_one(root, selection, command or self.command, timeout)
        groups: dict[TestCommand, list[str]] = {}
        for item in selection:
            groups.setdefault(self.command_for(root, item), []).append(item)
        runs = [self._run_one(root, items, each, timeout) for each, items in groups.items()]
        return runs[0] if len(runs) == 1 else merged(runs)

    def _run_one(
        self, root: Path, selection: Sequence[str], command: TestCommand, timeout: float | None
    ) -> TestRun:
        return self.runner.run(
            root,
            command,
            timeout=self.timeout if timeout is None else timeout,
            selection=selection,
            isolation=self.isolation,
        )

    def command_for(self, root: Path, item: str) -> TestCommand:
        """The command that runs the test file or id ``item``: the suite's, or that of
        the project of another ecosystem the file belongs to."""
        from ..ecosystems import project_command

        path = item.split("::", 1)[0]
        key = f"{Path(path).parent}|{Path(path).suffix}"
        if key not in self._commands:
            self._commands[key] = project_command(root, path, self.command)
        return self._commands[key]

    def selection(self, changed: Sequence[TestChange] = ()) -> list[str]:
        files = [g.path for g in self.generated if g.kept_ids]
        # the files of changed tests run too (not a file removed whole, nor configuration)
        touched = [
            c.path
            for c in changed
            if c.kind != "config" and not (c.kind == "removed" and c.test == c.path)
        ]
        return list(dict.fromkeys([*files, *self.user_tests, *self.existing_files, *touched]))

    def rules(self) -> TestRules:
        from .testchange import TestRules

        return TestRules(
            self.test_change_mode,
            tuple(g.path for g in self.generated),
            self.user_tests,
            self.existing_files,
            self.can_judge(),
        )

    def base_passing_in(self, file: str) -> frozenset[str]:
        """Ids of ``file``'s tests that pass on the base (run there once when it was not
        in the baseline: a candidate changed it)."""
        if file in self.existing_files:
            return frozenset(
                t for t in self.baseline_pass if t == file or t.startswith(file + "::")
            )
        if file not in self._base_passing:
            self._base_passing[file] = self._run_on_base(file)
        return self._base_passing[file]

    def _run_on_base(self, file: str) -> frozenset[str]:
        from ..gitrepo import reset_worktree

        if self.base_root is None or not (self.base_root / file).is_file():
            return frozenset()
        try:
            run = self.run(self.base_root, [file])
        finally:
            reset_worktree(self.base_root)
        return baseline_passing(run, [file])

    def write_tests(self, root: Path) -> None:
        """Put the kept generated tests into a workspace (over anything a patch did there)."""
        for test in self.generated:
            if test.kept_ids:
                # a refused place leaves the test out: the run then reports it missing,
                # which fails the candidate rather than the whole run
                write_inside(root, test.path, test.text)
                for file, line in test.attach:
                    attach_line(root, file, line)

    def evaluate(
        self, run: TestRun, changed: Sequence[TestChange] = ()
    ) -> tuple[tuple[TestOutcome, ...], bool]:
        """Per-test outcomes and the acceptance rule's answer for one candidate's run.

        With ``changed`` tests (declared and allowed), each changed or added test must
        pass, and so must every other test of its file that passed on the base; a
        removed test is no longer required. A flaky test is run and shown, not required."""
        outcomes: list[TestOutcome] = []
        for test_id in self.repro_ids:
            outcomes.append(TestOutcome(test_id, KIND_REPRO, status_in(run, test_id), True))
        for test_id in self.user_tests:
            outcomes.append(TestOutcome(test_id, KIND_USER, status_in(run, test_id), True))
        removed = {c.test for c in changed if c.kind == "removed"}
        removed |= {c.renamed_from for c in changed if c.renamed_from}
        guarded = set(self.baseline_pass)
        for file in dict.fromkeys(c.path for c in changed if c.kind != "config"):
            guarded |= self.base_passing_in(file)
        for test_id in sorted(guarded):
            if any(test_id == r or test_id.startswith((r + "[", r + "::")) for r in removed):
                continue
            if self.flaky is not None and self.flaky.excludes(test_id):
                outcomes.append(TestOutcome(test_id, KIND_FLAKY, status_in(run, test_id), False))
            else:
                outcomes.append(TestOutcome(test_id, KIND_EXISTING, status_in(run, test_id), True))
        for change in changed:
            if change.test == change.path and change.path.endswith(".py"):
                continue  # a helper module changed as a whole: its file's tests guard it
            if change.kind in ("modified", "added", "renamed") and change.test not in guarded:
                outcomes.append(
                    TestOutcome(change.test, KIND_CHANGED, status_in(run, change.test), True)
                )
        accepted = bool(outcomes) and all(o.status == "passed" for o in outcomes if o.required)
        if not self.can_judge():
            accepted = False
        return tuple(outcomes), accepted


def write_inside(root: Path, rel: str, text: str) -> str | None:
    """Write ``root/rel``; refuse (and say why) a path that leaves ``root`` (``..``, a
    symlink out, ``.git``), checked again at each write since the tree may have changed."""
    target, why = check_path(root, rel)
    if target is None:
        return why
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()
    target.write_text(text, encoding="utf-8")
    return None


def merged(runs: Sequence[TestRun]) -> TestRun:
    """Runs of several projects' commands reported as one run."""
    first = runs[0]
    codes = [r.exit_code for r in runs]
    failed = next((c for c in codes if c not in (0,)), 0)
    return replace(
        first,
        exit_code=None if None in codes else failed,
        timed_out=any(r.timed_out for r in runs),
        output="\n".join(f"$ {' '.join(r.command)}\n{r.output}" for r in runs),
        duration_s=sum(r.duration_s for r in runs),
        results=tuple(result for r in runs for result in r.results),
        limit_hits=tuple(hit for r in runs for hit in r.limit_hits),
    )


def attach_line(root: Path, rel: str, line: str) -> str | None:
    """Add ``line`` at the end of ``root/rel`` unless it is there (a generated test's
    ``mod`` line in its crate's root); refused, with why, outside ``root``."""
    from ..repofiles import read_regular_text

    text = read_regular_text(root, rel)
    if text is None:
        return f"{rel}: not a regular file"
    if line in text.splitlines():
        return None
    return write_inside(root, rel, with_line(text, line))


def with_line(text: str, line: str) -> str:
    """``text`` with ``line`` at its end (on a line of its own)."""
    return text + ("" if not text or text.endswith("\n") else "\n") + line + "\n"


def status_in(run: TestRun, test_id: str) -> str:
    """A test's status in a run; "missing" when the run does not report it."""
    if not run.results:
        # Runners without per-test reports: the selection's exit code speaks for all.
        return "passed" if run.exit_code == 0 and not run.timed_out else "failed"
    status = run.status_of(test_id)
    return status or "missing"


# ---------------------------------------------------------------- generated tests


def generated_test_path(path: str, root: Path) -> str:
    """A new file at ``path`` (an ecosystem's place for a reproduction test), or the
    first free ``stem_N`` beside it.

    Never through a symlink out of the repository (a tracked ``tests`` link to elsewhere)
    nor into ``.git``: such a place falls back to a file at the top of the repository.
    """
    if check_path(root, path)[0] is None:
        path = Path(path).name
    stem, dot, ext = path.rpartition(".")
    counter = 2
    while (root / path).exists() or (root / path).is_symlink():
        path = f"{stem}_{counter}{dot}{ext}"
        counter += 1
    return path


_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S)


def parse_test_answer(answer: str) -> str | None:
    """The code of the test file in a model's answer: the longest fenced block, else raw code."""
    blocks = [m.group(2) for m in _FENCE.finditer(answer.replace("\r\n", "\n"))]
    if blocks:
        return max(blocks, key=len)
    stripped = answer.strip()
    if re.search(r"^\s*(def test|import |from |func Test|describe\(|test\()", stripped, re.M):
        return stripped + "\n"
    return None


def classify_base_run(
    run: TestRun, path: str, task_text: str, command: TestCommand | None = None
) -> tuple[list[str], list[tuple[str, str]]]:
    """Split a generated test file's results on the base into kept ids and discards.

    A file that yields no per-test result (where its runner reports them), or whose
    runner ran no test, is discarded with the cause: it cannot tell a good patch from a
    bad one."""
    from ..ecosystems import cannot_run, ecosystem_of, for_path

    if run.limit_hit is not None:
        # the test itself exhausts the sandbox: it would fail every candidate
        return [], [(path, f"on the unpatched code, {run.limit_hit.text}")]
    if path in run.collection_errors():
        return [], [(path, REASON_BROKEN)]
    mine = [r for r in run.results if r.file == path or r.test_id.startswith(path + "::")]
    if not run.results:
        if run.timed_out:
            return [], [(path, "timed out on the unpatched code")]
        problem = cannot_run(run, command) if command is not None else None
        if problem is not None or (
            command is not None and ecosystem_of(command).reports_per_test(command)
        ):
            cause = problem.line() if problem is not None else "no test in the report"
            return [], [(path, f"{REASON_NO_RESULT}: {cause}")]
        return ([path], []) if run.exit_code not in (0, None) else ([], [(path, REASON_PASSES)])
    if not mine:
        return [], [(path, REASON_NO_TESTS)]
    ecosystem = for_path(path) or ecosystem_of(command)
    kept: list[str] = []
    discarded: list[tuple[str, str]] = []
    for result in mine:
        if result.status == "passed":
            discarded.append((result.test_id, REASON_PASSES))
        elif result.status == "skipped":
            discarded.append((result.test_id, REASON_SKIPPED))
        elif ecosystem.is_broken(result.status, result.message, task_text):
            discarded.append((result.test_id, REASON_BROKEN))
        else:
            kept.append(result.test_id)
    return kept, discarded


# ---------------------------------------------------------------- existing tests


def baseline_passing(run: TestRun, files: Sequence[str]) -> frozenset[str]:
    """Ids of the existing tests that passed on the base (the ones a patch must not break)."""
    if not run.results:
        return frozenset(files) if run.exit_code == 0 else frozenset()
    wanted = set(files)
    return frozenset(
        r.test_id
        for r in run.results
        if r.status == "passed" and (r.file in wanted or r.test_id.split("::")[0] in wanted)
    )
