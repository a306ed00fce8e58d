"""What models copy from the context besides code: the line-number gutter and ``…``.

A file shown in part reads ``412<TAB>    def foo`` with ``…`` where lines are left out
(engine/spanview.py); the repo map prints `` 412│def foo``. Models copy both into SEARCH
parts and code blocks. Pure functions on strings: ``strip_gutter`` removes a gutter that
every line of a SEARCH part carries (numbers increasing, as we print them), and
``split_elided`` cuts a SEARCH/REPLACE pair at its ``…`` lines into pieces that are each
matched on their own.
"""

from __future__ import annotations

import itertools
import re

# ``412<TAB>`` as the code is printed, ``412│`` as the map prints it (right-aligned, the
# box-drawing bar), ``412 |`` as retyped. A model may also turn the tab into one space, or
# drop it after the number of a blank line (``26``): the numbers, increasing on every line,
# still tell our gutter from the file's own text.
# The space form only at the line's start: indented code may begin with a number.
GUTTER_RE = re.compile(r"^(?:[ \t]*(?P<n>\d+)(?: ?[│|]|\t|[ \t]*$)|(?P<m>\d+) )")
# Only the bar is taken out of a code block a model writes for a whole file or definition:
# a number and a tab also begin the rows of tab-separated data (an id column).
BAR_GUTTER_RE = re.compile(r"^[ \t]*(?P<n>\d+) ?[│|]")
# A new line the model marks with the bar but no number.
BARE_BAR_RE = re.compile(r"^[ \t]*│")
ELISION_RE = re.compile(r"^[ \t]*(…|⋮)[ \t]*$")


def _lines(text: str) -> list[str]:
    return text.split("\n")


def is_elision(line: str) -> bool:
    return ELISION_RE.match(line) is not None


def has_gutter(lines: list[str], pattern: re.Pattern[str] = GUTTER_RE) -> bool:
    """Every non-blank line (but ``…`` lines) starts with a number and a tab or bar, the
    numbers strictly increasing: the gutter of our context, not the file's own text."""
    numbers = []
    for line in lines:
        if not line.strip() or is_elision(line):
            continue
        match = pattern.match(line)
        if match is None:
            return False
        numbers.append(int(match.group("n") or match.group("m")))
    return bool(numbers) and all(b > a for a, b in itertools.pairwise(numbers))


def without_gutter(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        match = GUTTER_RE.match(line) or BARE_BAR_RE.match(line)
        out.append(line[match.end() :] if match else line)
    return out


def strip_gutter(search: str, replace: str) -> tuple[str, str] | None:
    """SEARCH and REPLACE without the gutter, or None when SEARCH has none."""
    lines = _lines(search)
    if not has_gutter(lines):
        return None
    return "\n".join(without_gutter(lines)), "\n".join(without_gutter(_lines(replace)))


def has_elision(text: str) -> bool:
    return any(is_elision(line) for line in _lines(text))


def _parts(text: str) -> list[str]:
    parts: list[list[str]] = [[]]
    for line in _lines(text):
        if is_elision(line):
            parts.append([])
        else:
            parts[-1].append(line)
    return ["\n".join(part) for part in parts]


ELISION_MISMATCH = (
    "the SEARCH part holds `…` lines (they stand for lines left out of the code shown, "
    "they are not in the file) and the REPLACE part does not hold them at the same places; "
    "copy only lines that were shown, without `…`, and write SEARCH and REPLACE in full"
)


def split_elided(search: str, replace: str) -> list[tuple[str, str]] | str:
    """(SEARCH, REPLACE) pieces between ``…`` lines, or why they cannot be paired."""
    searches, replaces = _parts(search), _parts(replace)
    if len(searches) == 1:
        return [(search, replace)]
    if len(searches) != len(replaces):
        return ELISION_MISMATCH
    pieces = []
    for s, r in zip(searches, replaces, strict=True):
        if not s.strip():
            if r.strip():
                return ELISION_MISMATCH  # new lines next to `…`: no telling where they go
            continue
        pieces.append((s, r))
    return pieces or ELISION_MISMATCH


def strip_code_gutter(lines: list[str]) -> list[str]:
    """A code block's lines without our gutter, when every line carries it (the bar form
    only: see ``BAR_GUTTER_RE``)."""
    return without_gutter(lines) if has_gutter(lines, BAR_GUTTER_RE) else lines
