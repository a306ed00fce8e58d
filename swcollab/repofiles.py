"""Reading a repository's files for a prompt: regular files only, never through a link.

A repository may track a symlink to anything (``README.md -> /etc/passwd``, a link to
``~/.ssh/id_ed25519``, a directory link to ``$HOME``). What swc shows a model is read
either from git's objects, as a blob of mode 100644 or 100755 (``regular_blob``), or from
a checkout by opening each component of the path without following a link
(``read_regular``): neither a link at the end nor a linked directory on the way leads
out of the repository, and a FIFO or a device is not opened for reading.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from .gitrepo import run_git

# git's modes of a regular file (and an executable one); 120000 is a link, 160000 a submodule
REGULAR_MODES = frozenset({"100644", "100755"})

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def regular_blob(root: Path, rev: str, path: str) -> bytes | None:
    """The content of ``path`` in commit ``rev`` when it is a regular file there (mode
    100644 or 100755); None when it is absent, a symlink, a submodule or a directory."""
    listed = run_git(["ls-tree", "-z", rev, "--", path], root, check=False, binary=True)
    if listed.returncode != 0:
        return None
    for entry in listed.stdout.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        parts = meta.decode("ascii", "replace").split()
        if name.decode("utf-8", "surrogateescape") != path or len(parts) != 3:
            continue
        mode, kind, sha = parts
        if kind != "blob" or mode not in REGULAR_MODES:
            return None
        blob = run_git(["cat-file", "blob", sha], root, check=False, binary=True)
        return blob.stdout if blob.returncode == 0 else None
    return None


def read_regular(root: Path, rel: str, limit: int | None = None) -> bytes | None:
    """The bytes of ``root/rel`` (at most ``limit``) when every directory on the way is a
    real directory and the file a regular one; None otherwise: a symlink anywhere on the
    path, ``..``, an absolute path, a FIFO, a device, a missing or unreadable file."""
    parts = PurePosixPath(rel).parts
    if not parts or rel.startswith("/") or any(p in (".", "..") for p in parts):
        return None
    try:
        fd = _open_parent(root, parts[:-1])
    except OSError:
        return None
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below)
        flags = os.O_RDONLY | _NOFOLLOW | _CLOEXEC | os.O_NONBLOCK
        file_fd = os.open(parts[-1], flags, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(file_fd).st_mode):
        os.close(file_fd)
        return None
    with os.fdopen(file_fd, "rb") as handle:
        try:
            return handle.read() if limit is None else handle.read(limit)
        except OSError:
            return None


def _open_parent(root: Path, directories: tuple[str, ...]) -> int:
    """A descriptor of ``root/<directories>``, each opened without following a link."""
    fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    try:
        for name in directories:
            inner = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = inner
    except OSError:
        os.close(fd)
        raise
    return fd


def read_regular_text(root: Path, rel: str, limit: int | None = None) -> str | None:
    """``read_regular`` decoded as UTF-8 (invalid bytes replaced)."""
    raw = read_regular(root, rel, limit)
    return None if raw is None else raw.decode("utf-8", errors="replace")
