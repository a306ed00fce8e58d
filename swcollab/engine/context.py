"""Context stage: the repo map focused on the task, plus the code most likely to change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..task import Task
from ..treesitter import language_for_path
from .history import PastChanges, past_changes
from .spans import (
    MAX_FILES,
    NAMED_FILE_BONUS,
    SourceView,
    resolve,
    score_blocks,
    trace_lines,
    view_of,
)
from .spanview import Packer, to_context_files
from .types import Context, ContextFile

if TYPE_CHECKING:
    from ..config import Settings
    from ..repomap import Focus, RepoMap

# About the 1,500 of the older estimate it was chosen with on SmolLM2 (spanview's tokens).
SMALL_MODEL_FILE_TOKENS = 1200
# A tiny model is shown only the blocks scoring at least this share of the best one.
SMALL_MODEL_MIN_SHARE = 0.6
TEST_OUTPUT_CHARS = 4000
# Besides the map and the code, a patch prompt holds the instructions, the task, test
# output, brief and examples: room a larger budget must leave in the model's window.
PROMPT_ROOM_TOKENS = 8000
# A wide budget draws on one more candidate file for each this many tokens (past 12).
TOKENS_PER_CANDIDATE = 2000
# Weight of the earlier similar commits' votes beside the map's rank share (0..1).
PAST_WEIGHT = 1.0

_TEST_MARKERS = ("test_", "_test.", ".test.", ".spec.", "/tests/", "/test/", "conftest.py")


def is_test_path(path: str) -> bool:
    name = "/" + path
    return any(marker in name for marker in _TEST_MARKERS) or name.startswith("/tests/")


def is_source_path(path: str) -> bool:
    """Code a fix may change: a language swc parses, not a test."""
    return language_for_path(path) is not None and not is_test_path(path)


def build_context(
    root: Path,
    task: Task,
    *,
    map_tokens: int,
    context_tokens: int,
    state_dir: Path | None,
    model: str | None = None,
    max_file_size: int = 1_000_000,
    other_budgets: Iterable[int] = (),
) -> tuple[Context, list[str]]:
    """The map and the code most likely to change; returns warnings from the map as data.

    ``other_budgets``: the code is packed for each of these too (``Context.packs``), for
    tiers shown more or less than ``context_tokens``."""
    from ..repomap import build_repo_map, focus_from_text
    from ..sandbox import clip_output

    text = task.text + "\n" + task.test_output
    focus = focus_from_text(text)
    repo_map = build_repo_map(
        root,
        focus,
        tokens=map_tokens,
        model=model,
        max_file_size=max_file_size,
        state_dir=state_dir,
    )
    ranked = [f.path for f in repo_map.files]
    named = list(resolve(focus.files, ranked, root).values())
    order = list(dict.fromkeys(named + ranked))
    past = past_changes(root, text, is_source_path)
    others = sorted(set(other_budgets) - {context_tokens})
    widest = max([context_tokens, *others])
    candidates = candidate_views(root, repo_map, focus, text, past, files=candidate_files(widest))
    files, small = select_code(candidates.scored(context_tokens), context_tokens)
    packs = tuple(
        (budget, tuple(to_context_files(Packer(candidates.scored(budget), budget).pack())))
        for budget in others
    )
    context = Context(
        repo_map=repo_map.text,
        files=tuple(files),
        ranked_paths=tuple(order),
        test_output=clip_output(task.test_output, TEST_OUTPUT_CHARS) if task.test_output else "",
        small_files=tuple(small),
        packs=packs,
    )
    return context, list(repo_map.warnings)


def prompt_room(settings: Settings, tier: str) -> int:
    """Tokens of a patch prompt besides the code, and the reply: what a code budget must
    leave free in the model's window."""
    return settings.map_tokens + PROMPT_ROOM_TOKENS + settings.tier(tier).max_tokens


def tier_budgets(
    settings: Settings, tiers: Iterable[str], windows: Mapping[str, int | None]
) -> dict[str, int]:
    """Tokens of code each tier is shown (``Settings.context_tokens_for``); a default above
    ``context_tokens`` (the weak tier's) is kept only where the model's window (``windows``,
    None: unknown) is known to hold it beside the map and a reply."""
    budgets = {}
    for tier in tiers:
        wanted = settings.context_tokens_for(tier)
        if settings.tier(tier).context_tokens is None and wanted > settings.context_tokens:
            window = windows.get(tier)
            if window is None or wanted + prompt_room(settings, tier) > window:
                wanted = settings.context_tokens
        budgets[tier] = wanted
    return budgets


