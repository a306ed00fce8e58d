"""Context stage: the repo map focused on the task, plus the code most likely to change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import WEAK_CONTEXT_TOKENS
from ..ecosystems import is_test_path
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
# Tokens of a patch prompt besides the map and the code (task, instructions), for pricing.
PROMPT_OVERHEAD_TOKENS = 1500
# A tier priced to a share of the strong tier's prompt is shown no less code than this.
MIN_PRICED_CONTEXT_TOKENS = 8000
# A wide budget draws on one more candidate file for each this many tokens (past 12).
TOKENS_PER_CANDIDATE = 2000
# Weight of the earlier similar commits' votes beside the map's rank share (0..1).
PAST_WEIGHT = 1.0


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
    built = prepare_context(
        root,
        task,
        map_tokens=map_tokens,
        context_tokens=context_tokens,
        state_dir=state_dir,
        model=model,
        max_file_size=max_file_size,
        other_budgets=other_budgets,
    )
    return built.context, built.warnings


@dataclass
class PreparedContext:
    """A context, the map's warnings, and the candidate code it was packed from (to pack
    it for another budget later: ``with_packs``)."""

    context: Context
    warnings: list[str]
    candidates: Candidates


def prepare_context(
    root: Path,
    task: Task,
    *,
    map_tokens: int,
    context_tokens: int,
    state_dir: Path | None,
    model: str | None = None,
    max_file_size: int = 1_000_000,
    other_budgets: Iterable[int] = (),
) -> PreparedContext:
    """``build_context``, keeping the candidates (budgets priced later need them)."""
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
    widest = max([context_tokens, WEAK_CONTEXT_TOKENS, *other_budgets])
    candidates = candidate_views(root, repo_map, focus, text, past, files=candidate_files(widest))
    files, small = select_code(candidates.scored(context_tokens), context_tokens)
    context = Context(
        repo_map=repo_map.text,
        files=tuple(files),
        ranked_paths=tuple(order),
        test_output=clip_output(task.test_output, TEST_OUTPUT_CHARS) if task.test_output else "",
        small_files=tuple(small),
    )
    context = with_packs(context, candidates, set(other_budgets) - {context_tokens})
    return PreparedContext(context, list(repo_map.warnings), candidates)


def with_packs(context: Context, candidates: Candidates, budgets: Iterable[int]) -> Context:
    """``context`` with its code also packed for each of ``budgets`` it lacks."""
    have = dict(context.packs)
    for budget in sorted(set(budgets) - set(have)):
        have[budget] = tuple(to_context_files(Packer(candidates.scored(budget), budget).pack()))
    return replace(context, packs=tuple(sorted(have.items())))


def prompt_room(settings: Settings, tier: str) -> int:
    """Tokens of a patch prompt besides the code, and the reply: what a code budget must
    leave free in the model's window."""
    return settings.map_tokens + PROMPT_ROOM_TOKENS + settings.tier(tier).max_tokens


@dataclass(frozen=True)
class CodeBudget:
    """The tokens of code a tier is shown, and why (for the plan and ``--json``)."""

    tokens: int
    why: str


def tier_budgets(
    settings: Settings,
    tiers: Iterable[str],
    windows: Mapping[str, int | None],
    prices: Mapping[str, float | None] | None = None,
) -> dict[str, int]:
    """Tokens of code each tier is shown (``code_budgets``)."""
    return {t: b.tokens for t, b in code_budgets(settings, tiers, windows, prices).items()}


def code_budgets(
    settings: Settings,
    tiers: Iterable[str],
    windows: Mapping[str, int | None],
    prices: Mapping[str, float | None] | None = None,
) -> dict[str, CodeBudget]:
    """Tokens of code each tier is shown, and why: what the user chose; else for the last
    tier (the strong one) ``context_tokens``; else what the tier's price buys: a patch
    prompt costing at most ``context_cost_share`` of the last tier's, between
    ``MIN_PRICED_CONTEXT_TOKENS`` and ``WEAK_CONTEXT_TOKENS`` (that only where the
    model's window, ``windows``, is known to hold it beside the map and a reply).

    ``prices``: USD per prompt token of each tier (None or 0: unknown or free); they are
    known only once litellm is imported, so a caller without them gets the window rule."""
    reference = settings.tier_names[-1]
    budgets = {}
    for tier in tiers:
        chosen = settings.chosen_context_tokens(tier)
        if chosen is not None:
            budgets[tier] = CodeBudget(chosen, "set in the configuration")
        elif tier == reference:
            budgets[tier] = CodeBudget(settings.context_tokens, "the strong tier's default")
        else:
            budgets[tier] = _priced_budget(settings, tier, windows.get(tier), prices or {})
    return budgets


def _priced_budget(
    settings: Settings, tier: str, window: int | None, prices: Mapping[str, float | None]
) -> CodeBudget:
    """A cheaper tier's code budget: as much as ``context_cost_share`` of the last tier's
    patch prompt buys at its price (see ``code_budgets``)."""
    reference = settings.tier_names[-1]
    fits = window is not None and WEAK_CONTEXT_TOKENS + prompt_room(settings, tier) <= window
    cap = WEAK_CONTEXT_TOKENS if fits else settings.context_tokens
    where = "its model's window takes it" if fits else "its model's window is unknown or small"
    mine, theirs = prices.get(tier), prices.get(reference)
    if not mine:
        return CodeBudget(cap, f"no price (free or unknown): {cap:,}, as {where}")
    if not theirs:
        return CodeBudget(cap, f"the {reference} tier's price is unknown: {cap:,}, as {where}")
    fixed = settings.map_tokens + PROMPT_OVERHEAD_TOKENS
    their_prompt = fixed + settings.context_tokens_for(reference)
    their_cost = their_prompt * theirs
    affordable = int(settings.context_cost_share * their_cost / mine) - fixed
    tokens = min(cap, max(MIN_PRICED_CONTEXT_TOKENS, affordable // 100 * 100))
    my_cost = (fixed + tokens) * mine
    share = settings.context_cost_share
    why = (
        f"a patch prompt of ~{fixed + tokens:,} tokens at ${mine * 1e6:.2f}/M costs "
        f"${my_cost:.4f}, {my_cost / their_cost:.2f} of the {reference} tier's "
        f"(~{their_prompt:,} tokens at ${theirs * 1e6:.2f}/M: ${their_cost:.4f})"
    )
    if tokens < affordable // 100 * 100:
        why += f"; at most {cap:,}, as {where}"
    elif affordable < MIN_PRICED_CONTEXT_TOKENS:
        why += f"; no less than {MIN_PRICED_CONTEXT_TOKENS:,}, so above the share {share}"
    else:
        why += f": context_cost_share {share}"
    return CodeBudget(tokens, why)


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
