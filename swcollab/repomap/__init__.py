"""The repo map: the shape of the repository in a few thousand tokens, leaning toward the task.

Tracked source files are parsed with tree-sitter (tags cached by git blob SHA under
``.git/swc/tags.db``), ranked with PageRank personalized toward what the task mentions and
what its words match, and rendered as an outline of signatures within a token budget.

Importing this package is cheap (standard library only); tree-sitter and numpy
are imported when a map is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .focus import focus_from_text
from .records import Focus, MapStats, RankedDefinition, RankedFile, RepoMap

DEFAULT_TOKENS = 2048
DEFAULT_MAX_FILE_SIZE = 1_000_000

__all__ = [
    "DEFAULT_MAX_FILE_SIZE",
    "DEFAULT_TOKENS",
    "Focus",
    "MapStats",
    "RankedDefinition",
    "RankedFile",
    "RepoMap",
    "build_repo_map",
    "focus_from_text",
]


def build_repo_map(
    repo_root: Path,
    focus: Focus,
    *,
    tokens: int = DEFAULT_TOKENS,
    model: str | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    state_dir: Path | None = None,
    paths: Sequence[str] | None = None,
    branch_base: str | None = None,
) -> RepoMap:
    """Build the map of the repository at ``repo_root`` (a worktree works too).

    ``tokens`` is the budget of the rendered text, counted with ``model``'s tokenizer when
    litellm knows it, else estimated. ``paths`` restricts the map to those files or
    directories. ``branch_base`` adds the files changed since that commit to the focus.
    Raises ``UsageError`` (bad budget, path outside the repository) and
    ``NotAGitRepository``; a damaged cache is rebuilt and reported in ``warnings``.
    """
    from .builder import build

    return build(
        Path(repo_root),
        focus,
        tokens=tokens,
        model=model,
        max_file_size=max_file_size,
        state_dir=state_dir,
        paths=paths,
        branch_base=branch_base,
    )
