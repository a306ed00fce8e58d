"""The hidden tests: running them to mine, check and judge tasks (never shown to a model).

Three uses, one runner:
- mining: which tests of a commit's test changes go from failing to passing;
- checking a task before money is spent on it (its base exists, its test patch applies,
  the test command runs there, and its FAIL_TO_PASS really fail on the base);
- judging a run's diff: apply it, put the hidden test patch on top, run FAIL_TO_PASS and
  PASS_TO_PASS; resolved means every one passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..sandbox.isolation import Isolation
from . import gitops
from .tasks import EvalTask, test_files_of

if TYPE_CHECKING:
    from ..sandbox import TestCommand

PYTEST_NO_TESTS = 5
OUTPUT_CHARS = 1500


@dataclass(frozen=True)
class TestConfig:
    """How hidden tests run: the command (None: detect per worktree), limits, isolation."""

    __test__ = False

    command: str | None = None
    timeout: float = 300.0
    isolation: Isolation = field(default_factory=Isolation)


@dataclass(frozen=True)
class Probe:
    statuses: dict[str, str]  # test id -> passed | failed | error | skipped | missing
    error: str | None = None  # the command itself failed: timed out, crashed, ran nothing
    command: str = ""


@dataclass(frozen=True)
class Judgement:
    resolved: bool
    failing: tuple[str, ...] = ()  # hidden tests that did not pass
    note: str = ""
    statuses: dict[str, str] = field(default_factory=dict)


def _clip(text: str) -> str:
    from ..sandbox import clip_output

    return clip_output(text, OUTPUT_CHARS)


def detect(root: Path, config: TestConfig, checkout: Path | None = None) -> TestCommand | None:
    """The test command in the worktree ``root``, with the project's environment found in
    the user's ``checkout``."""
    from ..ecosystems import detect_test_command

    return detect_test_command(root, config.command, checkout=checkout)


def probe(
    root: Path,
    command: TestCommand,
    config: TestConfig,
    *,
    files: Sequence[str],
    ids: Sequence[str] | None = None,
) -> Probe:
    """Statuses of ``ids`` (or of every test found in ``files``) in the worktree ``root``."""
    from ..ecosystems import ecosystem_of
    from ..sandbox import run_tests

    if not ecosystem_of(command).reports_per_test(command):
        return _probe_by_file(root, command, config, files)
    run = run_tests(
        root, command, timeout=config.timeout, selection=list(files), isolation=config.isolation
    )
    if run.timed_out:
        return Probe({}, f"the tests timed out after {config.timeout:g} s", command.display)
    if run.exit_code is None:
        return Probe({}, "the test command could not start: " + _clip(run.output), command.display)
    if not run.results:
        why = "ran no test" if run.exit_code == PYTEST_NO_TESTS else "errored"
        return Probe({}, f"the test command {why}: " + _clip(run.output), command.display)
    if ids is None:
        statuses = {r.test_id: r.status for r in run.results if "::" in r.test_id}
        for bad in run.collection_errors():
            statuses.setdefault(bad, "error")
    else:
        statuses = {i: run.status_of(i) or "missing" for i in ids}
    return Probe(statuses, None, command.display)


def _probe_by_file(
    root: Path, command: TestCommand, config: TestConfig, files: Sequence[str]
) -> Probe:
    """Runners without per-test reports: each test file is one test, judged by exit code."""
    from ..sandbox import run_tests

    statuses: dict[str, str] = {}
    for file in files:
        run = run_tests(
            root, command, timeout=config.timeout, selection=[file], isolation=config.isolation
        )
        if run.timed_out or run.exit_code is None:
            return Probe(
                {}, f"the test command failed on {file}: " + _clip(run.output), command.display
            )
        statuses[file] = "passed" if run.exit_code == 0 else "failed"
    return Probe(statuses, None, command.display)


def hidden_ids(task: EvalTask) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*task.fail_to_pass, *task.pass_to_pass)))


def check_task(repo_root: Path, task: EvalTask, config: TestConfig) -> str | None:
    """Why ``task`` cannot be used here (None when it can), before any money is spent."""
    from ..errors import SwcError
    from ..sandbox import Worktree

    if not gitops.commit_exists(repo_root, task.base_commit):
        return f"base commit {task.base_commit[:12]} is not in this repository"
    try:
        with Worktree(repo_root, task.base_commit) as tree:
            problem = gitops.apply_patch(tree.path, task.test_patch)
            if problem:
                return "the test patch does not apply to the base: " + problem.splitlines()[0]
            command = detect(tree.path, config, repo_root)
            if command is None:
                return "no test command (set test_cmd in .swc.toml or pass --test-cmd)"
            ids = hidden_ids(task)
            found = probe(tree.path, command, config, files=test_files_of(ids), ids=ids)
    except SwcError as exc:
        return f"cannot prepare the base: {exc.message}"
    if found.error:
        return "the test command errors on the base: " + found.error
    passing = [i for i in task.fail_to_pass if found.statuses.get(i) == "passed"]
    if passing:
        return f"{len(passing)} FAIL_TO_PASS test(s) already pass on the base: " + ", ".join(
            passing[:3]
        )
    return None


def judge(repo_root: Path, task: EvalTask, diff: str, config: TestConfig) -> Judgement:
    """Apply ``diff``, then the hidden tests, at the task's base; run them; resolved or not."""
    from ..sandbox import Worktree

    if not diff.strip():
        return Judgement(False, note="the run produced no patch")
    with Worktree(repo_root, task.base_commit) as tree:
        problem = gitops.apply_patch(tree.path, diff)
        if problem:
            return Judgement(False, note="the result does not apply: " + problem.splitlines()[0])
        # As SWE-bench's harness does: the hidden tests replace whatever the run did to them.
        gitops.restore_paths(tree.path, task.base_commit, task.hidden_test_files)
        problem = gitops.apply_patch(tree.path, task.test_patch)
        if problem:
            return Judgement(
                False,
                note="the hidden tests do not apply on the result: " + problem.splitlines()[0],
            )
        command = detect(tree.path, config, repo_root)
        if command is None:
            return Judgement(False, note="no test command")
        ids = hidden_ids(task)
        found = probe(tree.path, command, config, files=test_files_of(ids), ids=ids)
    if found.error:
        return Judgement(False, note=found.error)
    failing = tuple(i for i in ids if found.statuses.get(i) != "passed")
    return Judgement(
        not failing,
        failing,
        "" if not failing else f"{len(failing)} of {len(ids)} hidden test(s) did not pass",
        dict(found.statuses),
    )
