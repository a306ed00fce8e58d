"""The files an answer edits, held in memory until every block is tried, then written.

Also the one place that reads git: which files are tracked (to resolve a shortened path)
and the final ``git diff``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import EnvironmentProblem
from .parse import normalize_newlines
from .paths import check_path


@dataclass
class FileState:
    rel: str
    original: str | None  # None: the file did not exist
    current: str | None
    crlf: bool = False


class Files:
    """Reads files lazily, keeps edits in memory, writes the changed ones at the end."""

    def __init__(self, root: Path, shown: Sequence[str]) -> None:
        self.root = root
        self.shown = [p.replace("\\", "/") for p in shown]
        self._states: dict[str, FileState] = {}
        self._tracked: list[str] | None = None

    def resolve(self, rel: str, *, must_exist: bool) -> tuple[str | None, str]:
        """(repository-relative path, "") or (None, why not). A shortened path that names
        exactly one shown or tracked file (``calc.py`` for ``src/calc.py``) is expanded."""
        target, why = check_path(self.root, rel)
        if target is None:
            return None, why
        clean = target.relative_to(self.root.resolve()).as_posix()
        blocked = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
        if blocked is not None:
            return None, f"{rel} cannot be created: {blocked.name} is a file, not a directory"
        if target.exists() or clean in self._states or not must_exist:
            return clean, ""
        for pool in (self.shown, self.tracked()):
            hits = [p for p in pool if p == clean or p.endswith("/" + clean)]
            if len(set(hits)) == 1:
                return hits[0], ""
        return None, f"{rel} does not exist in the repository"

    def state(self, rel: str) -> FileState | str:
        """The file's state, or why it cannot be edited."""
        if rel in self._states:
            return self._states[rel]
        path = self.root / rel
        if path.is_dir():
            return f"{rel} is a directory"
        original = None
        crlf = False
        if path.exists():
            try:
                raw = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                return f"{rel} is not UTF-8 text"
            crlf = "\r\n" in raw
            original = normalize_newlines(raw)
        state = FileState(rel, original, original, crlf)
        self._states[rel] = state
        return state

    def tracked(self) -> list[str]:
        if self._tracked is None:
            out = _git(self.root, "ls-files", "-z")
            self._tracked = [p for p in out.split("\0") if p]
        return self._tracked

    def changed(self) -> list[str]:
        return sorted(rel for rel, s in self._states.items() if s.current != s.original)

    def write(self) -> list[str]:
        """Write every changed file (CRLF files keep CRLF); returns their paths."""
        changed = self.changed()
        for rel in changed:
            state = self._states[rel]
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            text = state.current or ""
            if state.crlf:
                text = text.replace("\n", "\r\n")
            path.write_bytes(text.encode("utf-8"))
        return changed


def _git(root: Path, *args: str, ok_codes: tuple[int, ...] = (0,)) -> str:
    # Bytes, not text mode: text mode would turn the CRLF of a CRLF file's diff into LF.
    done = subprocess.run(
        ["git", "-c", "core.quotepath=false", *args], cwd=root, capture_output=True, check=False
    )
    if done.returncode not in ok_codes:
        stderr = done.stderr.decode("utf-8", "replace").strip()
        raise EnvironmentProblem(f"git {' '.join(args)} failed in {root}: {stderr}")
    return done.stdout.decode("utf-8", "replace")


def worktree_diff(root: Path, changed: Sequence[str]) -> str:
    """``git diff`` of the changed files against the index; untracked (new) files are
    diffed against /dev/null so they appear as created."""
    if not changed:
        return ""
    listed = _git(root, "ls-files", "-z", "--", *changed)
    tracked = [p for p in listed.split("\0") if p]
    flags = ("--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/")
    parts = [_git(root, "diff", *flags, "--", *tracked)] if tracked else []
    for rel in changed:
        if rel not in tracked:
            text = _git(root, "diff", "--no-index", *flags, "--", "/dev/null", rel,
                        ok_codes=(0, 1))
            parts.append(text)
    return "".join(parts)
