"""Locating the repository and swc's state directory inside it.

These run ``git`` directly rather than through GitPython: they are needed by light
commands (``swc config``) that must start fast.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import EnvironmentProblem, NotAGitRepository

STATE_DIR_NAME = "swc"


@dataclass(frozen=True)
class RepoPaths:
    root: Path  # top of the working tree
    common_dir: Path  # the .git directory shared by all worktrees

    @property
    def state_dir(self) -> Path:
        """``.git/swc``: caches, ledger, reports, logs; shared by every worktree."""
        return self.common_dir / STATE_DIR_NAME


def git(args: list[str], cwd: Path, *, check: bool = True) -> str:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, errors="replace"
        )
    except FileNotFoundError:
        raise EnvironmentProblem("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        raise EnvironmentProblem(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def commit_sha(root: Path, rev: str) -> str | None:
    """The full SHA of the commit ``rev`` names, or None when it names no commit."""
    if not rev:
        return None
    proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                          cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def is_ancestor(root: Path, commit: str, descendant: str) -> bool:
    """Whether ``commit`` is in the history of ``descendant`` (itself included)."""
    if not commit:
        return False
    proc = subprocess.run(["git", "merge-base", "--is-ancestor", commit, descendant],
                          cwd=root, capture_output=True)
    return proc.returncode == 0


def find_repo(start: Path | None = None) -> RepoPaths | None:
    """The repository containing ``start`` (default: the current directory), or None."""
    cwd = (start or Path.cwd()).resolve()
    if not cwd.is_dir():
        cwd = cwd.parent
    try:
        proc = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "--git-common-dir"],
            cwd=cwd, capture_output=True, text=True,
        )
    except (FileNotFoundError, NotADirectoryError):
        return None
    if proc.returncode != 0:
        return None
    lines = proc.stdout.splitlines()
    if len(lines) < 2:
        return None  # a bare repository has no working tree
    root = Path(lines[0]).resolve()
    common = Path(lines[1])
    if not common.is_absolute():
        common = (cwd / common).resolve()
    return RepoPaths(root=root, common_dir=common)


def require_repo(start: Path | None = None) -> RepoPaths:
    repo = find_repo(start)
    if repo is None:
        where = (start or Path.cwd()).resolve()
        raise NotAGitRepository(
            f"{where} is not inside a git repository",
            hint="Run swc from a clone of your project, or pass --repo PATH.",
        )
    return repo


def ensure_state_dir(repo: RepoPaths) -> Path:
    path = repo.state_dir
    path.mkdir(parents=True, exist_ok=True)
    return path
