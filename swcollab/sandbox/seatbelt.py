"""macOS: a ``sandbox-exec`` (Seatbelt) profile with the intent of the Linux sandbox.

UNTESTED HERE: swc's tests run on Linux; the profile text is unit-tested, not run. It
denies by default and allows, last rule winning as Seatbelt evaluates:

- reading the host, except the hidden directories of the layout (homes, temp
  directories, the checkout, ``.git/swc``) and the repository's real git config; the
  toolchains of the layout are readable again inside them;
- writing only the worktree, swc's output directory and the run's private ``$HOME`` and
  ``$TMPDIR`` (fresh directories of the run, since there is no tmpfs to mount);
- the network: loopback only (``localhost``) unless ``network_isolation = false``. There
  is no network namespace on macOS, so services on the machine's own loopback stay
  reachable; Unix sockets only under the worktree and the run's private directories;
- processes: fork and exec, signals to the sandbox's own processes only. There is no
  PID namespace: swc kills the run's process group, and a child that starts its own
  session can outlive the run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .layout import Layout, inside_env

SANDBOX_EXEC = "/usr/bin/sandbox-exec"
# Mach services a test process may need (user and group lookups, logging, temp-dir
# lookup); notably not the keychain (com.apple.SecurityServer) nor any network daemon.
MACH_SERVICES = (
    "com.apple.system.opendirectoryd.libinfo",
    "com.apple.system.DirectoryService.libinfo_v1",
    "com.apple.system.logger",
    "com.apple.logd",
    "com.apple.system.notification_center",
    "com.apple.bsd.dirhelper",
    "com.apple.diagnosticd",
)


def sbpl_string(text: str) -> str:
    """A Seatbelt string literal (backslashes and quotes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _subpaths(paths: Sequence[Path]) -> str:
    return " ".join(f"(subpath {sbpl_string(str(p))})" for p in paths)


def private_dirs(layout: Layout) -> tuple[Path, Path]:
    """The run's own $HOME and $TMPDIR (inside its private directory)."""
    return layout.run_dir / "home", layout.run_dir / "tmp"


def seatbelt_profile(layout: Layout) -> str:
    home, tmp = private_dirs(layout)
    writable = [layout.workdir, layout.scratch, *layout.caches, home, tmp]
    rules = [
        "(version 1)",
        "(deny default)",
        "(allow process-fork)",
        "(allow process-exec)",
        "(allow process-info* (target same-sandbox))",
        "(allow signal (target same-sandbox))",
        "(allow sysctl-read)",
        "(allow ipc-posix-shm)",
        "(allow ipc-posix-sem)",
        "(allow mach-lookup (global-name " + " ".join(sbpl_string(s) for s in MACH_SERVICES) + "))",
        "(allow file-read-metadata)",
        "(allow file-read*)",
    ]
    if layout.hidden:
        rules.append(f"(deny file-read* {_subpaths(layout.hidden)})")
    readable = [*layout.readable, *writable]
    rules.append(f"(allow file-read* {_subpaths(readable)})")
    denied_files = [str(p) for p in layout.blocked]
    if layout.git_config is not None:
        denied_files.append(str(layout.git_config[1]))
    if denied_files:
        rules.append(
            "(deny file-read* "
            + " ".join(f"(literal {sbpl_string(f)})" for f in denied_files)
            + ")"
        )
    rules += [
        f"(allow file-write* {_subpaths(writable)})",
        *(
            f"(deny file-write* (literal {sbpl_string(str(p))}) (subpath {sbpl_string(str(p))}))"
            for p in layout.protected
        ),
        '(allow file-write* (literal "/dev/null") (literal "/dev/zero") (literal "/dev/tty")'
        ' (literal "/dev/dtracehelper"))',
        '(allow file-ioctl (literal "/dev/dtracehelper"))',
    ]
    if layout.network:
        rules.append("(allow network*)")
    else:
        rules += [
            '(allow network-bind network-inbound (local ip "localhost:*"))',
            '(allow network-outbound (remote ip "localhost:*"))',
            f"(allow network* (remote unix-socket {_subpaths(writable)}))",
        ]
    return "\n".join(rules) + "\n"


def seatbelt_argv(
    layout: Layout, argv: Sequence[str], env: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """(the sandbox-exec command line, its environment) for ``argv``."""
    home, tmp = private_dirs(layout)
    home.mkdir(exist_ok=True)
    tmp.mkdir(exist_ok=True)
    inner_env = inside_env(env, layout.cwd or layout.workdir, home, tmp)
    return [SANDBOX_EXEC, "-p", seatbelt_profile(layout), *argv], inner_env
