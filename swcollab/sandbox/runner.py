"""Running a test command on untrusted code: in the OS sandbox, with a time limit, no
secrets, no network, and nothing of the run alive after it."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import SandboxUnavailable
from ..interrupts import checkpoint
from .detect import TestCommand
from .env import mask_secrets, masked_values, scrubbed_env
from .isolation import Isolation, SandboxInfo, require_sandbox, wrap_command
from .results import LimitHit, TestRun, parse_junit
from .worktree import RUNNING_NAME, holder_of, record_running_group

if TYPE_CHECKING:
    from .limits import RunBounds

# (exit code, timed out, output, the resource limits it hit) of one execution
Outcome = tuple[int | None, bool, str, tuple[LimitHit, ...]]
DEFAULT_TIMEOUT = 300.0
# Output kept from one run: more is cut in the middle (a runaway test can print gigabytes).
MAX_OUTPUT_BYTES = 4_000_000
# pytest's exit code for usage errors, among them "not found" for a selected test.
EXIT_NOT_FOUND = 4
EXIT_CANNOT_RUN = 127
SANDBOXED = Isolation()


def run_tests(
    root: Path,
    command: TestCommand,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    selection: Sequence[str] = (),
    isolation: Isolation = SANDBOXED,
) -> TestRun:
    """Run ``command`` in ``root`` (a worktree) and report what happened, never raising for
    a failing, crashing or hanging test run.

    By default the run is sandboxed (``isolation``); when the sandbox is asked for and
    cannot run here, ``SandboxUnavailable`` is raised: never a silent run without it.
    pytest gets a JUnit report (written outside ``root``) for per-test results, keeps
    going past collection errors, and leaves no cache in the tree. ``selection`` (test ids
    or files) narrows the run. Values of removed secrets are masked in what is returned.
    """
    root = Path(root).resolve()
    sandbox = require_sandbox(isolation)
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
    run = _run_once(root, command, chosen, timeout, isolation, sandbox)
    unknown = _not_found_ids(run.output, root, chosen) if run.exit_code == EXIT_NOT_FOUND else []
    remaining = [s for s in chosen if s not in unknown]
    if unknown:
        notes.append(f"not found, left out of the run: {', '.join(unknown)}")
    if unknown and remaining:
        # pytest refuses the whole run when one selected id does not exist (a test the
        # engine generated earlier may be gone): run again without the unknown ones.
        left = max(timeout - (time.monotonic() - started), 1.0)
        run = _run_once(root, command, remaining, left, isolation, sandbox)
    output = run.output
    if run.timed_out:
        notes.append(f"the test run was killed at its time limit of {timeout:g} s")
    notes += [hit.text for hit in run.limit_hits]
    if notes and output and not output.endswith("\n"):
        output += "\n"
    output += "".join(f"[swc: {note}]\n" for note in notes)
    return _masked(replace(run, output=output, duration_s=time.monotonic() - started))


def _masked(run: TestRun) -> TestRun:
    """Defence in depth: a removed secret that reached the output anyway becomes ``***``."""
    values = masked_values()
    if not values:
        return run
    results = tuple(replace(r, message=mask_secrets(r.message, values)) for r in run.results)
    return replace(run, output=mask_secrets(run.output, values), results=results)


def _run_once(
    root: Path,
    command: TestCommand,
    chosen: Sequence[str],
    timeout: float,
    isolation: Isolation,
    sandbox: SandboxInfo | None,
) -> TestRun:
    # In a swc worktree, the run's files live in its holder (outside the tree), so a
    # killed swc leaves nothing that prune_stale_worktrees does not remove.
    holder = holder_of(root)
    with tempfile.TemporaryDirectory(prefix="swcrun-", dir=holder) as tmp:
        run_dir = Path(tmp)
        (run_dir / "out").mkdir()
        junit = run_dir / "out" / "junit.xml" if command.is_pytest else None
        argv = command_argv(command, chosen, root, junit)
        env = run_env(root, command)
        if sandbox is None:
            # No private /tmp without the sandbox: a temp directory of the run's own, so
            # runs side by side (swc eval -j N) never share a file a test puts there
            (run_dir / "tmp").mkdir()
            env.update({name: str(run_dir / "tmp") for name in ("TMPDIR", "TMP", "TEMP")})
        if shutil.which(argv[0], path=env.get("PATH")) is None:
            # 127, as a shell says "command not found"
            output = f"[swc: cannot run {argv[0]}: {os.strerror(errno.ENOENT)}]\n"
            return TestRun(
                EXIT_CANNOT_RUN, False, output, 0.0, (), argv, sandboxed=sandbox is not None
            )
        readable = command.python_env.site_paths if command.python_env is not None else ()
        exit_code, timed_out, output, hits = _sandboxed(
            argv, root, env, timeout, run_dir, holder, isolation, sandbox, readable
        )
        results = parse_junit(junit, root) if junit is not None else ()
    return TestRun(
        exit_code,
        timed_out,
        output,
        0.0,
        results,
        argv,
        network_isolated=sandbox is not None and not isolation.network,
        sandboxed=sandbox is not None,
        limit_hits=hits,
    )


def _sandboxed(
    argv: Sequence[str],
    root: Path,
    env: dict[str, str],
    timeout: float,
    run_dir: Path,
    holder: Path | None,
    isolation: Isolation,
    sandbox: SandboxInfo | None,
    readable: Sequence[str] = (),
) -> Outcome:
    """Execute ``argv`` in the sandbox (or bare, when it is off), within its resource
    limits. A sandbox that fails to set up is tried once more (a socket it was told to
    cover may have just gone), then is an error: its failure must not pass for a test
    result."""
    if sandbox is None:
        return _execute(argv, root, env, timeout, run_dir / "output", holder)
    from .layout import build_layout
    from .limits import RunBounds

    for attempt in (1, 2):
        layout = build_layout(
            root,
            run_dir,
            env,
            argv0=argv[0],
            network=isolation.network,
            readable=[Path(p) for p in readable],
        )
        with RunBounds(isolation.limits, sandbox.kind) as bounds:
            inner = bounds.inner_argv(argv)
            wrapped, inner_env = wrap_command(sandbox, layout, inner, env, bounds.tmpfs_bytes())
            status_fd = _status_pipe() if _reports_status(sandbox) else None
            if status_fd is not None:
                wrapped = [wrapped[0], "--json-status-fd", str(status_fd[1]), *wrapped[1:]]
            result = _execute(
                wrapped, root, inner_env, timeout, run_dir / "output", holder, status_fd, bounds
            )
        if status_fd is None or _child_started(status_fd[0]):
            return result
        if attempt == 2:
            raise SandboxUnavailable(
                "the sandbox could not start the test command: " + result[2].strip()[-500:],
                hint="Run `swc doctor` to check the sandbox here.",
            )
    raise AssertionError("unreachable")


def _reports_status(sandbox: SandboxInfo) -> bool:
    """Whether this sandbox can say that the command started (bwrap's --json-status-fd)."""
    if sandbox.kind != "bwrap" or not sandbox.program:
        return False
    from .bwrap import bwrap_options

    return "--json-status-fd" in bwrap_options(sandbox.program)


def _status_pipe() -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    return read_fd, write_fd


def _child_started(read_fd: int) -> bool:
    """Whether bwrap reported the sandboxed command as started (``child-pid``)."""
    chunks = []
    with contextlib.suppress(BlockingIOError, OSError):
        while chunk := os.read(read_fd, 65536):
            chunks.append(chunk)
    os.close(read_fd)
    for line in b"".join(chunks).decode("utf-8", "replace").splitlines():
        with contextlib.suppress(ValueError, AttributeError):
            if "child-pid" in json.loads(line):
                return True
    return False


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
            reported.add(line[len("ERROR: not found: ") :].strip())
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


def run_env(root: Path, command: TestCommand | None = None) -> dict[str, str]:
    """The scrubbed environment, plus: no bytecode files, the project's environment, and
    the worktree's code first.

    The project's virtualenv (``command.python_env``) is on PATH first, as if activated.
    The worktree (its ``src/``, and the directories an editable install of the user's
    checkout points at, mapped to the worktree) goes first on PYTHONPATH, so the patched
    code is imported, never the checkout's.
    """
    env = scrubbed_env()
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    python_env = command.python_env if command is not None else None
    first = [str(root / "src")] if (root / "src").is_dir() else []
    first.append(str(root))
    after: list[str] = []
    if python_env is not None:
        if python_env.prefix:
            prefix = Path(python_env.prefix)
            bin_dir = prefix / ("Scripts" if (prefix / "Scripts").is_dir() else "bin")
            env["PATH"] = os.pathsep.join([str(bin_dir), *env.get("PATH", "").split(os.pathsep)])
            if (prefix / "pyvenv.cfg").is_file():
                env["VIRTUAL_ENV"] = str(prefix)
            env.pop("PYTHONHOME", None)
        first += [str(root / rel) for rel in python_env.editable_paths]
        after += list(python_env.extra_paths)
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(first + after + rest))
    return env


