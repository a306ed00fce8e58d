"""The few git calls the eval needs, through the one git module (``gitrepo``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..errors import EnvironmentProblem, UsageError
from ..gitrepo import apply_patch as _apply_patch
from ..gitrepo import commit_sha, run_git
from ..gitrepo import restore_paths as _restore_paths


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = run_git(args, root, check=False)
    if check and proc.returncode != 0:
        raise EnvironmentProblem(f"git {' '.join(args[:3])} failed: {proc.stderr.strip()}")
    return proc


def commit_exists(root: Path, rev: str) -> bool:
    return commit_sha(root, rev) is not None


def log_changes(root: Path, rev_range: str) -> list[tuple[str, list[str], list[str]]]:
    """(sha, parents, paths changed against the first parent) of every non-merge commit
    of ``rev_range``, newest first, all parents followed: one git call for the history."""
    proc = git(
        root,
        "-c",
        "core.quotepath=off",
        "log",
        "--no-merges",
        "--no-renames",
        "--name-only",
        "--format=%x01%H %P",
        rev_range,
        "--",
        check=False,
    )
    if proc.returncode != 0:
        raise UsageError(
            f"--from-history {rev_range}: not a revision range of this repository",
            hint="Use a branch (main), a range (v1.0..main) or leave it out.",
        )
    commits = []
    for chunk in proc.stdout.split("\x01")[1:]:
        head, _, body = chunk.partition("\n")
        shas = head.split()
        files = [line for line in body.splitlines() if line.strip()]
        commits.append((shas[0], shas[1:], files))
    return commits


def parents(root: Path, sha: str) -> list[str]:
    return git(root, "rev-list", "--parents", "-n", "1", sha).stdout.split()[1:]


def changed_paths(root: Path, old: str, new: str) -> list[str]:
    out = git(
        root,
        "-c",
        "core.quotepath=off",
        "diff-tree",
        "-r",
        "--no-commit-id",
        "--name-only",
        "--no-renames",
        "-z",
        old,
        new,
    ).stdout
    return [p for p in out.split("\0") if p]


def diff(root: Path, old: str, new: str, paths: list[str]) -> str:
    if not paths:
        return ""
    return git(
        root,
        "diff",
        "--binary",
        "--no-color",
        "--no-ext-diff",
        "--no-renames",
        old,
        new,
        "--",
        *paths,
    ).stdout


def message(root: Path, sha: str) -> str:
    return git(root, "log", "-1", "--format=%B", sha).stdout.strip()


def commit_date(root: Path, sha: str) -> str:
    return git(root, "log", "-1", "--format=%cI", sha).stdout.strip()


def apply_patch(root: Path, patch: str) -> str | None:
    """Apply a unified diff in a worktree; the error text when it does not apply."""
    return _apply_patch(root, patch)


def restore_paths(root: Path, base: str, paths: tuple[str, ...]) -> None:
    """Put ``paths`` back as they are at ``base`` (removing those that are not there)."""
    _restore_paths(root, base, paths)


def repo_names(root: Path) -> tuple[str, ...]:
    """Names an instance's ``repo`` field may use for this repository: owner/name of the
    ``origin`` remote (GitHub form or a path's last part) and the directory's name."""
    names = [root.name]
    proc = git(root, "remote", "get-url", "origin", check=False)
    url = proc.stdout.strip() if proc.returncode == 0 else ""
    if url:
        local = url.startswith(("/", ".", "file://")) or Path(url).exists()
        path = url.rstrip("/").removesuffix(".git").removesuffix(".bundle")
        path = path.split("://", 1)[1] if "://" in path else path.split(":", 1)[-1]
        parts = [p for p in path.replace("\\", "/").split("/") if p]
        if len(parts) >= 2 and not local:
            names.append("/".join(parts[-2:]))
        if parts:
            names.append(parts[-1])
    return tuple(dict.fromkeys(n for n in names if n))


def repo_identity(root: Path) -> str:
    """``owner/name`` when the origin remote says so, else the directory's name."""
    names = repo_names(root)
    with_owner = [n for n in names if "/" in n]
    return with_owner[0] if with_owner else names[0]
