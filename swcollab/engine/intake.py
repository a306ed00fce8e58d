"""Intake that needs the sandbox: ``--from-failing-tests`` runs the project's tests first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import UsageError
from ..gitrepo import RepoPaths
from ..task import Task, task_from_failing_tests
from .cascade import resolve_base

if TYPE_CHECKING:
    from ..sandbox import TestCommand


def task_from_test_run(
    repo: RepoPaths, settings: Settings, *, base: str = "HEAD", include_dirty: bool = False,
    user_tests: tuple[str, ...] = (),
) -> Task:
    """Run the test command on the base; what fails (and its output) becomes the task."""
    from ..sandbox import Isolation, Worktree, clip_output, require_sandbox, run_tests

    base_sha = resolve_base(repo.root, base)
    isolation = Isolation.from_settings(settings)
    require_sandbox(isolation)
    with Worktree(repo.root, base_sha, include_dirty=include_dirty) as worktree:
        command = test_command_for(worktree.path, settings)
        run = run_tests(worktree.path, command, timeout=settings.test_timeout,
                        selection=user_tests, isolation=isolation)
    if run.passed:
        raise UsageError(f"the tests pass on {base} ({command.display}): nothing to fix")
    failing = tuple(r.test_id for r in run.results if r.status in ("failed", "error"))
    if run.results and not failing:
        raise UsageError(f"the test command failed but reported no failing test:\n"
                         f"{clip_output(run.output, 1500)}")
    targets = failing or user_tests
    return task_from_failing_tests(clip_output(run.output, 6000), failing,
                                   command=command.display, user_tests=targets)


# Test ids a runner names as failed: pytest's short summary, Go's "--- FAIL:" lines.
_FAILED_IDS = re.compile(r"^(?:FAILED|ERROR)\s+(\S+?)(?:\s+-\s.*)?$|^--- FAIL: (\S+)", re.M)
MAX_OUTPUT_CHARS = 6000


def task_from_test_output(text: str, *, source: str) -> Task:
    """The task of ``--from-failing-tests`` from output saved earlier (no test is run)."""
    from ..sandbox import clip_output

    if not text.strip():
        raise UsageError(f"{source}: the test output is empty; save the output of a failing "
                         "test run (e.g. pytest > out.txt)")
    failing = tuple(dict.fromkeys(a or b for a, b in _FAILED_IDS.findall(text)))
    return task_from_failing_tests(clip_output(text, MAX_OUTPUT_CHARS), failing,
                                   command=f"(saved output: {source})")


def test_command_for(root: Path, settings: Settings) -> TestCommand:
    """The configured or detected test command; pytest for a Python project without tests.

    A Python project with no tests yet still gets generated reproduction tests, and they
    need a runner: pytest, when it is installed beside swc.
    """
    import importlib.util
    import sys

    from ..sandbox import TestCommand, detect_test_command

    command = detect_test_command(
        root, settings.test_cmd, source=settings.sources.get("test_cmd", "config"))
    if command is not None:
        return command
    python_project = any((root / name).exists() for name in
                         ("pyproject.toml", "setup.py", "setup.cfg")) or any(root.glob("*.py"))
    if python_project and importlib.util.find_spec("pytest") is not None:
        return TestCommand((sys.executable, "-m", "pytest"),
                           "default: pytest (a Python project with no tests yet)")
    raise UsageError(
        "no test command: swc needs one to judge patches and none was detected",
        hint="Set test_cmd in .swc.toml or pass --test-cmd (e.g. --test-cmd 'pytest -q').",
    )
