"""The files an answer edits, held in memory until every block is tried, then written.

Every path is checked where it enters (a block's path, a shortened name expanded to a
tracked file, a shown file a path-less block matched) and again just before writing: it
must stay inside the worktree, through symlinks too, never touch ``.git``, and not be CI
or tool configuration unless the user allows it. Also the one place that reads git for
edits: which files are tracked (to resolve a shortened path) and the final ``git diff``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import EnvironmentProblem
from ..gitrepo import run_git
from .codefiles import protected_change
from .lineends import normalize, restore_line_ends
from .paths import Refused, check_write


@dataclass
class FileState:
    rel: str
    original: str | None  # None: the file did not exist
    current: str | None
    raw: str | None = None  # the file as read, its line ends as they are


class Files:
    """Reads files lazily, keeps edits in memory, writes the changed ones at the end."""

    def __init__(
        self,
        root: Path,
        shown: Sequence[str],
        *,
        allow_config: bool = False,
        allow_code_hooks: bool = False,
    ) -> None:
        self.root = root
        self.shown = [p.replace("\\", "/") for p in shown]
        self.allow_config = allow_config
        self.allow_code_hooks = allow_code_hooks
        self._states: dict[str, FileState] = {}
        self._tracked: list[str] | None = None

    def checked(self, rel: str) -> tuple[str | None, str]:
        """(the clean repository-relative path, "") or (None, why it may not be written)."""
        target, why = check_write(
            self.root, rel, allow_config=self.allow_config, allow_code_hooks=self.allow_code_hooks
        )
        if target is None:
            return None, why
        return target.relative_to(self.root.resolve()).as_posix(), ""

    def resolve(self, rel: str, *, must_exist: bool) -> tuple[str | None, str]:
        """(repository-relative path, "") or (None, why not). A shortened path that names
        exactly one shown or tracked file (``calc.py`` for ``src/calc.py``) is expanded,
        and the expansion is checked like any path (a tracked symlink may lead out)."""
        clean, why = self.checked(rel)
        if clean is None:
            return None, why
        target = self.root.resolve() / clean
        blocked = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
        if blocked is not None:
            return None, f"{rel} cannot be created: {blocked.name} is a file, not a directory"
        if target.exists() or clean in self._states or not must_exist:
            return clean, ""
        for pool in (self.shown, self.tracked()):
            hits = [p for p in pool if p == clean or p.endswith("/" + clean)]
            if len(set(hits)) == 1:
                expanded, why = self.checked(hits[0])
                if expanded is None:
                    return None, Refused(f"{rel} names {hits[0]}, which is refused: {why}")
                return expanded, ""
        return None, f"{rel} does not exist in the repository"

    def state(self, rel: str) -> FileState | str:
        """The file's state, or why it cannot be edited."""
        if rel in self._states:
            return self._states[rel]
        clean, why = self.checked(rel)
        if clean is None:
            return why
        if clean in self._states:
            return self._states[clean]
        path = self.root / clean
        if path.is_dir():
            return f"{rel} is a directory"
        original = raw = None
        if path.exists():
            try:
                raw = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                return f"{rel} is not UTF-8 text"
            original = normalize(raw)
        state = FileState(clean, original, original, raw)
        self._states[clean] = state
        return state

    def snapshot(self) -> dict[str, str | None]:
        """The text of every file read so far (``restore`` puts it back)."""
        return {rel: state.current for rel, state in self._states.items()}

    def restore(self, snapshot: dict[str, str | None]) -> None:
        for rel, state in self._states.items():
            state.current = snapshot.get(rel, state.original)

    def refused_change(self, snapshot: dict[str, str | None]) -> Refused | None:
        """Why the changes made since ``snapshot`` may not be kept: one touches a protected
        table of pyproject.toml (unless configuration edits are allowed)."""
        if self.allow_config:
            return None
        for rel, state in self._states.items():
            before = snapshot.get(rel, state.original)
            why = protected_change(rel, before, state.current)
            if why:
                return Refused(
                    f"{why}: swc does not let a model change it (set "
                    "allow_config_edits = true in .swc.toml to allow it)"
                )
        return None

    def tracked(self) -> list[str]:
        if self._tracked is None:
            out = _git(self.root, "ls-files", "-z")
            self._tracked = [p for p in out.split("\0") if p]
        return self._tracked

    def changed(self) -> list[str]:
        return sorted(rel for rel, s in self._states.items() if s.current != s.original)

    def write(self) -> list[str]:
        """Write every changed file, each line with the end it had; returns their paths.

        Each path is checked once more and opened without following a symlink, so a
        path that changed under the edit since it was read is not written through."""
        written = []
        for rel in self.changed():
            clean, _why = self.checked(rel)
            if clean is None:
                continue
            state = self._states[rel]
            path = self.root.resolve() / clean
            path.parent.mkdir(parents=True, exist_ok=True)
            text = restore_line_ends(state.raw, state.current or "")
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(path, flags, 0o644)
            with os.fdopen(fd, "wb") as out:
                out.write(text.encode("utf-8"))
            written.append(clean)
        return written


def _git(root: Path, *args: str, ok_codes: tuple[int, ...] = (0,)) -> str:
    # Bytes, not text mode: text mode would turn the CRLF of a CRLF file's diff into LF.
    done = run_git(["-c", "core.quotepath=false", *args], root, check=False, binary=True)
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
            text = _git(root, "diff", "--no-index", *flags, "--", "/dev/null", rel, ok_codes=(0, 1))
            parts.append(text)
    return "".join(parts)
