"""Render an ``EditResult``'s failures for the model through ``prompts/edit_feedback.j2``."""

from __future__ import annotations

from pathlib import Path

from .types import EditResult

TEMPLATE = "edit_feedback.j2"
PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


def render_feedback(result: EditResult, prompts_dir: Path | None = None) -> str:
    """The feedback text; ``prompts_dir`` may hold a repository's own copy of the template."""
    import jinja2

    folders = [str(p) for p in (prompts_dir, PROMPTS_DIR) if p is not None]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    text = env.get_template(TEMPLATE).render(
        applied=[_outcome(o) for o in result.applied],
        failed=[_outcome(o) for o in result.failed],
        notes=list(result.notes),
        edit_format=result.edit_format,
    )
    return text.strip() + "\n"


def _outcome(outcome) -> dict:  # type: ignore[no-untyped-def]
    block = outcome.block
    return {
        "index": block.index,
        "path": block.path or "",
        "kind": block.kind,
        "reason": outcome.reason,
        "closest": outcome.closest.rstrip("\n"),
        "how": outcome.how,
        "already_applied": outcome.already_applied,
        "search": block.search.rstrip("\n"),
    }
