"""Which files the map covers: tracked source files, with their git blob SHA.

One ``git ls-files -s`` gives every tracked path with the blob SHA of its indexed content,
without hashing anything. Files modified in the working tree (``git ls-files -m``) are
read and hashed here, so the map shows what is on disk and the cache stays keyed by
content. Submodules and symlinks are never entered or followed: only entries of a regular
file's mode (100644, 100755) are listed, and files are read without following a link on
the way (``repofiles.read_regular``).
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import EnvironmentProblem, UsageError
from ..gitrepo import run_git, start_git
from ..repofiles import REGULAR_MODES, read_regular
from ..treesitter import language_for_path

MODE_SUBMODULE = "160000"
MODE_SYMLINK = "120000"

# Directory names that hold other people's code or build output.
VENDORED_DIRS = frozenset(
    {
        "node_modules",
        "vendor",
        "vendored",
        "_vendor",
        "third_party",
        "third-party",
        "thirdparty",
        "bower_components",
        "site-packages",
        ".venv",
        "venv",
        "__pycache__",
    }
)
GENERATED_SUFFIXES = (
    ".min.js",
    ".min.mjs",
    "_pb2.py",
    "_pb2.pyi",
    "_pb2_grpc.py",
    ".pb.go",
    ".pb.cc",
    ".pb.h",
    ".generated.ts",
    ".generated.js",
    "_generated.go",
    ".bundle.js",
)
LINGUIST_ATTRIBUTES = ("linguist-generated", "linguist-vendored")


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str  # repo-relative, forward slashes
    sha: str  # git blob SHA of the content on disk
    language: str
    modified: bool  # differs from the index (content read and hashed here)


@dataclass
class Listing:
    files: list[SourceFile] = field(default_factory=list)
    tracked: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def _git(args: list[str], root: Path, stdin: str | None = None) -> bytes:
    proc = run_git(
        args, root, input=stdin.encode() if stdin is not None else None, binary=True, check=False
    )
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise EnvironmentProblem(f"git {' '.join(args)} failed: {message}")
    return proc.stdout


def blob_sha(content: bytes) -> str:
    """The SHA git gives a blob with this content (what ``git hash-object`` prints)."""
    digest = hashlib.sha1(b"blob %d\0" % len(content))
    digest.update(content)
    return digest.hexdigest()


def restrict_paths(root: Path, paths: Sequence[str]) -> list[str]:
    """Repo-relative prefixes for ``paths``; a path outside the repository is a usage error."""
    prefixes = []
    for raw in paths:
        candidate = Path(raw)
        full = candidate if candidate.is_absolute() else root / candidate
        # resolve() follows symlinks, so a link pointing outside is outside.
        resolved = full.resolve()
        try:
            rel = resolved.relative_to(root)
        except ValueError:
            raise UsageError(
                f"{raw} is outside the repository {root}",
                hint="Pass files or directories inside the repository.",
            ) from None
        prefixes.append(rel.as_posix() if str(rel) != "." else "")
    return prefixes


def _within(path: str, prefixes: Sequence[str]) -> bool:
    return any(not p or path == p or path.startswith(p + "/") for p in prefixes)


def list_source_files(
    root: Path, *, max_file_size: int, prefixes: Sequence[str] | None = None
) -> Listing:
    listing = Listing()
    candidates: dict[str, tuple[str, str]] = {}  # path -> (sha, language)
    has_attributes = False
    # Both listings at once: each git process mostly waits on the file system.
    modified_proc = _start_git(["ls-files", "-m", "-z"], root)
    try:
        index = _git(["ls-files", "-s", "-z"], root)
    except EnvironmentProblem:
        modified_proc.kill()
        modified_proc.communicate()
        raise
    for entry in index.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        path = raw_path.decode("utf-8", "surrogateescape")
        if path in candidates:
            continue  # unmerged paths appear once per stage
        if path.endswith(".gitattributes"):
            has_attributes = True
        if prefixes is not None and not _within(path, prefixes):
            continue
        listing.tracked += 1
        mode, sha, _stage = meta.decode().split(" ")
        reason = _skip_reason(path, mode)
        if reason:
            listing.skipped[reason] += 1
            continue
        candidates[path] = (sha, language_for_path(path) or "")
    if has_attributes and candidates:
        for path in _linguist_excluded(root, list(candidates)):
            del candidates[path]
            listing.skipped["generated or vendored (.gitattributes)"] += 1
    modified = _modified(modified_proc)
    top = str(root)
    for path, (sha, language) in candidates.items():
        if not _checked(os.path.join(top, path), max_file_size, listing.skipped):
            continue
        if path in modified:
            content = read_regular(root, path)
            if content is None:
                listing.skipped["unreadable"] += 1
                continue
            sha = blob_sha(content)
        listing.files.append(SourceFile(path, sha, language, path in modified))
    return listing


def _skip_reason(path: str, mode: str) -> str | None:
    if mode == MODE_SUBMODULE:
        return "submodule"
    if mode == MODE_SYMLINK:
        return "symlink"
    if mode not in REGULAR_MODES:
        return "not a regular file"
    if language_for_path(path) is None:
        return "unsupported language"
    if any(part in VENDORED_DIRS for part in path.split("/")[:-1]):
        return "vendored directory"
    if path.endswith(GENERATED_SUFFIXES):
        return "generated"
    return None


def _checked(full_path: str, max_file_size: int, skipped: Counter[str]) -> bool:
    """True when the working-tree file is a regular file within the size limit."""
    try:
        info = os.lstat(full_path)
    except OSError:
        skipped["missing from working tree"] += 1
        return False
    if not stat.S_ISREG(info.st_mode):
        # A symlink (never followed: it may point outside the repository) or a directory.
        skipped["not a regular file"] += 1
        return False
    if info.st_size > max_file_size:
        skipped["too large"] += 1
        return False
    return True


def _start_git(args: list[str], root: Path) -> subprocess.Popen[bytes]:
    return start_git(args, root)


def _modified(proc: subprocess.Popen[bytes]) -> set[str]:
    out, err = proc.communicate()
    if proc.returncode != 0:
        message = err.decode("utf-8", "replace").strip()
        raise EnvironmentProblem(f"git ls-files -m failed: {message}")
    return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}


def _linguist_excluded(root: Path, paths: list[str]) -> set[str]:
    out = _git(
        ["check-attr", "-z", "--stdin", *LINGUIST_ATTRIBUTES], root, stdin="\0".join(paths) + "\0"
    )
    fields = out.split(b"\0")
    excluded = set()
    for i in range(0, len(fields) - 2, 3):
        value = fields[i + 2]
        if value in (b"set", b"true"):
            excluded.add(fields[i].decode("utf-8", "surrogateescape"))
    return excluded


def changed_since(root: Path, base: str) -> tuple[list[str], str | None]:
    """Files changed on the branch since ``base`` (merge base), or a warning."""
    try:
        out = _git(["diff", "--name-only", "-z", f"{base}...HEAD"], root)
    except EnvironmentProblem as exc:
        return [], f"branch base {base!r} ignored: {exc.message}"
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p], None
