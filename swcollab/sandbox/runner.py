"""Running a test command on untrusted code: time limit, process group, no secrets, no net."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from .detect import TestCommand
from .env import isolated_argv, scrubbed_env
from .results import TestRun, parse_junit
from .worktree import RUNNING_NAME, holder_of, record_running_group

DEFAULT_TIMEOUT = 300.0
# Output kept from one run: more is cut in the middle (a runaway test can print gigabytes).
MAX_OUTPUT_BYTES = 4_000_000
# pytest's exit code for usage errors, among them "not found" for a selected test.
EXIT_NOT_FOUND = 4


def run_tests(
    root: Path,
    command: TestCommand,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    selection: Sequence[str] = (),
    isolate_network: bool = True,
) -> TestRun:
    """Run ``command`` in ``root`` (a worktree) and report what happened, never raising for
    a failing, crashing or hanging test run.

    pytest gets a JUnit report (written outside ``root``) for per-test results, keeps
    going past collection errors, and leaves no cache in the tree. ``selection`` (test ids
    or files) narrows the run. Where ``isolate_network`` is asked for but not possible,
    the run has network: ``TestRun.network_isolated`` says which happened.
    """
    root = Path(root).resolve()
    chosen = [s for s in selection if s]
    notes: list[str] = []
    if command.is_pytest and chosen:
        chosen, missing = _split_missing_files(root, chosen)
        if missing:
            notes.append(f"not found, left out of the run: {', '.join(missing)}")
        if not chosen:
            # an empty selection would run every test: report instead that none exists
            output = "".join(f"[swc: {note}]\n" for note in notes)
            return TestRun(EXIT_NOT_FOUND, False, output, 0.0, (), tuple(command.argv))
    started = time.monotonic()
    run = _run_once(root, command, chosen, timeout, isolate_network)
    unknown = _not_found_ids(run.output, root, chosen) if run.exit_code == EXIT_NOT_FOUND else []
    remaining = [s for s in chosen if s not in unknown]
    if unknown:
        notes.append(f"not found, left out of the run: {', '.join(unknown)}")
    if unknown and remaining:
        # pytest refuses the whole run when one selected id does not exist (a test the
        # engine generated earlier may be gone): run again without the unknown ones.
        left = max(timeout - (time.monotonic() - started), 1.0)
        run = _run_once(root, command, remaining, left, isolate_network)
    output = run.output
    if run.timed_out:
        notes.append(f"the test run was killed at its time limit of {timeout:g} s")
    if notes and output and not output.endswith("\n"):
        output += "\n"
    output += "".join(f"[swc: {note}]\n" for note in notes)
    return replace(run, output=output, duration_s=time.monotonic() - started)


def _run_once(
    root: Path, command: TestCommand, chosen: Sequence[str], timeout: float, isolate: bool
) -> TestRun:
    # In a swc worktree, the run's files live in its holder (outside the tree), so a
    # killed swc leaves nothing that prune_stale_worktrees does not remove.
    holder = holder_of(root)
    with tempfile.TemporaryDirectory(prefix="swcrun-", dir=holder) as tmp:
        junit = Path(tmp) / "junit.xml" if command.is_pytest else None
        argv = command_argv(command, chosen, root, junit)
        wrapped = isolated_argv(argv) if isolate else None
        exit_code, timed_out, output = _execute(
            wrapped or argv, root, run_env(root), timeout, Path(tmp) / "output", holder
        )
        results = parse_junit(junit, root) if junit is not None else ()
    return TestRun(exit_code, timed_out, output, 0.0, results, argv, wrapped is not None)


def _split_missing_files(root: Path, chosen: list[str]) -> tuple[list[str], list[str]]:
    present, missing = [], []
    for entry in chosen:
        file = entry.split("::", 1)[0]
        (present if (root / file).exists() else missing).append(entry)
    return present, missing


def _not_found_ids(output: str, root: Path, chosen: Sequence[str]) -> list[str]:
    """Selected ids that pytest reported as ``ERROR: not found: <abs path>::<name>``."""
    reported = set()
    for line in output.splitlines():
        if line.startswith("ERROR: not found: "):
            reported.add(line[len("ERROR: not found: "):].strip())
    return [s for s in chosen if s in reported or str(root / s) in reported]


def command_argv(
    command: TestCommand, selection: Sequence[str], root: Path, junit: Path | None
) -> tuple[str, ...]:
    """The argv actually run: the runner's extra options and the selection added."""
    argv = list(command.argv)
    chosen = [s for s in selection if s]
    if command.is_pytest:
        argv += ["-p", "no:cacheprovider", "--continue-on-collection-errors"]
        if not any(a == "--rootdir" or a.startswith("--rootdir=") for a in argv):
            argv.append(f"--rootdir={root}")
        if junit is not None:
            argv += ["-o", "junit_family=xunit1", f"--junitxml={junit}"]
        argv += chosen
    elif chosen and argv[:2] == ["go", "test"]:
        argv = [a for a in argv if a != "./..."] + _go_packages(chosen)
    elif chosen and argv[:2] == ["cargo", "test"]:
        argv += _cargo_targets(chosen)
    elif chosen and argv[:2] == ["npm", "test"]:
        argv += ["--", *chosen]
    else:
        argv += chosen
    return tuple(argv)


