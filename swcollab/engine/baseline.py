"""The baseline: what the tests say on the unpatched code, before any model call.

The selected tests (the user's, and existing ones near the likely change) run on the
base. With none selected, a probe checks that the command can at least collect (pytest
``--collect-only``, ``go test -run '^$'``, ``cargo test --no-run``). A command that
cannot run or collect (missing program, pytest or a dependency not installed for the
interpreter, a conftest that cannot import) ends the run here with ``TestsCannotRun``
(exit 3), naming the cause, the interpreter and the fix: nothing has been spent yet.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..ecosystems import cannot_run, ecosystem_of
from ..errors import TestsCannotRun, UsageError
from ..sandbox.diagnose import (
    KIND_COLLECTION,
    KIND_LIMIT,
    KIND_NO_TESTS,
    KIND_NOT_FOUND,
    KIND_TIMEOUT,
    CannotRun,
    collection_failures,
    error_line,
    is_dependency,
    missing_module,
)
from .testsuite import TestSuite, baseline_passing, status_in
from .types import Event, EventSink

if TYPE_CHECKING:
    from ..sandbox import TestCommand, TestRun

_NOT_FOUND_NOTE = re.compile(r"^\[swc: not found, left out of the run: (.+)\]$", re.M)
_CANNOT_IMPORT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")


def run_baseline(
    suite: TestSuite, base_root: Path, existing: Sequence[str], on_event: EventSink
) -> tuple[TestSuite, list[str]]:
    """``suite`` guarding the ``existing`` test files (but those the user named), with
    what passes on the base; and warnings.

    Raises ``TestsCannotRun`` when the tests cannot run here, ``UsageError`` when a test
    the user named does not exist or already passes."""
    from ..gitrepo import reset_worktree

    suite = replace(
        suite,
        existing_files=tuple(f for f in existing if f not in suite.user_tests_files()),
    )
    selection = [*suite.user_tests, *suite.existing_files]
    if not selection:
        on_event(Event("baseline", "checking that the test command can collect tests"))
        return suite, _probe(suite, base_root)
    on_event(Event("baseline", f"running {len(selection)} test target(s) on the base"))
    try:
        base_run = suite.run(base_root, selection)
    finally:
        reset_worktree(base_root)  # what the run wrote must not change what later runs see
    suite, warnings = _check_base_run(suite, base_run, base_root)
    if base_run.limit_hit is not None:
        warnings.append(
            f"on the unpatched code, {base_run.limit_hit.text}; the existing tests it "
            "stopped are not guarded (raise the limit if your tests need more)"
        )
    suite = replace(suite, baseline_pass=baseline_passing(base_run, suite.existing_files))
    for test in suite.user_tests:
        if status_in(base_run, test) == "passed":
            raise UsageError(
                f"the test {test} passes on the base commit, so it cannot show a fix",
                hint="Name a test that fails now and must pass once the problem is fixed.",
            )
    return suite, warnings


def _check_base_run(suite: TestSuite, run: TestRun, root: Path) -> tuple[TestSuite, list[str]]:
    """Raise when the base run judges nothing; drop the existing files that cannot be
    collected (for reasons of their own) from the guard, with a warning."""
    _check_user_tests_exist(suite, run)
    problem = cannot_run(run, suite.command)
    if problem is not None and problem.kind == KIND_NO_TESTS and suite.user_tests:
        raise UsageError(
            f"the tests you named ({', '.join(suite.user_tests)}) hold no test "
            "the test command collects",
            hint="Name a test file or test id the test command runs.",
        )
    if problem is not None and problem.kind != KIND_NO_TESTS:
        raise cannot_run_error(problem, suite.command, suite.timeout, root)
    failures = collection_failures(run, [*suite.user_tests, *suite.existing_files])
    environment = environment_failure(failures, root)
    if environment is not None:
        raise cannot_run_error(environment, suite.command, suite.timeout, root)
    ran = [r for r in run.results if not r.is_collection_error]
    if failures and not ran and not suite.user_tests:
        place, message = failures[0]
        problem = CannotRun(KIND_COLLECTION, error_line(message), where=f"collecting {place}")
        raise cannot_run_error(problem, suite.command, suite.timeout, root)
    user_files = set(suite.user_tests_files())
    broken = [(place, message) for place, message in failures if place not in user_files]
    if not broken:
        return suite, []
    left = {place for place, _ in broken}
    guarded = tuple(
        f
        for f in suite.existing_files
        if f not in left and not any(f.startswith(p.rstrip("/") + "/") for p in left)
    )
    return replace(suite, existing_files=guarded), [
        "existing tests that cannot be collected on the base are not guarded: "
        + "; ".join(f"{place}: {error_line(message)}" for place, message in broken[:3])
    ]


def _check_user_tests_exist(suite: TestSuite, run: TestRun) -> None:
    missing = {
        item.strip() for note in _NOT_FOUND_NOTE.findall(run.output) for item in note.split(", ")
    }
    unknown = [t for t in suite.user_tests if t in missing]
    if unknown:
        raise UsageError(
            f"the test {unknown[0]} was not found by the test command "
            f"({shlex.join(suite.command.argv)})",
            hint="Name an existing test file or test id (pytest: path/to/test_x.py::test_name).",
        )


def environment_failure(failures: list[tuple[str, str]], root: Path) -> CannotRun | None:
    """A collection error caused by the environment: a dependency missing, or one whose
    installed version lacks a name the code imports."""
    if not failures:
        return None
    from ..gitrepo import tracked_files

    tracked = tracked_files(root)
    for place, message in failures:
        module = missing_module(message)
        if module and is_dependency(module, root, tracked):
            return CannotRun(
                KIND_COLLECTION,
                f"ModuleNotFoundError: No module named '{module}'",
                where=f"collecting {place}",
                module=module,
            )
        mismatch = _CANNOT_IMPORT.search(message)
        if mismatch and is_dependency(mismatch.group(2), root, tracked):
            return CannotRun(
                KIND_COLLECTION,
                f"ImportError: cannot import name '{mismatch.group(1)}' from "
                f"'{mismatch.group(2)}' (an installed version this code does not work with?)",
                where=f"collecting {place}",
                module=mismatch.group(2),
            )
    return None


def _probe(suite: TestSuite, root: Path) -> list[str]:
    """No test selected: still check that the command starts and can collect tests."""
    from ..gitrepo import reset_worktree

    probe_command = ecosystem_of(suite.command).probe(suite.command)
    if probe_command is None:
        missing = program_missing(suite.command, root)
        if missing:
            raise cannot_run_error(
                CannotRun(KIND_NOT_FOUND, missing), suite.command, suite.timeout, root
            )
        return []
    try:
        run = suite.run(root, command=probe_command)
    finally:
        reset_worktree(root)
    problem = cannot_run(run, probe_command)
    if problem is not None and problem.kind != KIND_NO_TESTS:
        raise cannot_run_error(problem, suite.command, suite.timeout, root)
    failures = collection_failures(run, [])
    if not failures:
        return []
    if ecosystem_of(suite.command).collected(run.output) == 0:
        first = environment_failure(failures, root) or CannotRun(
            KIND_COLLECTION,
            error_line(failures[0][1]),
            where=f"collecting {failures[0][0]}",
            module=missing_module(failures[0][1]),
        )
        raise cannot_run_error(first, suite.command, suite.timeout, root)
    return [
        f"{len(failures)} test file(s) cannot be collected here: "
        + "; ".join(f"{place}: {error_line(message)}" for place, message in failures[:3])
    ]


def program_missing(command: TestCommand, root: Path) -> str | None:
    """ "the test command cannot start: X not found" when its program is not there."""
    import shutil

    from ..sandbox.runner import run_env

    path = run_env(root, command).get("PATH")
    if shutil.which(command.argv[0], path=path) is None:
        return f"the test command cannot start: {command.argv[0]}: not found"
    return None


def cannot_run_error(
    problem: CannotRun, command: TestCommand, timeout: float, root: Path | None = None
) -> TestsCannotRun:
    """The exit-3 error for ``problem``: the cause, the command, the interpreter, the fix.
    Paths in the worktree ``root`` (gone when the user reads this) are shown relative."""
    if root is not None:
        problem = replace(problem, where=problem.where.replace(f"{root}/", ""))
    parts = [
        f"the tests cannot run here, so no patch could be judged: {problem.line()}",
        f"test command: {shlex.join(command.argv)} ({command.source})",
    ]
    if command.interpreter:
        parts.append(f"interpreter: {command.interpreter}")
    message = "; ".join(parts) + ". No model was called."
    return TestsCannotRun(message, hint=_hint(problem, command, timeout))


def _hint(problem: CannotRun, command: TestCommand, timeout: float) -> str:
    """The fix: the ecosystem's, in the project's terms, else what applies to any."""
    ecosystem = ecosystem_of(command)
    set_cmd = ecosystem.set_test_cmd()
    if problem.kind == KIND_TIMEOUT:
        return f"Raise test_timeout (now {timeout:g} s), or {set_cmd}."
    if problem.kind == KIND_LIMIT:
        return (
            "Raise that setting (in .swc.toml or your user config; 0 turns the limit off) "
            "if your tests need more."
        )
    specific = ecosystem.hint(problem, command)
    if specific is not None:
        return specific
    if problem.kind == KIND_NOT_FOUND:
        return f"Install it, or {set_cmd}."
    setup = f"{ecosystem.setup_hint}, or " if ecosystem.setup_hint else ""
    return f"Run the test command in your checkout to see why, then fix it: {setup}{set_cmd}."
