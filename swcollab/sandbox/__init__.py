"""The sandbox: disposable worktrees and test runs without secrets, network or leftovers.

Light to import: standard library only (git runs as a subprocess).
"""

from __future__ import annotations

from .detect import TestCommand, detect_test_command
from .env import isolation_warning, network_isolation_available, scrubbed_env
from .results import TestResult, TestRun, clip_output, parse_junit
from .runner import DEFAULT_TIMEOUT, run_tests
from .worktree import Worktree, prune_stale_worktrees

__all__ = [
    "DEFAULT_TIMEOUT",
    "TestCommand",
    "TestResult",
    "TestRun",
    "Worktree",
    "clip_output",
    "detect_test_command",
    "isolation_warning",
    "network_isolation_available",
    "parse_junit",
    "prune_stale_worktrees",
    "run_tests",
    "scrubbed_env",
]
