"""Intake that needs the sandbox: ``--from-failing-tests`` runs the project's tests first."""

from __future__ import annotations

from ..config import Settings
from ..errors import UsageError
from ..gitrepo import RepoPaths
from ..task import Task, task_from_failing_tests
from .cascade import resolve_base


def task_from_test_run(
    repo: RepoPaths, settings: Settings, *, base: str = "HEAD", include_dirty: bool = False,
    user_tests: tuple[str, ...] = (),
) -> Task:
    """Run the test command on the base; what fails (and its output) becomes the task."""
    from ..sandbox import Worktree, clip_output, detect_test_command, run_tests

    base_sha = resolve_base(repo.root, base)
    with Worktree(repo.root, base_sha, include_dirty=include_dirty) as worktree:
        command = detect_test_command(
            worktree.path, settings.test_cmd, source=settings.sources.get("test_cmd", "config"))
        if command is None:
            raise UsageError(
                "--from-failing-tests needs a test command and none was found",
                hint="Set test_cmd in .swc.toml or pass --test-cmd.",
            )
        run = run_tests(worktree.path, command, timeout=settings.test_timeout,
                        selection=user_tests, isolate_network=settings.network_isolation)
    if run.passed:
        raise UsageError(f"the tests pass on {base} ({command.display}): nothing to fix")
    failing = tuple(r.test_id for r in run.results if r.status in ("failed", "error"))
    if run.results and not failing:
        raise UsageError(f"the test command failed but reported no failing test:\n"
                         f"{clip_output(run.output, 1500)}")
    targets = failing or user_tests
    return task_from_failing_tests(clip_output(run.output, 6000), failing,
                                   command=command.display, user_tests=targets)
