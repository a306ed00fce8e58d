"""Choosing among candidates no test could tell apart (or that all pass): the change
most candidates made, or a strong model's review."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

from ..prompts import chat
from ..task import Task
from .attempts import context_vars
from .guidance import parse_json_object
from .types import Attempt, Context

if TYPE_CHECKING:
    from ..models import ModelClient


def normalise_diff(diff: str) -> str:
    """A diff's added and removed lines without whitespace or comments, for voting."""
    lines = []
    for line in diff.splitlines():
        if not line or line[0] not in "+-" or line.startswith(("+++", "---")):
            continue
        body = re.sub(r"\s+", "", re.split(r"#|//", line[1:], maxsplit=1)[0])
        if body:
            lines.append(line[0] + body)
    return "\n".join(lines)


def pick_by_consistency(candidates: list[Attempt]) -> tuple[Attempt, str]:
    """The candidate of the largest group of equivalent diffs (earliest on a tie)."""
    groups = Counter(normalise_diff(a.diff) for a in candidates)
    key, size = groups.most_common(1)[0]
    chosen = next(a for a in candidates if normalise_diff(a.diff) == key)
    return chosen, f"self-consistency: {size} of {len(candidates)} candidates made this change"


def pick_by_strong_judge(
    *,
    client: ModelClient,
    candidates: list[Attempt],
    task: Task,
    context: Context,
    prompts_dir: str | None,
    passing: bool = False,
    tier: str = "strong",
) -> tuple[Attempt, str]:
    """``tier`` reads the candidates and picks one: ``judge.j2`` when no test could decide,
    ``pick.j2`` when all of them pass the tests (best-of-n)."""
    template = "pick" if passing else "judge"
    messages = chat(
        template,
        prompts_dir=prompts_dir,
        candidates=[a.diff for a in candidates],
        **context_vars(context, task.text),
    )
    reply = client.complete(tier, messages, purpose=template, temperature=0.0)
    answer = parse_json_object(reply.text) or {}
    choice = answer.get("choice")
    if isinstance(choice, int) and not isinstance(choice, bool) and 1 <= choice <= len(candidates):
        return candidates[choice - 1], f"strong-model review: {answer.get('reason', '')}"[:300]
    chosen, why = pick_by_consistency(candidates)
    return chosen, "strong-model review gave no usable choice; " + why
