"""Small git plumbing shared by the worktree and git-output code.

Plain ``git`` subprocesses: every operation here is one plumbing command (worktree add,
write-tree, commit-tree, update-ref) that GitPython would itself hand to ``git``. The
point of the helpers is what they guarantee about the user's repository:

- ``GIT_OPTIONAL_LOCKS=0``: ``git status`` must not refresh (rewrite) the user's index;
- a *temporary* index (a copy of the real one) for staging, so the user's index and the
  worktree's are never written;
- hooks off (``core.hooksPath=/dev/null``): a post-checkout or reference-transaction hook
  of the user's must not run for swc's internal worktrees and refs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import EnvironmentProblem
from .env import GIT_LOCATION_VARS

FALLBACK_NAME = "swc"
FALLBACK_EMAIL = "swc@localhost"

# Files a test run leaves that must never count as a change of the patch.
JUNK_PATHSPECS = (
    ":(exclude,glob)**/__pycache__/**",
    ":(exclude,glob)**/*.pyc",
    ":(exclude,glob)**/.pytest_cache/**",
)


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in GIT_LOCATION_VARS}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.update(extra or {})
    return env


def run_git(
    args: Sequence[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    cmd = ["git", "-c", "core.hooksPath=/dev/null", *args]
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, env=git_env(env), capture_output=True, text=True,
            errors="replace", stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise EnvironmentProblem("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        raise EnvironmentProblem(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def git_out(args: Sequence[str], cwd: Path, *, env: Mapping[str, str] | None = None) -> str:
    return run_git(args, cwd, env=env).stdout.strip()


def git_path(cwd: Path, name: str) -> Path:
    """``git rev-parse --git-path name`` as an absolute path (per-worktree aware)."""
    raw = Path(git_out(["rev-parse", "--git-path", name], cwd))
    return raw if raw.is_absolute() else (cwd / raw).resolve()


def identity_env(cwd: Path) -> dict[str, str]:
    """Author/committer variables for what the repository's config lacks.

    The configured user wins; variables already set in the environment win too; only
    what is missing gets the fallback identity, so commits work on CI machines with no
    git identity at all.
    """
    extra: dict[str, str] = {}
    for key, fallback, suffixes in (
        ("user.name", FALLBACK_NAME, ("AUTHOR_NAME", "COMMITTER_NAME")),
        ("user.email", FALLBACK_EMAIL, ("AUTHOR_EMAIL", "COMMITTER_EMAIL")),
    ):
        configured = run_git(["config", "--get", key], cwd, check=False).stdout.strip()
        if configured:
            continue
        for suffix in suffixes:
            if not os.environ.get("GIT_" + suffix):
                extra["GIT_" + suffix] = fallback
    return extra


def stage_tree(workdir: Path, paths: Sequence[str] | None = None) -> str:
    """The tree object of ``workdir`` as it is on disk, ignored files left out.

    Staged in a copy of the worktree's index (its stat data keeps this fast), so no real
    index changes. With ``paths``, only those paths are taken from disk; the rest stays as
    in the index.
    """
    index = git_path(workdir, "index")
    with tempfile.TemporaryDirectory(prefix="swcidx-") as tmp:
        tmp_index = Path(tmp) / "index"
        env = {"GIT_INDEX_FILE": str(tmp_index)}
        if index.is_file():
            # copy2 keeps the mtime: git's racy-entry check compares file mtimes against
            # the index's own, and a fresh mtime would make it trust stale stat data
            # (a same-size edit made within the same second would go unseen).
            shutil.copy2(index, tmp_index)
        else:
            run_git(["read-tree", "HEAD"], workdir, env=env)
        specs = [f":(literal){p}" for p in paths] if paths is not None else [":/"]
        if specs:
            run_git(["add", "--all", "--", *specs, *JUNK_PATHSPECS], workdir, env=env)
        return git_out(["write-tree"], workdir, env=env)


def commit_tree(cwd: Path, tree: str, parent: str, message: str) -> str:
    env = identity_env(cwd)
    return git_out(["commit-tree", tree, "-p", parent, "-m", message], cwd, env=env)
