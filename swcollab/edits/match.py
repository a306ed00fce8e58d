"""The matching ladder for SEARCH text: pure functions on strings.

Rungs, in order: exact lines; lines equal once trailing whitespace is dropped; lines
equal up to one uniform indentation shift (the replacement is shifted the same way);
a fuzzy window above ``FUZZY_THRESHOLD``. A rung that finds the text in two places
fails the edit: the ladder never guesses between places. A SEARCH found nowhere is
tried again without the line numbers and ``…`` lines copied from the context.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

from .gutter import has_elision, split_elided, strip_gutter

# Similarity (difflib ratio over stripped lines) a window needs to count as a fuzzy match.
FUZZY_THRESHOLD = 0.85
# Below this similarity the nearest window is not worth showing to the model.
CLOSEST_MIN_RATIO = 0.4
# Windows (ranked by shared tokens) that get the full difflib ratio.
FUZZY_CANDIDATES = 30
TOKEN_RE = re.compile(r"\w+|[^\w\s]")
# Fuzzy matching of one or two lines replaces the wrong line too easily.
FUZZY_MIN_LINES = 3


@dataclass(frozen=True)
class Replaced:
    text: str
    how: str
    line: int  # 1-based first line of the match in the old text


@dataclass(frozen=True)
class NoMatch:
    reason: str
    closest: str = ""
    already_applied: bool = False


def split_lines(text: str) -> list[str]:
    """Lines without terminators; a final newline does not make an extra empty line."""
    if not text:
        return []
    return (text[:-1] if text.endswith("\n") else text).split("\n")


def join_lines(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _trim_blank_edges(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _trim_like(new: list[str], search: list[str]) -> list[str]:
    """Drop from the replacement the blank edge lines that were dropped from SEARCH
    (blank context lines a diff hunk carries on both sides)."""
    lead = next((k for k, line in enumerate(search) if line.strip()), len(search))
    trail = next((k for k, line in enumerate(reversed(search)) if line.strip()), 0)
    while lead and new and not new[0].strip():
        new, lead = new[1:], lead - 1
    while trail and new and not new[-1].strip():
        new, trail = new[:-1], trail - 1
    return new


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def replace_text(content: str, search: str, replace: str) -> Replaced | NoMatch:
    """Replace the one place ``search`` matches in ``content`` with ``replace``.

    When the text as written is not found, a line-number gutter and ``…`` lines copied
    from the context shown to the model are taken out (``gutter.py``) and it is tried
    again: each piece between ``…`` lines must then match one place of its own."""
    stripped = strip_gutter(search, replace)
    if stripped is None and not has_elision(search):
        return _replace_one(content, search, replace)
    # A file may really hold such lines: as written first, but never fuzzily (a gutter
    # barely lowers the similarity of long lines, and it would be written into the file).
    found = _replace_one(content, search, replace, LADDER[:3])
    if isinstance(found, Replaced):
        return found
    search, replace = stripped or (search, replace)
    pieces = split_elided(search, replace)
    if isinstance(pieces, str):
        return NoMatch(pieces)
    text, first, cursor = content, 0, 0
    for number, (part, new) in enumerate(pieces, start=1):
        # Each piece is looked for after the one before it (the order they were shown in).
        one = _replace_one(text, part, new, after=cursor)
        if isinstance(one, NoMatch):
            if part == new:
                continue  # lines quoted only to show where: nothing to change there
            where = f"part {number} of the SEARCH (between `…` lines): " if len(pieces) > 1 else ""
            return NoMatch(where + one.reason, one.closest, one.already_applied)
        text, first, cursor = one.text, first or one.line, one.line
    how = "line-numbers" if stripped else "elision"
    return Replaced(text, how if len(pieces) == 1 or stripped is None else how + "+elision", first)


def _replace_one(
    content: str,
    search: str,
    replace: str,
    ladder: tuple[tuple[str, Finder], ...] | None = None,
    after: int = 0,
) -> Replaced | NoMatch:
    lines = split_lines(content)
    wanted = _trim_blank_edges(split_lines(search))
    new = _trim_like(split_lines(replace), split_lines(search))
    if not wanted:
        return NoMatch("the SEARCH part is empty but the file already has content")
    for how, finder in ladder or LADDER:
        spots = [spot for spot in finder(lines, wanted) if spot[0] >= after]
        if len(spots) > 1:
            where = ", ".join(str(start + 1) for start, _, _ in spots[:5])
            return NoMatch(
                f"the SEARCH text matches {len(spots)} places (lines {where}); "
                "add surrounding lines so that it matches exactly one place"
            )
        if spots:
            start, end, shift = spots[0]
            unit = "\t" if _indent(lines[start]).startswith("\t") else " "
            body = lines[:start] + reindent(new, shift, unit) + lines[end:]
            text = join_lines(body)
            if not content.endswith("\n"):  # keep the file's (missing) final newline
                text = text[:-1]
            return Replaced(text, how, start + 1)
    return NoMatch(
        "the SEARCH text is not in the file",
        closest=closest_lines(lines, wanted),
        already_applied=contains(content, replace),
    )


Spot = tuple[int, int, int]  # start, end (exclusive), indentation shift in columns
Finder = Callable[[list[str], list[str]], list[Spot]]


def _exact(lines: list[str], wanted: list[str]) -> list[Spot]:
    n = len(wanted)
    return [(i, i + n, 0) for i in range(len(lines) - n + 1) if lines[i : i + n] == wanted]


def _trailing_ws(lines: list[str], wanted: list[str]) -> list[Spot]:
    n = len(wanted)
    target = [w.rstrip() for w in wanted]
    stripped = [line.rstrip() for line in lines]
    return [(i, i + n, 0) for i in range(len(lines) - n + 1) if stripped[i : i + n] == target]


def indent_shift(window: list[str], wanted: list[str]) -> int | None:
    """The one column shift that turns ``wanted`` into ``window``, or None."""
    shift: int | None = None
    for have, want in zip(window, wanted, strict=True):
        if not have.strip() and not want.strip():
            continue
        if have.strip() != want.strip():
            return None
        delta = len(_indent(have)) - len(_indent(want))
        if shift is None:
            shift = delta
        elif delta != shift:
            return None
    return shift


def _indent_shift(lines: list[str], wanted: list[str]) -> list[Spot]:
    n = len(wanted)
    spots = []
    for i in range(len(lines) - n + 1):
        shift = indent_shift(lines[i : i + n], wanted)
        if shift:
            spots.append((i, i + n, shift))
    return spots


def _similarity(window: list[str], wanted: list[str]) -> float:
    a = "\n".join(line.strip() for line in window)
    b = "\n".join(line.strip() for line in wanted)
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < CLOSEST_MIN_RATIO or matcher.quick_ratio() < CLOSEST_MIN_RATIO:
        return 0.0
    return matcher.ratio()


def _scored_windows(lines: list[str], wanted: list[str]) -> list[tuple[float, int, int]]:
    """Windows of the file most similar to ``wanted``, best first: (ratio, start, end).

    difflib over every window is quadratic and took 20 s on a 3,800-line file, so windows
    are first ranked by shared tokens (one pass each size), and only the best
    ``FUZZY_CANDIDATES`` get the full ratio."""
    n = len(wanted)
    want = Counter(tok for line in wanted for tok in _tokens(line))
    per_line = [_tokens(line) for line in lines]
    ranked = []
    for size in sorted({max(1, n - 1), n, n + 1}):
        ranked.extend(_token_overlap(per_line, want, size))
    ranked.sort(key=lambda s: (-s[0], s[1], s[2]))
    scored = [
        (_similarity(lines[start:end], wanted), start, end)
        for _, start, end in ranked[:FUZZY_CANDIDATES]
    ]
    scored.sort(key=lambda s: (-s[0], s[1]))
    return scored


def _tokens(line: str) -> list[str]:
    return TOKEN_RE.findall(line)


def _token_overlap(
    per_line: list[list[str]], want: Counter, size: int
) -> list[tuple[float, int, int]]:
    """Dice coefficient of token counts for every window of ``size`` lines, sliding."""
    total_want = sum(want.values())
    window: Counter = Counter()
    overlap = count = 0
    out = []
    for end in range(len(per_line)):
        for tok in per_line[end]:
            overlap += window[tok] < want[tok]
            window[tok] += 1
            count += 1
        start = end - size + 1
        if start > 0:
            for tok in per_line[start - 1]:
                window[tok] -= 1
                overlap -= window[tok] < want[tok]
                count -= 1
        if start >= 0:
            out.append((2 * overlap / max(1, count + total_want), start, end + 1))
    return out


def _fuzzy(lines: list[str], wanted: list[str]) -> list[Spot]:
    if sum(1 for w in wanted if w.strip()) < FUZZY_MIN_LINES:
        return []
    good = [s for s in _scored_windows(lines, wanted) if s[0] >= FUZZY_THRESHOLD]
    if not good:
        return []
    picked: list[tuple[float, int, int]] = []
    for score, start, end in good:  # keep only windows that do not overlap a better one
        if all(end <= s or start >= e for _, s, e in picked):
            picked.append((score, start, end))
    return [(start, end, _first_line_shift(lines[start:end], wanted)) for _, start, end in picked]


def _first_line_shift(window: list[str], wanted: list[str]) -> int:
    have = next((line for line in window if line.strip()), "")
    want = next((line for line in wanted if line.strip()), "")
    return len(_indent(have)) - len(_indent(want))


LADDER: tuple[tuple[str, Finder], ...] = (
    ("exact", _exact),
    ("trailing-ws", _trailing_ws),
    ("indent", _indent_shift),
    ("fuzzy", _fuzzy),
)


def reindent(lines: list[str], shift: int, unit: str = " ") -> list[str]:
    """Shift every non-blank line by ``shift`` columns (never past its own indentation)."""
    if shift == 0:
        return list(lines)
    out = []
    for line in lines:
        if not line.strip():
            out.append("")
        elif shift > 0:
            out.append(unit * shift + line)
        else:
            cut = min(-shift, len(_indent(line)))
            out.append(line[cut:])
    return out


def closest_lines(lines: list[str], wanted: list[str]) -> str:
    """The window of the file most similar to ``wanted``, or "" when nothing is close."""
    if not lines or not wanted:
        return ""
    score, start, end = _scored_windows(lines, wanted)[0]
    if score < CLOSEST_MIN_RATIO:
        return ""
    return join_lines(lines[start:end])


def contains(content: str, text: str) -> bool:
    """Whether ``text`` (non-blank) is already in ``content``, up to whitespace rungs."""
    wanted = _trim_blank_edges(split_lines(text))
    if not wanted:
        return False
    lines = split_lines(content)
    return any(finder(lines, wanted) for _, finder in LADDER[:3])