def _go_packages(chosen: list[str]) -> list[str]:
    """go test takes packages, not files: a test file selects the package it is in."""
    packages = []
    for item in chosen:
        if item.endswith(".go"):
            parent = Path(item).parent.as_posix()
            item = "." if parent == "." else "./" + parent
        packages.append(item)
    return list(dict.fromkeys(packages))


def _cargo_targets(chosen: list[str]) -> list[str]:
    """An integration test file ``tests/NAME.rs`` is the target ``--test NAME``; a name
    that is not a file filters tests by name."""
    targets: list[str] = []
    filters: list[str] = []
    for item in chosen:
        path = Path(item)
        if path.suffix == ".rs" and path.parent.name == "tests":
            targets += ["--test", path.stem]
        elif path.suffix != ".rs":
            filters.append(item)
    return targets + (["--", *filters] if filters else [])


def run_env(root: Path) -> dict[str, str]:
    """The scrubbed environment, plus: no bytecode files, and the worktree's code first.

    The worktree (and its ``src/``) goes first on PYTHONPATH so a project installed in
    editable mode from the user's checkout is imported from the patched worktree instead.
    """
    env = scrubbed_env()
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    first = [str(root / "src")] if (root / "src").is_dir() else []
    first.append(str(root))
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(first + rest)
    return env


def _execute(
    argv: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    out_path: Path,
    holder: Path | None = None,
) -> tuple[int | None, bool, str]:
    """Run in a new session; kill its whole process group at the end, whatever happens.

    Output goes to a file rather than a pipe: a grandchild that escaped the group and
    keeps the pipe open could otherwise block the read forever.
    """
    with out_path.open("wb") as out:
        try:
            proc = subprocess.Popen(
                list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        except OSError as exc:
            # 127, as a shell says "command not found"; the same inside the namespace
            return 127, False, f"[swc: cannot run {argv[0]}: {exc.strerror or exc}]\n"
        timed_out = False
        exit_code: int | None = None
        try:
            if holder is not None:
                record_running_group(holder, proc.pid)
            exit_code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # Also on Ctrl-C / SIGTERM of swc itself: the tests must not outlive us. And on
            # a normal exit: background processes the tests started die with the group.
            _kill_group(proc)
            if holder is not None:
                (holder / RUNNING_NAME).unlink(missing_ok=True)
    return exit_code, timed_out, _read_output(out_path)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _read_output(path: Path) -> str:
    size = path.stat().st_size
    with path.open("rb") as fh:
        if size <= MAX_OUTPUT_BYTES:
            data = fh.read()
        else:
            half = MAX_OUTPUT_BYTES // 2
            head = fh.read(half)
            fh.seek(size - half)
            marker = f"\n... {size - 2 * half} bytes of output elided ...\n".encode()
            data = head + marker + fh.read()
    return data.decode("utf-8", errors="replace")
