"""Files whose change runs code somewhere: refused, or flagged for a reviewer.

Refused unless the user allows it (``allow_config_edits``), like ``.swc.toml``: a change
of the ``[tool.swc]`` or ``[build-system]`` table of ``pyproject.toml``. ``[tool.swc]``
is swc's own configuration; ``[build-system]`` names the code that builds the package
(``backend-path = ["."]`` makes a module of the repository run at every ``pip install``).

Flagged "needs review" when a change lands on the branch (on stdout, in ``--json`` and
in the report): the build and task files a person or a tool runs without reading them
first (``package.json`` scripts, Makefiles, IDE run configurations, CI files and the
refused kinds when the user allowed them).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from .paths import code_hook_reason, config_reason, skeleton

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PROTECTED_TABLES = (("tool", "swc"), ("build-system",))
_UNREADABLE = object()

# (skeleton of a file name, what it is); names matched at any depth
BUILD_FILES = {
    "makefile": "a Makefile (its recipes run on make)",
    "gnumakefile": "a Makefile (its recipes run on make)",
    "justfile": "a justfile (its recipes run on just)",
    "taskfile.yml": "a Taskfile (its tasks run on task)",
    "taskfile.yaml": "a Taskfile (its tasks run on task)",
    "noxfile.py": "a noxfile (its sessions run on nox)",
    "rakefile": "a Rakefile (its tasks run on rake)",
    "build.rs": "a Cargo build script (it runs on every cargo build)",
    "dockerfile": "a Dockerfile (its steps run on docker build)",
}
IDE_DIRS = {
    ".idea": "an IDE run configuration (.idea/)",
    ".vscode": "an editor task or launch configuration (.vscode/)",
}


def _table(text: str | None, path: tuple[str, ...]) -> object:
    if text is None:
        return None
    try:
        data: object = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return _UNREADABLE
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def protected_change(rel: str, old: str | None, new: str | None) -> str | None:
    """Why changing ``rel`` from ``old`` to ``new`` (None: no file) touches a protected
    table of ``pyproject.toml``; None when it does not."""
    if skeleton(PurePosixPath(rel).name) != "pyproject.toml" or old == new:
        return None
    for path in PROTECTED_TABLES:
        before, after = _table(old, path), _table(new, path)
        if after is _UNREADABLE:
            return (
                f"{rel} would not be valid TOML, so swc cannot tell whether its "
                "[tool.swc] or [build-system] table changed"
            )
        if before != after:
            name = ".".join(path)
            what = "swc's own configuration" if path[0] == "tool" else "the code that builds it"
            return f"the change touches [{name}] of {rel} ({what})"
    return None


def _scripts(text: str | None) -> object:
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return _UNREADABLE
    return data.get("scripts") if isinstance(data, dict) else None


def review_reason(rel: str, old: str | None, new: str | None) -> str | None:
    """Why a reviewer should read the change of ``rel`` before running anything, or None."""
    parts = [skeleton(p) for p in PurePosixPath(rel).parts]
    if not parts:
        return None
    name = parts[-1]
    if name == "package.json" and _scripts(old) != _scripts(new):
        return "package.json scripts (they run on npm install, npm test, npm run)"
    if name in BUILD_FILES or name.endswith(".mk"):
        return BUILD_FILES.get(name, "a Makefile (its recipes run on make)")
    for part in parts[:-1]:
        if part in IDE_DIRS:
            return IDE_DIRS[part]
    reason = config_reason(rel) or code_hook_reason(rel) or protected_change(rel, old, new)
    return reason


def review_flags(root: Path, changed: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """(path, why) of each changed file of the worktree ``root`` that needs review, its
    old text read from the worktree's HEAD."""
    flags = []
    for rel in changed:
        old = _head_text(root, rel)
        new = _worktree_text(root / rel)
        reason = review_reason(rel, old, new)
        if reason:
            flags.append((rel, reason))
    return tuple(flags)


def _head_text(root: Path, rel: str) -> str | None:
    from ..gitrepo import run_git

    done = run_git(["show", f"HEAD:{rel}"], root, check=False)
    return done.stdout if done.returncode == 0 else None


def _worktree_text(path: Path) -> str | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
