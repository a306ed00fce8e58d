"""The git hook: run the tests on push; when they fail, fix them in the background.

``install_hook`` writes a small POSIX sh script into the hooks directory git really uses
(``core.hooksPath`` included). A hook already there is kept as ``<hook>.swc-orig`` and
run first, its failure stopping the push as before; ``uninstall_hook`` puts it back. The
script calls ``swc hook run`` (``run_hook``), which never blocks the push unless the hook
was installed with ``--blocking``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UsageError
from .gitrepo import GIT_LOCATION_VARS, RepoPaths, user_hooks_dir

if TYPE_CHECKING:
    from .sandbox import TestCommand, TestRun

MARKER = "# swc-hook: written by `swc hook install`"
ORIG_SUFFIX = ".swc-orig"
HOOK_NAMES = ("pre-push", "pre-commit", "post-commit")
# Set in the environment of everything the hook starts: git commands run by the
# background fix must not trigger the hook again.
ACTIVE_VAR = "SWC_HOOK_ACTIVE"
SKIP_VAR = "SWC_SKIP_HOOK"
PID_FILE = "hook-fix.pid"
STALE_PID_SECONDS = 6 * 3600


@dataclass(frozen=True)
class HookInstall:
    path: Path
    kept_original: Path | None  # the previous hook, now run first
    reinstalled: bool  # an swc hook was already there and was rewritten
    blocking: bool


@dataclass(frozen=True)
class HookUninstall:
    path: Path
    removed: bool
    restored: bool  # the previous hook is back in place
    note: str = ""


@dataclass(frozen=True)
class HookRun:
    exit_code: int
    lines: list[str] = field(default_factory=list)  # what to tell the user (stderr)
    passed: bool | None = None  # None: the tests did not run
    log_path: Path | None = None
    pid: int | None = None


# -- install / uninstall --------------------------------------------------------------


def hooks_dir(repo_root: Path) -> Path:
    """The directory git runs hooks from: ``core.hooksPath`` when set, else ``.git/hooks``."""
    return user_hooks_dir(repo_root)


def is_swc_hook(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return MARKER.encode() in fh.read(4096)
    except OSError:  # missing, a directory, unreadable
        return False


def hook_script(hook: str, *, blocking: bool, python: str) -> str:
    """The sh script: the kept hook first, then ``swc hook run``."""
    run_args = f"hook run --hook {shlex.quote(hook)}" + (" --blocking" if blocking else "")
    if blocking:
        call = f'exec "$swc_python" -m swcollab {run_args}'
        fallback = f"exec swc {run_args}"
    else:
        # Non-blocking: even swc failing to start must not stop the push.
        note = 'echo "swc hook: swc failed; not blocking" >&2'
        call = f'"$swc_python" -m swcollab {run_args} || {note}\n    exit 0'
        fallback = f"swc {run_args} || {note}\n    exit 0"
    return f"""#!/bin/sh
{MARKER}; `swc hook uninstall` removes it
# and puts back the hook that was here before (kept as {hook}{ORIG_SUFFIX}).
hook_dir=$(dirname -- "$0")
original="$hook_dir/{hook}{ORIG_SUFFIX}"
if [ -x "$original" ]; then
    "$original" "$@" || exit $?
fi
swc_python={shlex.quote(python)}
if [ -x "$swc_python" ]; then
    {call}
fi
if command -v swc >/dev/null 2>&1; then
    {fallback}
fi
echo "swc hook: swc is not installed any more; skipping (delete $0 to remove this hook)" >&2
exit 0
"""


def install_hook(
    repo_root: Path, hook: str = "pre-push", *, blocking: bool = False, python: str | None = None
) -> HookInstall:
    """Install (or rewrite) swc's hook; a foreign hook is kept and run first."""
    _check_name(hook)
    directory = hooks_dir(repo_root)
    directory.mkdir(parents=True, exist_ok=True)
    path, original = directory / hook, directory / (hook + ORIG_SUFFIX)
    reinstalled = False
    if _exists(path):
        if is_swc_hook(path):
            reinstalled = True
        elif _exists(original):
            raise UsageError(
                f"{path} is not swc's hook and {original} already exists; move one of "
                "them away, then run swc hook install again (nothing was changed)"
            )
        else:
            path.rename(original)  # keeps its mode, or its symlink target
    script = hook_script(hook, blocking=blocking, python=python or sys.executable)
    temporary = directory / f".{hook}.swc-tmp"
    temporary.write_text(script, encoding="utf-8")
    temporary.chmod(0o755)
    os.replace(temporary, path)
    return HookInstall(path, original if _exists(original) else None, reinstalled, blocking)