def window_warnings(
    budgets: Mapping[str, int], settings: Settings, windows: Mapping[str, int | None]
) -> list[str]:
    """A tier whose code budget, beside the map and a reply, is more than its model's
    known window takes: the provider would cut or refuse the prompt."""
    warnings = []
    for tier, budget in budgets.items():
        window = windows.get(tier)
        room = prompt_room(settings, tier)
        if window is not None and budget + room > window:
            most = f" (at most {window - room:,})" if window > room else ""
            warnings.append(
                f"the {tier} tier is shown up to {budget:,} tokens of code, but its model "
                f"takes {window:,} tokens in all and the map, a reply and the rest of the "
                f"prompt about {room:,}: set {tier}.context_tokens lower{most}"
            )
    return warnings


def wanted_budgets(settings: Settings, tiers: Iterable[str]) -> set[int]:
    """The budgets the code may be packed for, before the models' windows are known."""
    return {settings.context_tokens_for(tier) for tier in tiers}


def select_code(
    views: list[SourceView], budget: int
) -> tuple[list[ContextFile], list[ContextFile]]:
    """The spans shown to the model within ``budget`` tokens, and a tiny model's share."""
    files = to_context_files(Packer(views, budget).pack())
    small = to_context_files(
        Packer(
            views,
            min(budget, SMALL_MODEL_FILE_TOKENS),
            max_files=1,
            gutter=False,
            imports=False,
            min_share=SMALL_MODEL_MIN_SHARE,
        ).pack(),
        gutter=False,
    )
    return files, small


def candidate_files(budget: int) -> int:
    """How many files' blocks compete for ``budget`` tokens: ``MAX_FILES``, and more for a
    wide budget (dev fixes shown at 64,000 tokens: 247 of 272 from 12 files, 256 from 30;
    at 16,000 more files did worse: 212 from 30 against 217)."""
    return max(MAX_FILES, budget // TOKENS_PER_CANDIDATE)


@dataclass
class Candidates:
    """The candidate files cut into blocks, best first, and what scores their blocks."""

    views: list[SourceView]
    text: str
    identifiers: tuple[str, ...]
    frames: Mapping[str, set[int]]
    map_definitions: Mapping[str, Mapping[str, float]]
    past_terms: tuple[str, ...]

    def scored(self, budget: int = 0) -> list[SourceView]:
        """The candidates that compete for ``budget`` tokens (0: the usual ``MAX_FILES``),
        their blocks scored among themselves (BM25 counts words over these blocks only)."""
        views = self.views[: candidate_files(budget)]
        score_blocks(
            views, self.text, self.identifiers, self.frames, self.map_definitions, self.past_terms
        )
        return views


def candidate_views(
    root: Path,
    repo_map: RepoMap,
    focus: Focus,
    text: str,
    past: PastChanges | None = None,
    *,
    files: int = MAX_FILES,
) -> Candidates:
    """Up to ``files`` candidate files cut into blocks: those of the task's stack frames,
    those it names, then by rank.

    ``past``: what the earlier commits most like the task changed (``history``): each
    file's share of their votes is blended into the map's file ranking, the words of their
    changed lines into the blocks' scores.
    """
    ranked = [f.path for f in repo_map.files]
    frames: dict[str, set[int]] = {}
    written = trace_lines(text)
    paths = resolve((path for path, _ in written), ranked, root)
    for path, line in written:
        if path in paths:
            frames.setdefault(paths[path], set()).add(line)
    named = set(resolve(focus.files, ranked, root).values()) | set(frames)
    best = repo_map.files[0].score if repo_map.files else 0.0
    past = past or PastChanges()
    shares = {
        f.path: (f.score / best if best > 0 else 0.0) + PAST_WEIGHT * past.files.get(f.path, 0.0)
        for f in repo_map.files
    }
    by_share = sorted(ranked, key=lambda path: -shares[path])
    views: list[SourceView] = []
    for rel in dict.fromkeys([*frames, *sorted(named - set(frames)), *by_share]):
        if len(views) >= files:
            break
        if is_test_path(rel):
            continue
        view = view_of(root, rel)
        if view is None:
            continue
        view.prior = shares.get(rel, 0.0) + (NAMED_FILE_BONUS if rel in named else 0.0)
        views.append(view)
    map_definitions = {
        f.path: {d.name: d.score for d in f.definitions} for f in repo_map.files if f.definitions
    }
    return Candidates(
        views, text, tuple(focus.identifiers), frames, map_definitions, tuple(past.terms)
    )


def scored_views(
    root: Path,
    repo_map: RepoMap,
    focus: Focus,
    text: str,
    past: PastChanges | None = None,
) -> list[SourceView]:
    """The ``MAX_FILES`` candidate files cut into blocks, each block scored for the task."""
    return candidate_views(root, repo_map, focus, text, past).scored()


def trim_for_small_model(context: Context) -> Context:
    """Tiny local models have small windows: the best span(s) of one file, no map."""
    files = context.small_files or context.files[:1]
    # Measured on SmolLM2-135M: a map beside the code draws it away from the file to fix.
    return Context(
        repo_map="",
        files=files,
        ranked_paths=context.ranked_paths,
        test_output=context.test_output[:1500],
        brief=context.brief[:1500],
        examples=context.examples[:1],
        small_files=files,
    )
