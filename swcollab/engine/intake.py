"""Intake that needs the sandbox: ``--from-failing-tests`` runs the project's tests first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import UsageError
from ..gitrepo import RepoPaths, commit_sha
from ..task import Task, task_from_failing_tests

if TYPE_CHECKING:
    from ..sandbox import TestCommand, TestRun
    from ..sandbox.diagnose import CannotRun


def resolve_base(root: Path, base: str) -> str:
    """The commit ``--base`` names (a sha, branch or tag), or a usage error that says so."""
    sha = commit_sha(root, base)
    if sha is None:
        if base == "HEAD":
            raise UsageError("the repository has no commits yet; commit something first")
        raise UsageError(f"--base {base}: no such commit, branch or tag")
    return sha


def task_from_test_run(
    repo: RepoPaths,
    settings: Settings,
    *,
    base: str = "HEAD",
    include_dirty: bool = False,
    user_tests: tuple[str, ...] = (),
) -> Task:
    """Run the test command on the base; what fails (and its output) becomes the task."""
    from ..sandbox import Isolation, Worktree, clip_output, require_sandbox, run_tests

    base_sha = resolve_base(repo.root, base)
    isolation = Isolation.from_settings(settings)
    require_sandbox(isolation)
    with Worktree(repo.root, base_sha, include_dirty=include_dirty) as worktree:
        command = test_command_for(worktree.path, settings, checkout=repo.root)
        run = run_tests(
            worktree.path,
            command,
            timeout=settings.test_timeout,
            selection=user_tests,
            isolation=isolation,
        )
        environment = _environment_failures(run, worktree.path)
    if run.passed:
        raise UsageError(f"the tests pass on {base} ({command.display}): nothing to fix")
    _check_runnable(run, command, environment, settings.test_timeout, worktree.path)
    failing = tuple(
        r.test_id
        for r in run.results
        if r.status in ("failed", "error") and r.test_id not in environment
    )
    if run.results and not failing:
        raise UsageError(
            f"the test command failed but reported no failing test:\n"
            f"{clip_output(run.output, 1500)}"
        )
    targets = failing or user_tests
    return task_from_failing_tests(
        clip_output(run.output, 6000), failing, command=command.display, user_tests=targets
    )


# Test ids a runner names as failed: pytest's short summary, Go's "--- FAIL:" lines.
_FAILED_IDS = re.compile(r"^(?:FAILED|ERROR)\s+(\S+?)(?:\s+-\s.*)?$|^--- FAIL: (\S+)", re.M)
MAX_OUTPUT_CHARS = 6000


def task_from_test_output(text: str, *, source: str) -> Task:
    """The task of ``--from-failing-tests`` from output saved earlier (no test is run)."""
    from ..sandbox import clip_output

    if not text.strip():
        raise UsageError(
            f"{source}: the test output is empty; save the output of a failing "
            "test run (e.g. pytest > out.txt)"
        )
    failing = tuple(dict.fromkeys(a or b for a, b in _FAILED_IDS.findall(text)))
    return task_from_failing_tests(
        clip_output(text, MAX_OUTPUT_CHARS), failing, command=f"(saved output: {source})"
    )


def _environment_failures(run: TestRun, root: Path) -> dict[str, CannotRun]:
    """Collection errors that a missing or mismatched dependency causes, by file."""
    from ..sandbox.diagnose import collection_failures
    from .baseline import environment_failure

    found = {}
    for place, message in collection_failures(run, []):
        problem = environment_failure([(place, message)], root)
        if problem is not None:
            found[place] = problem
    return found


def _check_runnable(
    run: TestRun,
    command: TestCommand,
    environment: dict[str, CannotRun],
    timeout: float,
    root: Path,
) -> None:
    """Exit 3 when the run says nothing about the code: the command cannot start, no
    per-test result, or nothing failed but for a missing dependency."""
    from ..ecosystems import cannot_run
    from .baseline import cannot_run_error

    problem = cannot_run(run, command)
    if problem is None and environment:
        failing = {r.test_id for r in run.results if r.status in ("failed", "error")}
        if failing <= set(environment):
            problem = next(iter(environment.values()))
    if problem is not None:
        raise cannot_run_error(problem, command, timeout, root)


def test_command_for(
    root: Path, settings: Settings, *, checkout: Path | None = None
) -> TestCommand:
    """The configured or detected test command; pytest for a Python project without tests.

    ``root`` is the worktree the tests run in, ``checkout`` the user's checkout (where
    the project's environment lives). A Python project with no tests yet still gets
    generated reproduction tests, and they need a runner: pytest, with the project's
    interpreter (the baseline's probe says so when pytest is not installed there).
    """
    from ..ecosystems import default_test_command, detect_test_command, project_ecosystem

    command = detect_test_command(
        root,
        settings.test_cmd,
        source=settings.sources.get("test_cmd", "config"),
        checkout=checkout,
    )
    if command is not None:
        return command
    fallback = default_test_command(root, checkout or root)
    if fallback is not None:
        return fallback
    advice = project_ecosystem(root).set_test_cmd()
    raise UsageError(
        "no test command: swc needs one to judge patches and none was detected",
        hint=advice[:1].upper() + advice[1:] + ".",
    )
