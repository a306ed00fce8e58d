"""Where a model may write: inside the worktree, never through ``..``, an absolute path,
a symlink leading out, or into ``.git``."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

_DRIVE_RE = re.compile(r"^[A-Za-z]:[\\/]")


def check_path(root: Path, rel: str) -> tuple[Path | None, str]:
    """(absolute path, "") for a safe relative path, or (None, why it is refused)."""
    text = rel.strip().replace("\\", "/")
    if not text:
        return None, "the path is empty"
    if text.startswith(("/", "~")) or _DRIVE_RE.match(rel):
        return None, f"{rel} is an absolute path; paths must be relative to the repository root"
    parts = PurePosixPath(text).parts
    if ".." in parts:
        return None, f"{rel} leads outside the repository (it contains ..)"
    if parts and parts[0] == ".git":
        return None, f"{rel} is inside .git, which edits may not touch"
    base = root.resolve()
    target = (base / text).resolve()
    if target != base and base not in target.parents:
        return None, f"{rel} leads outside the repository through a symbolic link"
    if (base / ".git") == target or (base / ".git") in target.parents:
        return None, f"{rel} leads into .git through a symbolic link"
    if target == base:
        return None, f"{rel} is the repository root, not a file"
    return target, ""
