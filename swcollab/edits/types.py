"""The values the edit stage returns: parsed blocks, per-block outcomes, the result.

Plain frozen dataclasses with no behaviour beyond small properties, so the engine and
the report can carry them around and tests can compare them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .feedback import render_feedback

KINDS = ("search-replace", "diff", "definitions", "whole-file")
EDIT_FORMATS = ("search-replace", "whole")


@dataclass(frozen=True)
class EditBlock:
    """One edit found in a model's answer.

    ``index`` counts from 1 in the order the blocks appear (0 stands for the answer as a
    whole when it held no usable edit). ``path`` is None when the answer named no file.
    For "definitions" and "whole-file" blocks ``replace`` holds the code and ``search``
    is empty. ``error`` is set when the block was recognised but is malformed (e.g. a
    SEARCH without a ``=======`` divider): applying it fails with that reason.
    ``lang`` is the fence's info word (``python``), a hint for definitions blocks.
    """

    index: int
    path: str | None
    search: str
    replace: str
    kind: str
    error: str = ""
    lang: str = ""


@dataclass(frozen=True)
class BlockOutcome:
    """What happened to one block. ``how`` names the rung of the matching ladder or the
    mechanism that applied it ("exact", "trailing-ws", "indent", "fuzzy", "line-numbers"
    and "elision" (a gutter or ``…`` lines copied from the context were dropped), "created",
    "appended", "definition", "whole-file", "unchanged"). ``closest`` holds the lines of
    the file nearest to what the block looked for, for the model's next try."""

    block: EditBlock
    ok: bool
    reason: str = ""
    closest: str = ""
    how: str = ""
    already_applied: bool = False
    refused: bool = False  # a policy refusal (where a model may not write), not a bad block

    @property
    def path(self) -> str | None:
        return self.block.path


@dataclass(frozen=True)
class EditResult:
    """The outcome of applying one answer to a worktree.

    ``diff`` is ``git diff`` of the files the answer changed (worktree against index,
    new files included). ``notes`` carries remarks that are not failures (definitions
    in a code block that match nothing in the file and were ignored, for instance).
    """

    applied: tuple[BlockOutcome, ...]
    failed: tuple[BlockOutcome, ...]
    diff: str
    changed_files: tuple[str, ...]
    notes: tuple[str, ...] = ()
    edit_format: str = "search-replace"

    @property
    def ok(self) -> bool:
        """At least one block applied and none failed but refused ones (left out, and
        named to the model: the rest of the answer is judged)."""
        return bool(self.applied) and all(o.refused for o in self.failed)

    @property
    def refused(self) -> tuple[BlockOutcome, ...]:
        return tuple(o for o in self.failed if o.refused)

    def feedback(self, *, applied_kept: bool = True, prompts_dir: str | None = None) -> str:
        """The failures rendered for the model (``prompts/edit_feedback.j2``); "" when ok.

        ``applied_kept=False`` when the caller resets the worktree before asking again: the
        model is then told to resend the blocks that did apply, instead of leaving them out.
        """
        if self.ok and not self.refused:
            return ""
        return render_feedback(self, prompts_dir, applied_kept=applied_kept)
