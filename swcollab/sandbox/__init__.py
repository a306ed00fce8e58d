"""The sandbox: disposable worktrees, and test runs of model-written code in an OS
sandbox (bubblewrap on Linux, sandbox-exec on macOS) without secrets, network or leftovers.

Light to import: standard library only (git and bwrap run as subprocesses).
"""

from __future__ import annotations

from .command import TestCommand
from .env import mask_secrets, masked_values, scrubbed_env
from .isolation import (
    OFF_WARNING,
    UNSANDBOXED,
    Isolation,
    SandboxInfo,
    probe_sandbox,
    require_sandbox,
    sandbox_summary,
)
from .results import TestResult, TestRun, clip_output, parse_junit
from .runner import DEFAULT_TIMEOUT, SandboxRunner, TestRunner, run_tests
from .worktree import Worktree, prune_stale_worktrees, work_base

__all__ = [
    "DEFAULT_TIMEOUT",
    "OFF_WARNING",
    "UNSANDBOXED",
    "Isolation",
    "SandboxInfo",
    "SandboxRunner",
    "TestCommand",
    "TestResult",
    "TestRun",
    "TestRunner",
    "Worktree",
    "clip_output",
    "mask_secrets",
    "masked_values",
    "parse_junit",
    "probe_sandbox",
    "prune_stale_worktrees",
    "require_sandbox",
    "run_tests",
    "sandbox_summary",
    "scrubbed_env",
    "work_base",
]
