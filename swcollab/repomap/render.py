"""Rendering: an outline of the best definitions that fits the token budget.

Items (a file's path, or one definition's signature line) are taken best first; the
largest prefix that fits is found by bisection over its length. Within a file the shown
definitions are in line order, with an elision marker where lines are skipped.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .tags import Definition

# One token in the usual vocabularies ("⋮" takes two or three).
ELISION = "…"
# The estimate counts words, short digit runs, punctuation marks, newlines and runs of
# spaces, and scales by this factor. On repo maps (outline text: paths, signatures) it
# came out 6-15% above litellm's count for gpt-4o every time, where characters / 3 was
# off by -5% to +25% depending on how many paths the map held.
_PIECE = re.compile(r"[A-Za-z]+|[0-9]{1,3}|[^\sA-Za-z0-9]|\n|[ \t]+")
PIECES_PER_TOKEN = 0.8

TokenCounter = Callable[[str], int]


@dataclass(frozen=True, slots=True)
class Item:
    score: float
    file: int
    definition: int  # index into the file's definitions; -1 for the path alone


def estimate_tokens(text: str) -> int:
    return math.ceil(len(_PIECE.findall(text)) * PIECES_PER_TOKEN)


def token_counter(model: str | None) -> tuple[TokenCounter, str | None]:
    """litellm's counter for ``model`` when it knows the model, else the estimate."""
    if not model:
        return estimate_tokens, None
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError:
        return estimate_tokens, "litellm is not installed: token counts are estimates"
    if model not in litellm.model_cost and model.split("/", 1)[-1] not in litellm.model_cost:
        return estimate_tokens, f"model {model!r} unknown to litellm: token counts are estimates"

    def count(text: str) -> int:
        return int(litellm.token_counter(model=model, text=text))

    return count, None


def render(
    items: Sequence[Item], paths: Sequence[str], definitions: Mapping[int, Sequence[Definition]]
) -> str:
    order: list[int] = []
    shown: dict[int, list[int]] = {}
    for item in items:
        if item.file not in shown:
            shown[item.file] = []
            order.append(item.file)
        if item.definition >= 0:
            shown[item.file].append(item.definition)
    blocks = [_file_block(paths[f], definitions.get(f, ()), shown[f]) for f in order]
    return "\n".join(blocks)


def _file_block(path: str, defs: Sequence[Definition], chosen: list[int]) -> str:
    if not chosen:
        return path
    picked = sorted({defs[i] for i in chosen}, key=lambda d: (d.line, d.indent))
    width = len(str(picked[-1].line))
    lines = [f"{path}:"]
    next_line = 1
    for d in picked:
        if d.line > next_line:
            lines.append(f"{'':>{width}} {ELISION}")
        lines.append(f"{d.line:>{width}}│{' ' * d.indent}{d.signature}")
        next_line = d.line + 1
    lines.append(f"{'':>{width}} {ELISION}")
    return "\n".join(lines)


def fit(
    items: Sequence[Item],
    paths: Sequence[str],
    definitions: Mapping[int, Sequence[Definition]],
    budget: int,
    count: TokenCounter,
) -> tuple[str, int, int]:
    """The largest prefix of ``items`` whose rendering fits ``budget``: (text, tokens, n)."""
    # Every item renders to at least one token, so no more than ``budget`` can fit.
    low, high = 0, min(len(items), budget)
    best_text, best_tokens = "", 0
    while low < high:
        mid = (low + high + 1) // 2
        text = render(items[:mid], paths, definitions)
        tokens = count(text)
        if tokens <= budget:
            low, best_text, best_tokens = mid, text, tokens
        else:
            high = mid - 1
    return best_text, best_tokens, low
