"""Context stage: the repo map focused on the task, plus the files most likely to change."""

from __future__ import annotations

from pathlib import Path

from ..task import Task
from ..treesitter import language_for_path
from .types import Context, ContextFile

MAX_FULL_FILES = 4
CHARS_PER_TOKEN = 4
SMALL_MODEL_FILE_TOKENS = 1500
TEST_OUTPUT_CHARS = 4000

_TEST_MARKERS = ("test_", "_test.", ".test.", ".spec.", "/tests/", "/test/", "conftest.py")


def is_test_path(path: str) -> bool:
    name = "/" + path
    return any(marker in name for marker in _TEST_MARKERS) or name.startswith("/tests/")


def _fence_language(path: str) -> str:
    return language_for_path(path) or ""


def _read(root: Path, rel: str) -> str | None:
    file = root / rel
    try:
        if file.is_symlink() or not file.is_file():
            return None
        return file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def build_context(
    root: Path,
    task: Task,
    *,
    map_tokens: int,
    context_tokens: int,
    state_dir: Path | None,
    model: str | None = None,
    max_file_size: int = 1_000_000,
) -> tuple[Context, list[str]]:
    """The map and the top files in full; returns warnings from the map as data."""
    from ..repomap import build_repo_map, focus_from_text
    from ..sandbox import clip_output

    focus = focus_from_text(task.text + "\n" + task.test_output)
    repo_map = build_repo_map(
        root, focus, tokens=map_tokens, model=model, max_file_size=max_file_size,
        state_dir=state_dir,
    )
    ranked = [f.path for f in repo_map.files]
    mentioned = [p for p in focus.files if p in set(ranked)]
    order = list(dict.fromkeys(mentioned + ranked))
    files = _pick_files(root, order, context_tokens)
    context = Context(
        repo_map=repo_map.text,
        files=tuple(files),
        ranked_paths=tuple(order),
        test_output=clip_output(task.test_output, TEST_OUTPUT_CHARS) if task.test_output else "",
    )
    return context, list(repo_map.warnings)


def _pick_files(root: Path, order: list[str], context_tokens: int) -> list[ContextFile]:
    """Top-ranked non-test source files that fit the budget (at least one, cut if it must be)."""
    budget_chars = context_tokens * CHARS_PER_TOKEN
    picked: list[ContextFile] = []
    used = 0
    for rel in order:
        if len(picked) >= MAX_FULL_FILES:
            break
        if is_test_path(rel) or not language_for_path(rel):
            continue
        text = _read(root, rel)
        if text is None:
            continue
        if used + len(text) > budget_chars:
            if picked:
                continue
            text = text[:budget_chars]
        picked.append(ContextFile(rel, _fence_language(rel), text))
        used += len(text)
    return picked


def trim_for_small_model(context: Context) -> Context:
    """Tiny local models have small windows: the top file and a short map only."""
    files = context.files[:1]
    if files and len(files[0].text) > SMALL_MODEL_FILE_TOKENS * CHARS_PER_TOKEN:
        first = files[0]
        files = (ContextFile(first.path, first.language,
                             first.text[: SMALL_MODEL_FILE_TOKENS * CHARS_PER_TOKEN]),)
    # Measured on SmolLM2-135M: a map beside the code draws it away from the file to fix.
    return Context(
        repo_map="",
        files=files,
        ranked_paths=context.ranked_paths,
        test_output=context.test_output[:1500],
        brief=context.brief[:1500],
        examples=context.examples[:1],
    )
