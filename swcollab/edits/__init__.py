"""Turn a model's answer into changes in a worktree.

``parse_answer`` finds the edit blocks (SEARCH/REPLACE, unified diffs, or code blocks of
complete definitions); ``apply_answer`` applies them to a worktree and returns an
``EditResult``: the blocks that applied, those that failed with the reason and the
closest lines of the file, and the resulting ``git diff``. Malformed answers are values,
never exceptions. tree-sitter is imported only when a code block is applied.
"""

from __future__ import annotations

from .apply import apply_answer
from .parse import parse_answer
from .types import EDIT_FORMATS, BlockOutcome, EditBlock, EditResult

__all__ = [
    "EDIT_FORMATS",
    "BlockOutcome",
    "EditBlock",
    "EditResult",
    "apply_answer",
    "parse_answer",
]
