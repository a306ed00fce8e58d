"""Which OS sandbox this machine gives model-written code, and wrapping a command in it.

Linux: bubblewrap. macOS: ``sandbox-exec``. Elsewhere, or where the sandbox does not
work, a test run of model-written code is refused (``SandboxUnavailable``, exit 3) unless
the user turned the sandbox off (``sandbox = "off"`` / ``--no-sandbox``); a run without
it then says so in the report and in ``--json``. The probe runs once per process.
"""

from __future__ import annotations

import functools
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import SandboxUnavailable
from .limits import Limits

if TYPE_CHECKING:
    from .layout import Layout

KIND_BWRAP = "bwrap"
KIND_SEATBELT = "sandbox-exec"
KIND_NONE = "none"
KIND_OFF = "off"

INSTALL_HINT = (
    "Install bubblewrap (Debian/Ubuntu: sudo apt install bubblewrap; Fedora: sudo dnf "
    "install bubblewrap; Arch: sudo pacman -S bubblewrap)"
)
OPT_OUT_HINT = (
    'or, at your own risk, run model-written tests without a sandbox: sandbox = "off" in '
    ".swc.toml, or --no-sandbox."
)


@dataclass(frozen=True)
class Isolation:
    """What a test run asks for: the OS sandbox, whether it shares the host network, the
    sandbox's resource limits, and the run's cache directory."""

    sandbox: bool = True
    network: bool = False  # True: tests reach the host's network (network_isolation = false)
    limits: Limits = field(default_factory=Limits)
    # a directory the run's test commands keep build caches in (cargo's target, Go's build
    # cache), writable inside and shared by the run's attempts; None: none kept
    cache_dir: Path | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> Isolation:
        return cls(
            sandbox=settings.sandbox != "off",
            network=not settings.network_isolation,
            limits=Limits.from_settings(settings),
        )


# The user's own tests in the user's own checkout (``swc hook``): no model wrote them.
UNSANDBOXED = Isolation(sandbox=False, network=True)


@dataclass(frozen=True)
class SandboxInfo:
    """The sandbox this machine offers; ``problem`` says why it cannot be used here."""

    kind: str
    program: str | None = None
    version: str = ""
    problem: str | None = None
    fix: str | None = None

    @property
    def available(self) -> bool:
        return self.kind in (KIND_BWRAP, KIND_SEATBELT) and self.problem is None

    def describe(self) -> str:
        name = f"{self.kind} {self.version}".strip() if self.kind != KIND_NONE else "none"
        if self.problem:
            return f"{name}: not usable here: {self.problem}"
        return name

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "program": self.program,
            "version": self.version,
            "available": self.available,
            "problem": self.problem,
            "fix": self.fix,
        }


@functools.lru_cache(maxsize=1)
def probe_sandbox() -> SandboxInfo:
    """The sandbox of this machine, tried once per process with a trivial command."""
    if sys.platform.startswith("linux"):
        from .bwrap import bwrap_version, find_bwrap, probe_bwrap

        bwrap = find_bwrap()
        if bwrap is None:
            return SandboxInfo(
                KIND_BWRAP,
                problem="bwrap (bubblewrap) is not installed",
                fix=INSTALL_HINT + ", " + OPT_OUT_HINT,
            )
        failure = probe_bwrap(bwrap)
        version = bwrap_version(bwrap)
        if failure is not None:
            why, fix = failure
            return SandboxInfo(KIND_BWRAP, bwrap, version, why, fix + " Or, " + OPT_OUT_HINT)
        return SandboxInfo(KIND_BWRAP, bwrap, version)
    if sys.platform == "darwin":
        return _probe_seatbelt()
    return SandboxInfo(
        KIND_NONE,
        problem=f"no sandbox is available on {sys.platform}: swc "
        "sandboxes tests with bubblewrap on Linux and sandbox-exec on macOS",
        fix="Run swc on Linux or macOS, " + OPT_OUT_HINT,
    )


def _probe_seatbelt() -> SandboxInfo:
    import subprocess

    from .seatbelt import SANDBOX_EXEC

    if not shutil.which(SANDBOX_EXEC):
        return SandboxInfo(
            KIND_SEATBELT,
            problem=f"{SANDBOX_EXEC} is missing",
            fix="It ships with macOS; " + OPT_OUT_HINT,
        )
    try:
        proc = subprocess.run(
            [SANDBOX_EXEC, "-p", "(version 1)(allow default)", "/usr/bin/true"],
            capture_output=True,
            text=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return SandboxInfo(KIND_SEATBELT, SANDBOX_EXEC, problem=str(exc), fix=OPT_OUT_HINT)
    if proc.returncode != 0:
        return SandboxInfo(
            KIND_SEATBELT,
            SANDBOX_EXEC,
            problem=proc.stderr.strip() or "sandbox-exec failed",
            fix="Check `sandbox-exec -p '(version 1)(allow default)' true`; " + OPT_OUT_HINT,
        )
    return SandboxInfo(KIND_SEATBELT, SANDBOX_EXEC, "macOS")


def require_sandbox(isolation: Isolation) -> SandboxInfo | None:
    """The sandbox to run in (None when the user turned it off); raises
    ``SandboxUnavailable`` rather than ever running model-written code without it."""
    if not isolation.sandbox:
        return None
    info = probe_sandbox()
    if not info.available:
        raise SandboxUnavailable(
            f"model-written code must run in a sandbox, and none works here: {info.problem}",
            hint=info.fix,
        )
    return info


def sandbox_summary(isolation: Isolation) -> dict[str, Any]:
    """What the report and ``--json`` say about the sandbox of a run."""
    if not isolation.sandbox:
        return {"kind": KIND_OFF, "version": "", "network_isolated": False}
    info = probe_sandbox()
    return {"kind": info.kind, "version": info.version, "network_isolated": not isolation.network}


OFF_WARNING = (
    'the sandbox is OFF (sandbox = "off" / --no-sandbox): model-written tests ran '
    "with your user's rights, files, network and processes"
)


def wrap_command(
    info: SandboxInfo,
    layout: Layout,
    argv: Sequence[str],
    env: Mapping[str, str],
    tmpfs_bytes: int = 0,
) -> tuple[list[str], dict[str, str]]:
    """(command line, environment) running ``argv`` in the sandbox ``info`` describes;
    ``tmpfs_bytes``: the size of each tmpfs (bwrap), 0 for no limit."""
    if info.kind == KIND_BWRAP and info.program:
        from .bwrap import bwrap_argv

        return bwrap_argv(info.program, layout, argv, env, tmpfs_bytes)
    if info.kind == KIND_SEATBELT:
        from .seatbelt import seatbelt_argv

        return seatbelt_argv(layout, argv, env)
    raise SandboxUnavailable(f"no sandbox to run {argv[0]} in")
