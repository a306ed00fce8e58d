"""Helpers for the sandbox tests: git in a test repository, snapshots of its state."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path


def git(cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def file_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` except inside ``.git``, untracked ones included."""
    hashes = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git" or not path.is_file():
            continue
        hashes[rel.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def repo_state(root: Path) -> dict[str, object]:
    """Everything swc promises never to change in the user's repository."""
    index = root / ".git" / "index"
    refs = [line for line in git(root, "for-each-ref", "--format=%(refname) %(objectname)")
            .splitlines() if not line.startswith("refs/heads/swc/")]
    return {
        "status": git(root, "--no-optional-locks", "status", "--porcelain=v1",
                      "--untracked-files=all", "--ignored"),
        "ls_files": git(root, "ls-files", "-s"),
        "index_sha256": hashlib.sha256(index.read_bytes()).hexdigest(),
        "index_mtime": index.stat().st_mtime_ns,
        "head": git(root, "rev-parse", "HEAD"),
        "branch": git(root, "symbolic-ref", "HEAD"),
        "stash": git(root, "stash", "list", "--format=%H %s"),
        "refs": refs,
        "worktrees": git(root, "worktree", "list", "--porcelain"),
        "files": file_hashes(root),
    }


def marked_processes(marker: str) -> list[int]:
    """Pids of the live processes (zombies excepted) whose command line holds ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state not in ("Z", "X"):
            found.append(int(proc.name))
    return found


def wait_until_gone(marker: str, timeout: float = 30.0) -> bool:
    """Whether every process marked ``marker`` is gone (the kernel may take a moment)."""
    deadline = time.monotonic() + timeout
    while marked_processes(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
