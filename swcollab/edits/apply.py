"""Apply a model's answer to a worktree: each block tried in order, the result as data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace as with_fields
from pathlib import Path
from typing import TYPE_CHECKING

from ..treesitter import language_for_path
from .files import Files, FileState, worktree_diff
from .match import Replaced, replace_text
from .parse import parse_answer
from .paths import Refused
from .types import BlockOutcome, EditBlock, EditResult

if TYPE_CHECKING:
    from .replace_definitions import DefinitionEdit

IGNORABLE = "ignorable"
NO_EDIT = (
    "the answer holds no edit: no SEARCH/REPLACE block, no unified diff and no code block "
    "with a complete function or class"
)


def apply_answer(
    root: Path,
    answer: str,
    *,
    edit_format: str = "search-replace",
    files: Sequence[str] = (),
    allow_config_edits: bool = False,
    allow_code_hook_edits: bool = False,
) -> EditResult:
    """Apply every block of ``answer`` inside the worktree ``root``; never raises for a
    malformed answer. ``files`` are the files shown to the model, in order: blocks that
    name no file are matched against them. A block that is refused (a path outside the
    worktree, in ``.git`` or holding a control character; CI or tool configuration, or
    a change of ``[tool.swc]`` or ``[build-system]`` in pyproject.toml, unless
    ``allow_config_edits``; setup.py, sitecustomize.py, usercustomize.py or a .pth file
    unless ``allow_code_hook_edits``) is left out alone, marked ``refused``, with the
    reason as feedback for the model."""
    root = Path(root)
    blocks = parse_answer(answer, edit_format=edit_format, files=files)
    if not blocks:
        why = "the answer is empty" if not answer.strip() else NO_EDIT
        kind = "definitions" if edit_format == "whole" else "search-replace"
        failed = BlockOutcome(EditBlock(0, None, "", "", kind), ok=False, reason=why)
        return EditResult((), (failed,), "", (), edit_format=edit_format)
    tree = Files(
        root, files, allow_config=allow_config_edits, allow_code_hooks=allow_code_hook_edits
    )
    notes: list[str] = []
    outcomes = [_apply_guarded(tree, block, edit_format, notes) for block in blocks]
    if not tree.changed():
        outcomes = [_unchanged_is_failure(o) for o in outcomes]
    else:
        outcomes = _drop_noise(outcomes, notes)
    changed = tree.write()
    return EditResult(
        applied=tuple(o for o in outcomes if o.ok),
        failed=tuple(o for o in outcomes if not o.ok),
        diff=worktree_diff(root, changed),
        changed_files=tuple(changed),
        notes=tuple(notes),
        edit_format=edit_format,
    )


def _drop_noise(outcomes: list[BlockOutcome], notes: list[str]) -> list[BlockOutcome]:
    kept = []
    for outcome in outcomes:
        if outcome.how == IGNORABLE and not outcome.ok:
            notes.append(f"block {outcome.block.index}: ignored, {outcome.reason}")
        else:
            kept.append(outcome)
    return kept


def _unchanged_is_failure(outcome: BlockOutcome) -> BlockOutcome:
    if outcome.how == IGNORABLE:
        return with_fields(outcome, how="")
    if outcome.ok and outcome.how == "unchanged":
        return with_fields(
            outcome,
            ok=False,
            already_applied=True,
            reason="the block changes nothing: the file already reads that way",
        )
    return outcome


def _fail(block: EditBlock, reason: str, closest: str = "", already: bool = False) -> BlockOutcome:
    return BlockOutcome(
        block,
        ok=False,
        reason=reason,
        closest=closest,
        already_applied=already,
        refused=isinstance(reason, Refused),
    )


def _apply_guarded(tree: Files, block: EditBlock, edit_format: str, notes: list) -> BlockOutcome:
    """``_apply_block``, undone and refused when what it did may not be kept."""
    before = tree.snapshot()
    outcome = _apply_block(tree, block, edit_format, notes)
    if not outcome.ok:
        return outcome
    why = tree.refused_change(before)
    if why is None:
        return outcome
    tree.restore(before)
    return _fail(outcome.block, why)


def _apply_block(tree: Files, block: EditBlock, edit_format: str, notes: list) -> BlockOutcome:
    if block.error:
        return _fail(block, block.error)
    if block.kind in ("search-replace", "diff"):
        return _apply_search_replace(tree, block, notes)
    if block.kind == "whole-file":
        return _apply_whole_file(tree, block, edit_format)
    return _apply_definitions(tree, block, notes)


MISSING = "does not exist in the repository"


def _load(tree: Files, block: EditBlock, create_ok: bool) -> tuple[EditBlock, FileState | str]:
    """The block with its path made repository-relative, and the file's state (or why not).
    ``create_ok``: a path that exists nowhere is a new file rather than an error."""
    assert block.path is not None
    rel, why = tree.resolve(block.path, must_exist=True)
    if rel is None and create_ok and why.endswith(MISSING):
        rel, why = tree.resolve(block.path, must_exist=False)
    if rel is None:
        return block, why
    block = with_fields(block, path=rel) if rel != block.path else block
    return block, tree.state(rel)


# --- SEARCH/REPLACE and diff hunks ----------------------------------------------------


def _apply_search_replace(tree: Files, block: EditBlock, notes: list) -> BlockOutcome:
    empty = not block.search.strip()
    if block.path is None:
        if empty:
            return _fail(block, "the block names no file, and its SEARCH part is empty")
        return _search_shown_files(tree, block)
    block, state = _load(tree, block, create_ok=empty)
    if isinstance(state, str):
        hint = "; to create a file, leave SEARCH empty" if state.endswith(MISSING) else ""
        return _fail(block, state + hint if hint else state)
    if empty:
        return _fill_file(tree, block, state, notes)
    assert state.current is not None  # a missing file was refused by _load
    found = replace_text(state.current, block.search, block.replace)
    if isinstance(found, Replaced):
        return _changed(state, block, found.text, found.how)
    return _fail(block, found.reason, found.closest, found.already_applied)


def _changed(state: FileState, block: EditBlock, text: str, how: str) -> BlockOutcome:
    if text == state.current:
        return BlockOutcome(block, ok=True, how="unchanged")
    state.current = text
    return BlockOutcome(block, ok=True, how=how)


def _search_shown_files(tree: Files, block: EditBlock) -> BlockOutcome:
    """A block without a path applies to the one file its SEARCH text matches: among the
    files shown to the model, or, when none were given, the tracked files."""
    hits = []
    first = next(line.strip() for line in block.search.splitlines() if line.strip())
    for rel in tree.shown or tree.tracked():
        state = tree.state(rel)
        if isinstance(state, str) or state.current is None:
            continue
        if not tree.shown and first not in state.current:  # cheap filter for a whole repo
            continue
        found = replace_text(state.current, block.search, block.replace)
        if isinstance(found, Replaced):
            hits.append((state, found))
    if len(hits) == 1:
        state, found = hits[0]
        return _changed(state, with_fields(block, path=state.rel), found.text, found.how)
    if hits:
        names = ", ".join(state.rel for state, _ in hits)
        return _fail(block, f"the block names no file and its SEARCH text matches several: {names}")
    where = f"the files shown ({', '.join(tree.shown)})" if tree.shown else "the repository"
    return _fail(
        block,
        f"the block names no file and its SEARCH text is in none of {where}; "
        "put the file path on the line before the block",
    )


def _fill_file(tree: Files, block: EditBlock, state: FileState, notes: list) -> BlockOutcome:
    """Empty SEARCH: create the file, or fill an empty one."""
    if state.current is None:
        state.current = block.replace
        return BlockOutcome(block, ok=True, how="created")
    if not state.current.strip():
        state.current = block.replace
        return BlockOutcome(block, ok=True, how="appended")
    fallback = _definitions_from_replace(tree, block, state, notes)
    if fallback is not None:
        return fallback
    head = "".join(state.current.splitlines(keepends=True)[:5])
    return _fail(
        block,
        f"the SEARCH part is empty but {block.path} already exists and is not empty; "
        "copy the lines to change into SEARCH",
        closest=head,
    )


def _definitions_from_replace(
    tree: Files, block: EditBlock, state: FileState, notes: list
) -> BlockOutcome | None:
    """Empty SEARCH on a file with content, but REPLACE holds complete definitions of the
    file (or all of it): replace those, as for a code block. A SEARCH that matches
    nothing gets no such rescue: its author had a wrong picture of the file."""
    from .outline import supported

    language = language_for_path(block.path or "")
    if not supported(language) or not block.replace.strip() or state.current is None:
        return None
    from .replace_definitions import DefinitionEdit, replace_definitions

    edit = replace_definitions(
        language, state.current, block.replace, original=state.original, path=state.rel
    )
    if not isinstance(edit, DefinitionEdit) or not edit.changed:
        return None
    _note_definitions(notes, block, edit)
    state.current = edit.text
    return BlockOutcome(block, ok=True, how="whole-file" if edit.whole_file else "definition")


# --- code blocks ------------------------------------------------------------------


def _apply_whole_file(tree: Files, block: EditBlock, edit_format: str) -> BlockOutcome:
    block, state = _load(tree, block, create_ok=True)
    if isinstance(state, str):
        return _fail(block, state)
    if state.current is None:
        state.current = block.replace
        return BlockOutcome(block, ok=True, how="created")
    if edit_format != "whole":
        return _fail(
            block,
            f"a code block for {block.path} has no SEARCH/REPLACE markers, so "
            "it is not clear what it replaces",
        )
    return _changed(state, block, block.replace, "whole-file")


def _apply_definitions(tree: Files, block: EditBlock, notes: list) -> BlockOutcome:
    from .outline import supported

    if block.path is not None:
        named, state = _load(tree, block, create_ok=True)
        if isinstance(state, str):
            return _fail(named, state)
        if state.current is None:
            # A path that exists nowhere is often a wrong name for a shown file: prefer the
            # shown file whose definitions the block matches; else create the new file.
            picked = _pick_shown_file(tree, block) if tree.shown else None
            if isinstance(picked, FileState):
                notes.append(
                    f"block {block.index}: {block.path} does not exist; "
                    f"applied to {picked.rel}, whose definitions it matches"
                )
                return _replace_in(picked, with_fields(block, path=picked.rel), notes)
            state.current = block.replace
            return BlockOutcome(named, ok=True, how="created")
        block = named
        if not supported(language_for_path(state.rel)):
            return _fail(block, f"swc cannot find definitions in {state.rel}; use SEARCH/REPLACE")
        return _replace_in(state, block, notes)
    picked = _pick_shown_file(tree, block)
    outcome = (
        _fail(block, picked)
        if isinstance(picked, str)
        else _replace_in(picked, with_fields(block, path=picked.rel), notes)
    )
    # A path-less code block that fits nothing (example output, a test, an unrelated
    # helper) is noise next to blocks that did apply; `_drop_noise` decides at the end.
    return outcome if outcome.ok else with_fields(outcome, how=IGNORABLE)


def _replace_in(state: FileState, block: EditBlock, notes: list) -> BlockOutcome:
    from .replace_definitions import DefinitionFailure, replace_definitions

    language = language_for_path(state.rel)
    assert language is not None and state.current is not None
    edit = replace_definitions(
        language, state.current, block.replace, original=state.original, path=state.rel
    )
    if isinstance(edit, DefinitionFailure):
        return _fail(block, edit.reason, edit.closest)
    _note_definitions(notes, block, edit)
    if not edit.changed:
        return BlockOutcome(block, ok=True, how="unchanged")
    state.current = edit.text
    return BlockOutcome(block, ok=True, how="whole-file" if edit.whole_file else "definition")


def _pick_shown_file(tree: Files, block: EditBlock) -> FileState | str:
    """The first shown file that defines the most of the block's definitions."""
    from .outline import FENCE_LANGUAGES, supported
    from .replace_definitions import block_names, file_names

    if not tree.shown:
        return "the answer names no file for this code block; put the path on the line before it"
    fence = FENCE_LANGUAGES.get(block.lang)
    best: tuple[int, FileState | None] = (0, None)
    listing, wanted = [], []
    for rel in tree.shown:
        language = language_for_path(rel)
        if not supported(language) or (fence and not _compatible(fence, language)):
            continue
        state = tree.state(rel)
        if isinstance(state, str) or state.current is None:
            continue
        assert language is not None
        have, wanted = file_names(language, state.current), block_names(language, block.replace)
        bare = {name.rsplit(".", 1)[-1] for name in have}
        count = sum(1 for name in wanted if name in bare)
        if count > best[0]:
            best = (count, state)
        listing.append(f"{rel} defines {', '.join(have[:12]) or 'nothing'}")
    if best[1] is not None:
        return best[1]
    if not listing:
        shown = ", ".join(tree.shown)
        return (
            f"the code block names no file and none of the files shown ({shown}) is in a "
            "language swc can read definitions from; use SEARCH/REPLACE"
        )
    if not wanted:
        return "the code block names no file and holds no complete function or class"
    return (
        f"the code block names no file, and none of the names it defines "
        f"({', '.join(wanted)}) is defined in the files shown ({'; '.join(listing)})"
    )


def _compatible(fence: str, language: str | None) -> bool:
    families = ({"javascript", "typescript", "tsx"}, {"c", "cpp"})
    return fence == language or any(fence in f and language in f for f in families)


def _note_definitions(notes: list[str], block: EditBlock, edit: DefinitionEdit) -> None:
    if edit.ignored:
        names = [n if "(" in n else f"{n} (not defined in {block.path})" for n in edit.ignored]
        notes.append(f"block {block.index}: ignored {', '.join(names)}")
    if edit.added:
        notes.append(f"block {block.index}: added {', '.join(edit.added)} to {block.path}")
