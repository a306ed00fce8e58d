"""Linux: the command line of bubblewrap for one test run, and the probe of bwrap itself.

Namespaces: a new user namespace (no capability left, no nested user namespace), PID
(the command and everything it starts die with the namespace's init, setsid and double
forks included), IPC, UTS, cgroup and network (only the namespace's own loopback, which
bwrap brings up). bwrap dies with swc (``--die-with-parent``), the command gets a new
session (no TIOCSTI into swc's terminal), and its environment is exactly the scrubbed one:
``--clearenv`` plus ``--setenv``, and bwrap itself is exec'ed with that environment, since
its own ``/proc/<pid>/environ`` is readable from inside.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from .layout import Layout, inside_env

INSIDE_TMP = Path("/tmp")
HOSTNAME = "swc-sandbox"
PROBE_TIMEOUT = 20.0

# (text bwrap prints, why it fails, how to fix it): the known ways bwrap fails to start.
_FAILURES = (
    (
        "Failed RTM_NEWADDR",
        "unprivileged user namespaces are restricted by AppArmor "
        "(Ubuntu 23.10 and later: kernel.apparmor_restrict_unprivileged_userns=1)",
        "Allow bwrap to create user namespaces: install an AppArmor profile for /usr/bin/bwrap "
        'with the `userns,` rule (see docs/guide/sandbox.md, "When the sandbox cannot '
        'start"), or run `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`.',
    ),
    (
        "setting up uid map",
        "unprivileged user namespaces are restricted here (AppArmor, or "
        "a container that forbids them)",
        "On Ubuntu 23.10+, add an AppArmor profile for bwrap with `userns,` or set "
        "kernel.apparmor_restrict_unprivileged_userns=0; in a container, allow user "
        "namespaces (e.g. docker run --security-opt seccomp=unconfined --security-opt "
        "apparmor=unconfined).",
    ),
    (
        "Failed to make / slave",
        "this container does not let bwrap change mount propagation "
        "(overlayfs root without the needed privileges)",
        "Run the container with --privileged or with --security-opt seccomp=unconfined "
        "--security-opt apparmor=unconfined, or run swc outside it.",
    ),
    (
        "No permissions to create new namespace",
        "user namespaces are disabled in the kernel",
        "Enable them: `sudo sysctl -w kernel.unprivileged_userns_clone=1` (Debian before 11) "
        "or `sudo sysctl -w user.max_user_namespaces=15000`.",
    ),
    (
        "Creating new namespace failed",
        "creating namespaces is not permitted here (a "
        "container's seccomp profile, or user namespaces disabled)",
        "Allow user namespaces (user.max_user_namespaces > 0), or run the container with "
        "--security-opt seccomp=unconfined.",
    ),
)


def namespace_options(network: bool, bwrap: str | None = None) -> list[str]:
    options = [
        "--unshare-user",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]
    if bwrap is None or "--disable-userns" in bwrap_options(bwrap):
        options.append("--disable-userns")  # bwrap 0.8+: no nested user namespace
    if not network:
        options.append("--unshare-net")
    return [
        *options,
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        HOSTNAME,
    ]


def bwrap_argv(
    bwrap: str,
    layout: Layout,
    argv: Sequence[str],
    env: Mapping[str, str],
    tmpfs_bytes: int = 0,
) -> tuple[list[str], dict[str, str]]:
    """(the bwrap command line, the environment to exec bwrap with) for ``argv``; each
    tmpfs holds at most ``tmpfs_bytes`` (0: bwrap's default, half of the machine's RAM)."""
    inner_env = inside_env(env, layout.cwd or layout.workdir, layout.home, INSIDE_TMP)
    # --size applies to the --tmpfs that follows it
    size = ["--size", str(tmpfs_bytes)] if tmpfs_bytes and sizes_tmpfs(bwrap) else []
    cmd = [
        bwrap,
        *namespace_options(layout.network, bwrap),
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        # bwrap's /dev is a tmpfs of its own: its /dev/shm gets the size of the others,
        # and /dev itself is made read-only below (its device nodes stay usable)
        *size,
        "--tmpfs",
        "/dev/shm",
        "--proc",
        "/proc",
    ]
    cmd += _hiding_options(layout, size)
    if layout.git_config is not None:
        copy, real = layout.git_config
        cmd += ["--ro-bind", str(copy), str(real)]
    for blocked in layout.blocked:
        cmd += ["--ro-bind", "/dev/null", str(blocked)]
    cmd += [
        "--dir",
        str(layout.home),
        "--bind",
        str(layout.workdir),
        str(layout.workdir),
        "--bind",
        str(layout.scratch),
        str(layout.scratch),
    ]
    for path in layout.caches:
        cmd += ["--bind", str(path), str(path)]
    for path in layout.protected:
        cmd += ["--ro-bind", str(path), str(path)]
    for path in layout.hidden:
        if path not in layout.scratch_dirs:
            # the empty directory over the checkout, /home, /run... is read-only too
            cmd += ["--remount-ro", str(path)]
    cmd += ["--remount-ro", "/dev"]
    if "--clearenv" in bwrap_options(bwrap):
        # Belt and braces: bwrap is exec'ed with ``inner_env`` too (older bwrap lacks these).
        cmd.append("--clearenv")
        for name, value in sorted(inner_env.items()):
            cmd += ["--setenv", name, value]
    cmd += ["--chdir", str(layout.cwd or layout.workdir), "--", *argv]
    return cmd, inner_env


def _hiding_options(layout: Layout, size: list[str]) -> list[str]:
    """A tmpfs (of ``size``) over /tmp and each hidden directory, and what is bound back
    read-only inside them, in mount order."""
    options = [] if INSIDE_TMP in layout.hidden else [*size, "--tmpfs", str(INSIDE_TMP)]
    for kind, path in layout.mounts():
        if kind == "hide":
            options += [*size, "--tmpfs", str(path)]
        else:
            options += ["--ro-bind", str(path), str(path)]
    return options


@functools.lru_cache(maxsize=4)
def sizes_tmpfs(bwrap: str) -> bool:
    """Whether this bwrap can bound a tmpfs's size: ``--size`` came in bwrap 0.7, and a
    setuid bwrap refuses it."""
    try:
        setuid = bool(os.stat(bwrap).st_mode & stat.S_ISUID)
    except OSError:
        return False
    return not setuid and "--size" in bwrap_options(bwrap)


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


@functools.lru_cache(maxsize=4)
def bwrap_options(bwrap: str) -> frozenset[str]:
    """The long options this bwrap knows (from its --help), to use newer ones safely."""
    try:
        out = subprocess.run(
            [bwrap, "--help"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(re.findall(r"(--[a-z][a-z-]+)", out))


@functools.lru_cache(maxsize=4)
def bwrap_version(bwrap: str) -> str:
    try:
        out = subprocess.run(
            [bwrap, "--version"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", out)
    return match.group(1) if match else "unknown"


def explain_failure(stderr: str) -> tuple[str, str]:
    """(why, how to fix it) for what bwrap printed when it could not start."""
    for marker, why, fix in _FAILURES:
        if marker in stderr:
            return why, fix
    return (
        stderr.strip().splitlines()[-1] if stderr.strip() else "bwrap failed to start",
        "Check that bubblewrap works here: `bwrap --unshare-all --ro-bind / / true`.",
    )


def probe_bwrap(bwrap: str) -> tuple[str, str] | None:
    """None when bwrap runs a command with every namespace swc asks for; else (why, fix)."""
    true = shutil.which("true") or sys.executable
    args = [] if true != sys.executable else ["-c", "pass"]
    with tempfile.TemporaryDirectory(prefix="swcprobe-") as tmp:
        cmd = [
            bwrap,
            *namespace_options(False, bwrap),
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
            "--bind",
            tmp,
            tmp,
            "--chdir",
            tmp,
            "--",
            true,
            *args,
        ]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=PROBE_TIMEOUT,
                stdin=subprocess.DEVNULL,
                env={"PATH": "/usr/bin:/bin"},
            )
        except subprocess.TimeoutExpired:
            return "bwrap did not finish a trivial command", "Check `bwrap --version`."
        except OSError as exc:
            return f"bwrap cannot be started: {exc.strerror or exc}", "Reinstall bubblewrap."
    if proc.returncode == 0:
        return None
    return explain_failure(proc.stderr)
