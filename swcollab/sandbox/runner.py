"""Running a test command on untrusted code: time limit, process group, no secrets, no net."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from .detect import TestCommand
from .env import isolated_argv, scrubbed_env
from .results import TestRun, parse_junit

DEFAULT_TIMEOUT = 300.0
# Output kept from one run: more is cut in the middle (a runaway test can print gigabytes).
MAX_OUTPUT_BYTES = 4_000_000


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
    with tempfile.TemporaryDirectory(prefix="swcrun-") as tmp:
        junit = Path(tmp) / "junit.xml" if command.is_pytest else None
        argv = command_argv(command, selection, root, junit)
        wrapped = isolated_argv(argv) if isolate_network else None
        started = time.monotonic()
        exit_code, timed_out, output = _execute(
            wrapped or argv, root, run_env(root), timeout, Path(tmp) / "output"
        )
        duration = time.monotonic() - started
        results = parse_junit(junit, root) if junit is not None else ()
    if timed_out:
        output += f"\n[swc: the test run was killed at its time limit of {timeout:g} s]\n"
    return TestRun(exit_code, timed_out, output, duration, results, argv, wrapped is not None)


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
        argv = [a for a in argv if a != "./..."] + chosen
    elif chosen and (argv[:2] in (["cargo", "test"], ["npm", "test"])):
        argv += ["--", *chosen]
    else:
        argv += chosen
    return tuple(argv)


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
    argv: Sequence[str], cwd: Path, env: dict[str, str], timeout: float, out_path: Path
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
            exit_code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # Also on Ctrl-C / SIGTERM of swc itself: the tests must not outlive us. And on
            # a normal exit: background processes the tests started die with the group.
            _kill_group(proc)
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