def _execute(
    argv: Sequence[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    out_path: Path,
    holder: Path | None = None,
    status_fd: tuple[int, int] | None = None,
    bounds: RunBounds | None = None,
) -> Outcome:
    """Run in a new session; kill its whole process group at the end, whatever happens.

    Inside bwrap, killing the group kills bwrap, whose death kills the PID namespace and
    every process in it. Output goes to a file rather than a pipe: a grandchild that
    escaped the group and keeps the pipe open could otherwise block the read forever.
    ``bounds``: the run's resource limits, entered by the child before it execs.
    """
    checkpoint()  # a Ctrl-C that was swallowed somewhere still stops before the tests run
    passed = (status_fd[1],) if status_fd is not None else ()
    with out_path.open("wb") as out:
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=passed,
                preexec_fn=bounds.preexec() if bounds is not None else None,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            why = getattr(exc, "strerror", None) or exc
            return EXIT_CANNOT_RUN, False, f"[swc: cannot run {argv[0]}: {why}]\n", ()
        finally:
            if status_fd is not None:
                os.close(status_fd[1])
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
    output = _read_output(out_path)
    hits = bounds.hits(exit_code, output) if bounds is not None else ()
    return exit_code, timed_out, output, hits


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


class TestRunner(Protocol):
    """What the engine needs to judge code: one run of a test command in a directory.

    The engine runs every test through one of these (``TestSuite.runner``), so a test of
    the engine's logic can put an in-process fake in the sandbox's place."""

    __test__ = False  # not a pytest test class

    def run(
        self,
        root: Path,
        command: TestCommand,
        *,
        timeout: float,
        selection: Sequence[str] = (),
        isolation: Isolation = SANDBOXED,
    ) -> TestRun: ...


class SandboxRunner:
    """The real runner: ``run_tests``, sandboxed, time-limited, secrets scrubbed."""

    __test__ = False

    def run(
        self,
        root: Path,
        command: TestCommand,
        *,
        timeout: float,
        selection: Sequence[str] = (),
        isolation: Isolation = SANDBOXED,
    ) -> TestRun:
        return run_tests(root, command, timeout=timeout, selection=selection, isolation=isolation)