def uninstall_hook(repo_root: Path, hook: str = "pre-push") -> HookUninstall:
    """Remove swc's hook and restore the one it kept; a foreign hook is left alone."""
    _check_name(hook)
    directory = hooks_dir(repo_root)
    path, original = directory / hook, directory / (hook + ORIG_SUFFIX)
    if _exists(path) and not is_swc_hook(path):
        return HookUninstall(
            path, False, False, f"{path} was not installed by swc; left it as it is"
        )
    removed = _exists(path)
    if removed:
        path.unlink()
    restored = False
    if _exists(original):
        original.rename(path)
        restored = True
    note = "" if removed or restored else f"no swc {hook} hook in {directory}"
    return HookUninstall(path, removed, restored, note)


def _check_name(hook: str) -> None:
    if hook not in HOOK_NAMES:
        raise UsageError(f"unsupported hook {hook!r}; choose one of {', '.join(HOOK_NAMES)}")


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


# -- run ------------------------------------------------------------------------------


def run_hook(
    repo: RepoPaths,
    *,
    test_cmd: str | None,
    timeout: float,
    blocking: bool = False,
    hook: str = "pre-push",
    fix_argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> HookRun:
    """Run the tests; when they fail start ``swc fix --from-failing-tests`` detached.

    ``fix_argv`` replaces the fix command (tests use it to avoid starting a real run).
    """
    env = os.environ if environ is None else environ
    if env.get(ACTIVE_VAR) or env.get(SKIP_VAR):
        return HookRun(0)
    from .ecosystems import detect_test_command
    from .sandbox import UNSANDBOXED, run_tests

    command = detect_test_command(repo.root, test_cmd)
    if command is None:
        return HookRun(0, ["swc hook: no test command found (set test_cmd in .swc.toml); skipping"])
    # The project's own tests in the user's own checkout, as the user runs them: no model
    # wrote them, so no sandbox (it would make the checkout read-only) and network allowed.
    run = run_tests(repo.root, command, timeout=timeout, isolation=UNSANDBOXED)
    shown = shlex.join(command.argv)
    if run.passed:
        return HookRun(0, [f"swc hook: tests pass ({shown})"], passed=True)
    reason = _cannot_judge(run, command, timeout)
    if reason is not None:
        # Nothing a fix could act on: starting a paid run for it would only waste money.
        return HookRun(
            0,
            [
                f"swc hook: {reason} ({shown}); not starting a fix (set test_cmd "
                "in .swc.toml to the command that runs your tests)"
            ],
        )
    lines = [f"swc hook: tests fail ({shown})"]
    started = _start_fix(repo, hook, fix_argv, env)
    lines += started.lines
    if blocking:
        lines.append(
            f"swc hook: {hook} stopped because the tests fail (installed with "
            "--blocking); `git push --no-verify` skips the hook"
        )
    return HookRun(1 if blocking else 0, lines, False, started.log_path, started.pid)


def _cannot_judge(run: TestRun, command: TestCommand, timeout: float) -> str | None:
    """Why a run that did not pass says nothing about the code (None: tests really fail)."""
    from .ecosystems import cannot_run

    if run.timed_out:
        return f"the tests did not finish within {timeout:g} s"
    if run.exit_code is None or run.exit_code in (126, 127):
        return "the test command could not be started"
    problem = cannot_run(run, command)
    return problem.cause if problem is not None else None


def _start_fix(
    repo: RepoPaths, hook: str, fix_argv: Sequence[str] | None, env: Mapping[str, str]
) -> HookRun:
    pid_file = repo.state_dir / PID_FILE
    running = _running_fix(pid_file)
    if running is not None:
        return HookRun(
            0,
            [
                f"swc hook: a fix started by the hook is still running "
                f"(pid {running}); not starting another"
            ],
        )
    logs = repo.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"hook-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    argv = list(fix_argv or [sys.executable, "-m", "swcollab", "fix", "--from-failing-tests"])
    # git sets location variables for hooks; the fix must find its repository itself
    child_env = {k: v for k, v in env.items() if k not in GIT_LOCATION_VARS}
    child_env[ACTIVE_VAR] = "1"
    with log_path.open("ab") as log:
        log.write(
            f"# started by the {hook} hook at {datetime.now().isoformat()}: "
            f"{shlex.join(argv)}\n".encode()
        )
        log.flush()
        # A new session: the fix outlives the push and is not killed by Ctrl-C in it.
        proc = subprocess.Popen(
            argv,
            cwd=repo.root,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file.write_text(str(proc.pid), encoding="utf-8")
    shown = _relative(log_path, repo.root)
    return HookRun(
        0,
        [
            f"swc hook: fixing them in the background (pid {proc.pid}); the fix will appear "
            "as a new branch swc/... (see: git branch --list 'swc/*')",
            f"swc hook: log: {shown}",
        ],
        log_path=log_path,
        pid=proc.pid,
    )


def _running_fix(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text(encoding="utf-8").strip())
        age = time.time() - pid_file.stat().st_mtime
    except (OSError, ValueError):
        return None
    if age > STALE_PID_SECONDS:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        return pid
    return None if _is_zombie(pid) else pid


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
