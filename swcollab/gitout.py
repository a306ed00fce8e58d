"""Putting an accepted patch on a new branch, without touching the user's checkout.

The commit is built from the accepted diff alone: the base's tree is read into a
temporary index, the patch (and the kept generated tests) applied there, the tree
written and committed with ``commit-tree``, and the branch created with ``update-ref``
told that the ref must not exist yet. No working tree takes part, so nothing a test run
wrote can reach the branch, and nothing here writes the user's working tree, index or
HEAD.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import SwcError, UsageError
from .gitrepo import commit_tree, diff_commits, git_out, run_git, tree_with_patch

SLUG_MAX = 40
_MAX_SUFFIX = 1000


def slugify(text: str, *, max_length: int = SLUG_MAX) -> str:
    """A short ASCII slug for ``swc/<slug>``: lowercase words joined by ``-``.

    Only ``[a-z0-9-]`` survive, so the result is always a valid ref component; cut at a
    word boundary where possible. Empty input gives ``"fix"``.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            if not slug:
                slug = word[:max_length]
            break
        slug = candidate
    return slug or "fix"


def is_valid_branch_name(repo_root: Path, name: str) -> bool:
    proc = run_git(["check-ref-format", "--branch", name], Path(repo_root), check=False)
    return proc.returncode == 0 and not name.startswith("-")


def _branch_exists(repo_root: Path, name: str) -> bool:
    proc = run_git(
        ["show-ref", "--verify", "--quiet", f"refs/heads/{name}"], repo_root, check=False
    )
    return proc.returncode == 0


def _candidates(wanted: str) -> list[str]:
    return [wanted] + [f"{wanted}-{n}" for n in range(2, _MAX_SUFFIX)]


def unique_branch_name(repo_root: Path, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``, ... : the first that is not a branch yet."""
    repo_root = Path(repo_root)
    if not is_valid_branch_name(repo_root, wanted):
        raise UsageError(f"{wanted!r} is not a valid branch name")
    for name in _candidates(wanted):
        if not _branch_exists(repo_root, name):
            return name
    raise SwcError(f"no free branch name: {wanted} to {wanted}-{_MAX_SUFFIX - 1} all exist")


def branch_from_patch(
    repo_root: Path,
    base: str,
    patch: str,
    files: Mapping[str, str] | None = None,
    *,
    branch: str,
    message: str,
) -> tuple[str, str]:
    """Commit ``patch`` (plus ``files``, path -> text) on ``base`` and create a branch.

    Returns the branch name used and the branch's diff against ``base`` (what ``git diff
    base branch`` prints): ``branch``, or ``branch-2``, ``-3``... when taken (an existing
    branch is never moved). Author and committer are the repository's configured user,
    or ``swc <swc@localhost>`` where none is configured.
    """
    repo_root = Path(repo_root)
    if not is_valid_branch_name(repo_root, branch):
        raise UsageError(f"{branch!r} is not a valid branch name")
    commit, diff = commit_patch(repo_root, base, patch, files, message=message)
    return _create_branch(repo_root, branch, commit), diff


def commit_patch(
    repo_root: Path,
    base: str,
    patch: str,
    files: Mapping[str, str] | None = None,
    *,
    message: str,
    appends: Mapping[str, Sequence[str]] | None = None,
) -> tuple[str, str]:
    """A commit of ``patch`` (plus ``files``, and ``appends``: lines added at the end of
    files) on ``base``, on no ref yet (``create_branch`` names it), and its diff against
    ``base``: what the branch will hold, byte for byte."""
    repo_root = Path(repo_root)
    tree = tree_with_patch(repo_root, base, patch, dict(files or {}), appends)
    if tree == git_out(["rev-parse", f"{base}^{{tree}}"], repo_root):
        raise SwcError("nothing to commit: the accepted change is empty")
    commit = commit_tree(repo_root, tree, base, message)
    return commit, diff_commits(repo_root, base, commit)


def create_branch(repo_root: Path, wanted: str, commit: str) -> str:
    """Point a new branch at ``commit``, in one step: ``wanted`` or the first free
    ``wanted-N``. Returns the name used."""
    repo_root = Path(repo_root)
    if not is_valid_branch_name(repo_root, wanted):
        raise UsageError(f"{wanted!r} is not a valid branch name")
    return _create_branch(repo_root, wanted, commit)


def commit_diff(repo_root: Path, commit: str) -> str:
    """What ``commit`` changes against its parent, as a binary-safe patch for ``git apply``."""
    return diff_commits(Path(repo_root), f"{commit}^", commit)


def _create_branch(repo_root: Path, wanted: str, commit: str) -> str:
    """Create the first free name, atomically: ``update-ref`` with the all-zero old value
    fails if the ref appeared since we looked (another swc run racing us)."""
    zero = "0" * len(commit)
    last_error = ""
    for name in _candidates(wanted):
        if _branch_exists(repo_root, name):
            continue
        proc = run_git(
            [
                "update-ref",
                "-m",
                "swc: branch for an accepted patch",
                f"refs/heads/{name}",
                commit,
                zero,
            ],
            repo_root,
            check=False,
        )
        if proc.returncode == 0:
            return name
        last_error = proc.stderr.strip()
        if not _branch_exists(repo_root, name):
            # Not a race: the name itself cannot be created (e.g. "swc" is a branch,
            # so "swc/x" cannot be). Suffixes will not help.
            break
    raise SwcError(f"cannot create branch {wanted!r}: {last_error or 'all names taken'}")
