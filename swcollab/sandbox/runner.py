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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..errors import SandboxUnavailable
from ..interrupts import checkpoint
from .command import TestCommand
from .env import mask_secrets, masked_values, scrubbed_env
from .isolation import Isolation, SandboxInfo, require_sandbox, wrap_command
from .results import LimitHit, TestRun
from .worktree import RUNNING_NAME, holder_of, record_running_group

if TYPE_CHECKING:
    from .limits import RunBounds

# (exit code, timed out, output, the resource limits it hit) of one execution
Outcome = tuple[int | None, bool, str, tuple[LimitHit, ...]]
DEFAULT_TIMEOUT = 300.0
# Output kept from one run: more is cut in the middle (a runaway test can print gigabytes).
MAX_OUTPUT_BYTES = 4_000_000
# what a run of nothing but missing tests reports (pytest's exit code for "not found")
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
    The command's ecosystem says how to run ``selection`` (test ids or files) and reads
    each test's result from the runner's report. Values of removed secrets are masked in
    what is returned.
    """
    from ..ecosystems import ecosystem_of

    root = Path(root).resolve()
    sandbox = require_sandbox(isolation)
    ecosystem = ecosystem_of(command)
    chosen = [s for s in selection if s]
    notes: list[str] = []
    if chosen:
        chosen, missing = ecosystem.missing_from(root, chosen)
        if missing:
            notes.append(f"not found, left out of the run: {', '.join(missing)}")
        if not chosen:
            # an empty selection would run every test: report instead that none exists
            output = "".join(f"[swc: {note}]\n" for note in notes)
            return TestRun(EXIT_NOT_FOUND, False, output, 0.0, (), tuple(command.argv))
    started = time.monotonic()
    run = _run_once(root, command, chosen, timeout, isolation, sandbox)
    unknown = ecosystem.unknown_ids(run.output, root, chosen) if run.exit_code else []
    remaining = [s for s in chosen if s not in unknown]
    if unknown:
        notes.append(f"not found, left out of the run: {', '.join(unknown)}")
    if unknown and remaining:
        # a runner that refuses the whole run for one unknown id (pytest): a test the
        # engine generated earlier may be gone; run again without the unknown ones
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
    from ..ecosystems import ecosystem_of

    ecosystem = ecosystem_of(command)
    # In a swc worktree, the run's files live in its holder (outside the tree), so a
    # killed swc leaves nothing that prune_stale_worktrees does not remove.
    holder = holder_of(root)
    with tempfile.TemporaryDirectory(prefix="swcrun-", dir=holder) as tmp:
        run_dir = Path(tmp)
        out = run_dir / "out"
        out.mkdir()
        invocation = ecosystem.invocation(command, chosen, root, out)
        env = run_env(root, command, isolation.cache_dir)
        env.update(invocation.env)
        if sandbox is None:
            # No private /tmp without the sandbox: a temp directory of the run's own, so
            # runs side by side (swc eval -j N) never share a file a test puts there
            (run_dir / "tmp").mkdir()
            env.update({name: str(run_dir / "tmp") for name in ("TMPDIR", "TMP", "TEMP")})
        argv = invocation.argv
        if shutil.which(argv[0], path=env.get("PATH")) is None:
            # 127, as a shell says "command not found"
            output = f"[swc: cannot run {argv[0]}: {os.strerror(errno.ENOENT)}]\n"
            return TestRun(
                EXIT_CANNOT_RUN, False, output, 0.0, (), argv, sandboxed=sandbox is not None
            )
        ecosystem.before_run(root, command, isolation.cache_dir)
        place = Place(root, root / invocation.cwd, run_dir, holder)
        with project_deps(root, command, ecosystem.project_deps) as readable:
            readable += ecosystem.readable(command)
            exit_code, timed_out, output, hits = _sandboxed(
                argv, place, env, timeout, isolation, sandbox, readable
            )
        read = ecosystem.read(command, output, out, root, chosen)
    return TestRun(
        exit_code,
        timed_out,
        read.output,
        0.0,
        read.results,
        argv,
        network_isolated=sandbox is not None and not isolation.network,
        sandboxed=sandbox is not None,
        limit_hits=hits,
    )


@dataclass(frozen=True)
class Place:
    """Where a run happens: the worktree, the directory it starts in, swc's private
    directory of the run, and the worktree's holder (None: not a swc worktree)."""

    root: Path
    cwd: Path
    run_dir: Path
    holder: Path | None


@contextlib.contextmanager
def project_deps(root: Path, command: TestCommand, names: Sequence[str]) -> Iterator[list[str]]:
    """The project's dependencies from the user's checkout (``node_modules``: untracked,
    so never in a worktree) linked into the worktree for the run, and removed after it;
    yields the directories the sandbox must show read-only for them."""
    from .layout import checkout_for

    checkout = checkout_for(root) if names else None
    made: list[Path] = []
    readable: list[str] = []
    try:
        for name in names if checkout is not None and checkout != root else ():
            source = checkout / command.project / name
            link = root / command.project / name
            if source.is_dir() and not os.path.lexists(link):
                link.symlink_to(source, target_is_directory=True)
                made.append(link)
                readable.append(str(source))
        yield readable
    finally:
        for link in made:
            with contextlib.suppress(OSError):
                link.unlink()


def _sandboxed(
    argv: Sequence[str],
    place: Place,
    env: dict[str, str],
    timeout: float,
    isolation: Isolation,
    sandbox: SandboxInfo | None,
    readable: Sequence[str] = (),
) -> Outcome:
    """Execute ``argv`` in the sandbox (or bare, when it is off), within its resource
    limits. A sandbox that fails to set up is tried once more (a socket it was told to
    cover may have just gone), then is an error: its failure must not pass for a test
    result."""
    out_path = place.run_dir / "output"
    if sandbox is None:
        return _execute(argv, place.cwd, env, timeout, out_path, place.holder)
    from .layout import build_layout
    from .limits import RunBounds

    for attempt in (1, 2):
        layout = build_layout(
            place.root,
            place.run_dir,
            env,
            argv0=argv[0],
            network=isolation.network,
            readable=[Path(p) for p in readable],
            cwd=place.cwd,
            caches=[isolation.cache_dir] if isolation.cache_dir is not None else [],
        )
        with RunBounds(isolation.limits, sandbox.kind) as bounds:
            inner = bounds.inner_argv(argv)
            wrapped, inner_env = wrap_command(sandbox, layout, inner, env, bounds.tmpfs_bytes())
            status_fd = _status_pipe() if _reports_status(sandbox) else None
            if status_fd is not None:
                wrapped = [wrapped[0], "--json-status-fd", str(status_fd[1]), *wrapped[1:]]
            result = _execute(
                wrapped, place.cwd, inner_env, timeout, out_path, place.holder, status_fd, bounds
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


def run_env(
    root: Path, command: TestCommand | None = None, cache: Path | None = None
) -> dict[str, str]:
    """The scrubbed environment, plus what the command's ecosystem adds: the project's
    environment first on PATH, the worktree's code first on its import path, the run's
    shared caches (``cache``)."""
    from ..ecosystems import ecosystem_of

    env = scrubbed_env()
    ecosystem_of(command).run_env(env, root, command, cache)
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
