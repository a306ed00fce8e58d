"""Render an ``EditResult``'s failures for the model through ``prompts/edit_feedback.j2``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..prompts import render

if TYPE_CHECKING:  # EditResult.feedback() renders through this module
    from .types import BlockOutcome, EditResult

TEMPLATE = "edit_feedback"


def render_feedback(
    result: EditResult, prompts_dir: str | Path | None = None, *, applied_kept: bool = True
) -> str:
    """The feedback text. ``prompts_dir`` may hold a repository's own copy of the template;
    ``applied_kept`` says whether the blocks that applied stay applied for the next answer
    (when the caller resets the worktree instead, the model is asked to send them again)."""
    text = render(
        TEMPLATE,
        prompts_dir=str(prompts_dir) if prompts_dir is not None else None,
        applied=[_outcome(o) for o in result.applied],
        failed=[_outcome(o) for o in result.failed],
        notes=list(result.notes),
        edit_format=result.edit_format,
        applied_kept=applied_kept,
    )
    return text.strip() + "\n"


def _outcome(outcome: BlockOutcome) -> dict[str, Any]:
    block = outcome.block
    return {
        "index": block.index,
        "path": block.path or "",
        "kind": block.kind,
        "reason": outcome.reason,
        "closest": outcome.closest.rstrip("\n"),
        "how": outcome.how,
        "already_applied": outcome.already_applied,
        "refused": outcome.refused,
        "search": block.search.rstrip("\n"),
    }
