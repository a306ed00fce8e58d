"""Packing scored blocks into a token budget, and showing them the way the model reads
them.

A file shown in part keeps its line numbers in a gutter (``412<TAB>    def foo``, the way
``cat -n`` prints them) and says ``…`` where lines are left out, as the repo map does; a
file that fits is shown whole, as it is. Each file shown in part also shows its imports,
and each block the first lines of the classes (and, for a piece of a long function, the
function) around it, with ``WINDOW`` lines either side. Nothing is ever cut at a
character count: a block fits whole or waits for one that does.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..repomap.render import ELISION
from .spans import Block, SourceView
from .types import ContextFile

# A tab after the number: gpt-4o's tokenizer counts the number alone (1 token up to 3
# digits), where a padded `` 412│`` took 3-4; on a 16,000-token jinja context the same
# spans cost 14 % fewer tokens (15,185 -> 13,033).
GUTTER_MARK = "\t"
WINDOW = 3  # lines shown either side of a block
FILL_GAP = 2  # a hole of this many lines or fewer is shown rather than elided
# A file is shown whole when it costs at most this share of the budget (and it fits), and
# the spans picked already take this share of it (or it is this small): a whole file of
# little relevance would crowd out the spans of the files that matter.
WHOLE_FILE_SHARE = 0.4
WHOLE_WHEN_SHOWN = 0.5
SMALL_FILE_TOKENS = 300
# Blocks scoring below this share of the best are not worth the model's attention.
MIN_SHARE = 0.02
# Blocks in a row that did not fit before the packing stops.
MAX_MISSES = 40
# Tokens of code: each word, number (up to 3 digits), pair of punctuation marks, other
# (non-ASCII) character and line end counts one; whitespace is free. Measured against
# gpt-4o's tokenizer (o200k) and cl100k: 1.03-1.05 x the real count on Python (jinja,
# requests, itsdangerous, click) and C, 1.14-1.19 x on JavaScript, TypeScript, Go and
# Rust. The map's estimate (every mark and run of spaces a piece) came out 1.26-1.34 x on
# code: a budget of 8,000 held 6,646 real tokens on average (benchmarks/context.py).
_CODE_PIECE = re.compile(r"[A-Za-z]+|[0-9]{1,3}|[^\x00-\x7f]|[!-/:-@\[-`{-~]{1,2}|\n")
ELISION_TOKENS = 2.0


@dataclass
class Picked:
    """What is shown of one file: a set of lines, or all of it."""

    view: SourceView
    lines: set[int] = field(default_factory=set)
    whole: bool = False
    cost: float = 0.0


def code_tokens(text: str) -> int:
    return len(_CODE_PIECE.findall(text))


def gutter_tokens(number: int) -> int:
    """Tokens of a line number and its tab: one for each 3 digits (o200k, cl100k)."""
    return (len(str(number)) + 2) // 3


def line_costs(view: SourceView) -> list[float]:
    """Estimated tokens of each line (index 0 is line 1), without the gutter."""
    return [code_tokens(line + "\n") for line in view.lines]


class Packer:
    """Greedy: the best block first; a block that does not fit is skipped, not cut."""

    def __init__(
        self,
        views: Sequence[SourceView],
        budget: int,
        *,
        max_files: int = 0,
        gutter: bool = True,
        imports: bool = True,
        min_share: float = 0.0,
    ) -> None:
        self.views = {v.path: v for v in views}
        self.budget = budget
        self.max_files = max_files
        self.gutter = gutter
        self.imports = imports
        self.min_share = max(MIN_SHARE, min_share)
        self.costs = {v.path: line_costs(v) for v in views}
        self.picked: dict[str, Picked] = {}
        self.used = 0.0

    def pack(self) -> list[Picked]:
        blocks = sorted(
            (b for v in self.views.values() for b in v.blocks),
            key=lambda b: (-b.score, b.path, b.start),
        )
        best = blocks[0].score if blocks else 0.0
        misses = 0
        for block in blocks:
            if block.score <= 0 or block.score < self.min_share * best or misses >= MAX_MISSES:
                break
            misses = 0 if self._add(block) else misses + 1
        self._widen()
        return list(self.picked.values())

    def _add(self, block: Block) -> bool:
        view = self.views[block.path]
        current = self.picked.get(block.path)
        if current is not None and current.whole:
            return True
        if current is None and self.max_files and len(self.picked) >= self.max_files:
            return False
        lines = set(current.lines) if current else set(view.imports if self.imports else ())
        lines.update(block.headers)
        first = max(1, block.start - WINDOW)
        lines.update(range(first, min(len(view.lines), block.end + WINDOW) + 1))
        lines = filled(lines, len(view.lines))
        cost = self.cost_of(view, lines)
        delta = cost - (current.cost if current else 0.0)
        if self.used + delta > self.budget:
            return False
        picked = current or Picked(view)
        picked.lines, picked.cost = lines, cost
        self.picked[block.path] = picked
        self.used += delta
        self._maybe_whole(picked)
        return True

    def _maybe_whole(self, picked: Picked) -> None:
        whole = self.whole_cost(picked.view)
        worth = picked.cost >= WHOLE_WHEN_SHOWN * whole or whole <= SMALL_FILE_TOKENS
        if (
            worth
            and whole <= WHOLE_FILE_SHARE * self.budget
            and self.used - picked.cost + whole <= self.budget
        ):
            self.used += whole - picked.cost
            picked.whole, picked.cost = True, whole
            picked.lines = set(range(1, len(picked.view.lines) + 1))

    def _widen(self) -> None:
        """Budget left over shows the picked files whole, best first, where they fit."""
        for picked in self.picked.values():
            if picked.whole:
                continue
            whole = self.whole_cost(picked.view)
            if self.used - picked.cost + whole <= self.budget:
                self.used += whole - picked.cost
                picked.whole, picked.cost = True, whole
                picked.lines = set(range(1, len(picked.view.lines) + 1))

    def whole_cost(self, view: SourceView) -> float:
        return sum(self.costs[view.path]) + 1

    def cost_of(self, view: SourceView, lines: set[int]) -> float:
        costs = self.costs[view.path]
        total = sum(costs[n - 1] + (gutter_tokens(n) if self.gutter else 0) for n in lines)
        return total + ELISION_TOKENS * len(runs(lines, len(view.lines), elisions=True))


def filled(lines: set[int], total: int) -> set[int]:
    """``lines`` with holes of at most ``FILL_GAP`` lines (and such edges) filled in."""
    if not lines:
        return lines
    ordered = sorted(lines)
    out = set(lines)
    for a, b in itertools.pairwise(ordered):
        if 1 < b - a <= FILL_GAP + 1:
            out.update(range(a + 1, b))
    if ordered[0] - 1 <= FILL_GAP:
        out.update(range(1, ordered[0]))
    if total - ordered[-1] <= FILL_GAP:
        out.update(range(ordered[-1] + 1, total + 1))
    return out


def runs(lines: set[int], total: int, *, elisions: bool = False) -> list[tuple[int, int]]:
    """Consecutive runs of ``lines`` as (first, last); with ``elisions``, the holes instead."""
    ordered = sorted(n for n in lines if 1 <= n <= total)
    shown: list[tuple[int, int]] = []
    for n in ordered:
        if shown and n == shown[-1][1] + 1:
            shown[-1] = (shown[-1][0], n)
        else:
            shown.append((n, n))
    if not elisions:
        return shown
    holes, nxt = [], 1
    for first, last in shown:
        if first > nxt:
            holes.append((nxt, first - 1))
        nxt = last + 1
    if nxt <= total:
        holes.append((nxt, total))
    return holes


def render(picked: Picked, *, gutter: bool = True) -> str:
    view = picked.view
    if picked.whole:
        return "\n".join(view.lines)
    total = len(view.lines)
    shown = runs(picked.lines, total)
    out: list[str] = []
    nxt = 1
    for first, last in shown:
        if first > nxt:
            out.append(ELISION)
        for n in range(first, last + 1):
            text = view.lines[n - 1]
            out.append(f"{n}{GUTTER_MARK}{text}" if gutter else text)
        nxt = last + 1
    if nxt <= total:
        out.append(ELISION)
    return "\n".join(out)


def to_context_files(picked: Sequence[Picked], *, gutter: bool = True) -> list[ContextFile]:
    return [
        ContextFile(
            p.view.path,
            p.view.language,
            render(p, gutter=gutter),
            ranges=tuple(runs(p.lines, len(p.view.lines))),
            whole=p.whole,
            total_lines=len(p.view.lines),
            tokens=math.ceil(p.cost),
            numbered=gutter and not p.whole,
        )
        for p in picked
    ]
