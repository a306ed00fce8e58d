"""What a tier's patch prompt holds, seen without a model call: ``swc context``.

``preview`` builds the context exactly as a run does (the same worktree at the base, the
same ``build_context``, brief and examples) and the messages with the same
``patch_messages``, so what it prints cannot drift from what a run sends. A run saves
the same view of its first patch prompt (``swc runs show ID --context``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..repomap.render import estimate_tokens
from .types import Context, FixRequest

if TYPE_CHECKING:
    from ..config import Settings
    from ..models import ModelClient
    from .context import CodeBudget

RANKED_SHOWN = 20
VIEW_SUFFIX = ".context.json"
RUN_ADDS = (
    "a run adds to this prompt the reproduction tests it writes first (model calls), and, "
    "under the plan and faq strategies, the strong model's guidance"
)


def prompt_view(
    *,
    tier: str,
    model: str,
    edit_format: str,
    small: bool,
    messages: list[dict[str, str]],
    context: Context,
    tokens: int,
    code_budget: CodeBudget | None = None,
    notes: list[str] | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """The one JSON shape of a patch prompt (``swc context --json``, saved with a run);
    ``code_budget``: the tokens of code the tier may be shown, and why (None: not known)."""
    from ..prompts import plain

    return {
        "tier": tier,
        "model": model,
        "edit_format": edit_format,
        "small_model": small,
        "tokens": tokens,
        "code_budget": code_budget.tokens if code_budget else None,
        "code_budget_why": code_budget.why if code_budget else None,
        "parts": {
            "map": estimate_tokens(context.repo_map),
            "code": sum(f.tokens for f in context.files),
            "brief": estimate_tokens(context.brief),
            "examples": sum(estimate_tokens(e.get("diff", "")) for e in context.examples),
            "test_output": estimate_tokens(context.test_output),
        },
        "files": [
            {
                "path": f.path,
                "whole": f.whole,
                "lines": [list(r) for r in f.ranges],
                "total_lines": f.total_lines,
                "tokens": f.tokens,
            }
            for f in context.files
        ],
        "ranked_paths": list(context.ranked_paths[:RANKED_SHOWN]),
        "examples": [e.get("title", "") for e in context.examples],
        "brief": bool(context.brief),
        "messages": plain(messages),
        "notes": list(notes or []),
        "warnings": list(warnings or []),
    }


def render_text(view: dict[str, Any]) -> str:
    """The messages as the model reads them, each under a rule naming its role."""
    out = []
    for message in view["messages"]:
        out.append(f"──── {message['role']} ────")
        out.append(message["content"].rstrip("\n"))
    return "\n".join(out) + "\n"


def summary(view: dict[str, Any]) -> list[str]:
    parts = view["parts"]
    files = view["files"]
    in_part = sum(1 for f in files if not f["whole"])
    lines = [
        f"{view['tier']} tier ({view['model']}, {view['edit_format']} edits): "
        f"{view['tokens']:,} prompt tokens",
        f"map ~{parts['map']:,} tokens; code ~{parts['code']:,}"
        + (f" of {view['code_budget']:,}" if view.get("code_budget") else "")
        + f" tokens in {len(files)} file(s), {in_part} shown in part"
        + (f"; brief ~{parts['brief']:,}" if view["brief"] else "")
        + (
            f"; {len(view['examples'])} example(s) ~{parts['examples']:,}"
            if view["examples"]
            else ""
        ),
    ]
    if view.get("code_budget_why"):
        lines.append(f"code budget: {view['code_budget_why']}")
    for f in files:
        if f["whole"]:
            shown = f"whole ({f['total_lines']} lines)"
        else:
            runs = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in f["lines"])
            shown = f"lines {runs} of {f['total_lines']}"
        lines.append(f"  {f['path']}: {shown}, ~{f['tokens']:,} tokens")
    return lines


def save_view(state_dir: Path, run_id: str, view: dict[str, Any]) -> Path:
    runs = state_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    path = runs / f"{run_id}{VIEW_SUFFIX}"
    path.write_text(json.dumps(view, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def load_view(state_dir: Path, run_id: str) -> dict[str, Any] | None:
    path = state_dir / "runs" / f"{run_id}{VIEW_SUFFIX}"
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def preview(request: FixRequest, *, tier: str | None = None) -> dict[str, Any]:
    """The patch prompt ``tier`` (default: the strategy's first drafting tier) would get."""
    from ..models import Budget, ModelClient
    from ..sandbox import Worktree
    from .attempts import may_change_tests, patch_messages, tier_context
    from .context import CodeBudget, build_context, window_warnings
    from .intake import resolve_base
    from .tiers import priced_budgets, tier_view, walk_for

    settings, root = request.settings, request.repo.root
    walk = walk_for(settings.strategy, settings.tier_names)
    name = _known_tier(settings, tier or walk.tiers[0])
    base_sha = resolve_base(root, request.base)
    client = ModelClient(settings, budget=Budget(settings.budget))
    small = client.is_small(name)
    edit_format = settings.tier(name).edit_format or ("whole" if small else "search-replace")
    chosen, windows = priced_budgets(client, settings, [name])
    code_tokens = chosen[name].tokens
    with Worktree(root, base_sha, include_dirty=request.include_dirty) as base:
        warnings = list(base.warnings)
        context, map_warnings = build_context(
            base.path,
            request.task,
            map_tokens=settings.map_tokens,
            context_tokens=settings.context_tokens,
            state_dir=request.repo.state_dir,
            max_file_size=settings.max_file_size,
            other_budgets=[code_tokens],
        )
    warnings.extend(map_warnings)
    warnings.extend(window_warnings({name: code_tokens}, settings, windows))
    context, notes = _with_brief_and_examples(request, context, base_sha)
    position = walk.tiers.index(name) if name in walk.tiers else 0
    view = tier_view(name, position, walk, small=small, budgets={name: code_tokens})
    shown = tier_context(context, view)
    messages = patch_messages(
        edit_format=edit_format,
        context=shown,
        task_text=request.task.text,
        tests=(),
        small=small,
        prompts_dir=settings.prompts_dir,
        may_change_tests=may_change_tests(settings.test_changes, name, small),
    )
    notes.append(RUN_ADDS)
    return prompt_view(
        tier=name,
        model=client.spec(name).model,
        edit_format=edit_format,
        small=small,
        messages=messages,
        context=shown,
        tokens=_count(client, name, messages),
        code_budget=CodeBudget(shown_budget(settings, code_tokens, small), chosen[name].why),
        notes=notes,
        warnings=warnings,
    )


def _known_tier(settings: Settings, name: str) -> str:
    from ..errors import UsageError

    if name not in settings.tier_names:
        raise UsageError(
            f"--tier {name}: no such tier; the tiers are " + ", ".join(settings.tier_names)
        )
    return name


def shown_budget(settings: Settings, code_tokens: int, small: bool) -> int:
    """The tokens of code a tier may be shown: its budget, or a tiny model's share."""
    from .context import SMALL_MODEL_FILE_TOKENS

    budget = code_tokens or settings.context_tokens
    return min(budget, SMALL_MODEL_FILE_TOKENS) if small else budget


def _count(client: ModelClient, tier: str, messages: list[dict[str, str]]) -> int:
    from ..errors import SwcError

    try:
        return client.estimate_tokens(tier, messages)
    except SwcError:
        return sum(estimate_tokens(m["content"]) for m in messages)


def _with_brief_and_examples(
    request: FixRequest, context: Context, base: str
) -> tuple[Context, list[str]]:
    """The brief and examples a run would add, read only: a stale brief is shown as it
    is (a run has the strong model rewrite it first)."""
    from ..brief import STALE_SHARE, load_brief
    from ..models import Ledger
    from .examples import find_examples

    state_dir, root = request.repo.state_dir, request.repo.root
    notes: list[str] = []
    brief = load_brief(root, state_dir, base)
    if brief is not None:
        context = replace(context, brief=brief.text)
        if brief.source == "generated" and brief.stale_share >= STALE_SHARE:
            notes.append(
                "the repository brief is stale: a run would have the strong model "
                "rewrite it before this prompt"
            )
    if request.settings.fewshot > 0:
        runs: list[dict[str, Any]] = []
        if Ledger.exists(state_dir):
            ledger = Ledger.open(state_dir)
            try:
                runs = ledger.runs(limit=500)
            finally:
                ledger.close()
        examples = find_examples(root, request.task.text, base, request.settings.fewshot, runs)
        context = replace(context, examples=tuple(e.as_prompt() for e in examples))
    return context, notes
