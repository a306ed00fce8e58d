"""Line ends as a file had them: edits work on ``\\n`` text, files keep their own ends.

A file may end its lines with CRLF, LF or CR, or mix them (a CRLF line pasted into an LF
file). The edit stage reads every file with its line ends made ``\\n`` and writes each
changed file back with the ends it had: an unchanged line keeps its own end, a new or
rewritten line takes the end of the line it replaces (else of the line before it), so
the diff holds only the lines the edit changed, and it applies to the file's bytes.
"""

from __future__ import annotations

import re
from collections import Counter
from difflib import SequenceMatcher

_LINE_END = re.compile(r"\r\n|\r|\n")


def line_ends(raw: str) -> list[str]:
    """The end of each line of ``raw`` that has one, in order."""
    return _LINE_END.findall(raw)


def normalize(raw: str) -> str:
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def restore_line_ends(raw: str | None, new: str) -> str:
    """``new`` (``\\n`` line ends) with the line ends ``raw`` (the file as read) had, and
    its final newline (or the lack of one) too."""
    if raw is None:
        return new
    if raw and new:
        had_final = raw.endswith(("\n", "\r"))
        if had_final and not new.endswith("\n"):
            new += "\n"
        elif not had_final and new.endswith("\n"):
            new = new[:-1]
    ends = line_ends(raw)
    kinds = Counter(ends)
    if len(kinds) <= 1:
        only = next(iter(kinds), "\n")
        return new if only == "\n" else new.replace("\n", only)
    old_lines = normalize(raw).split("\n")
    new_lines = new.split("\n")
    chosen = _mixed_ends(old_lines, new_lines, ends, kinds.most_common(1)[0][0])
    return "".join(line + end for line, end in zip(new_lines, [*chosen, ""], strict=True))


def _mixed_ends(old: list[str], new: list[str], ends: list[str], usual: str) -> list[str]:
    """The end of each line of ``new`` but the last, taken from the lines of ``old``."""

    def end_of(index: int) -> str:
        return ends[index] if 0 <= index < len(ends) else usual

    out: list[str] = []
    # the lines before and after the changed part match one to one: no diff needed there
    head = _common_prefix(old, new)
    tail = _common_prefix(old[head:][::-1], new[head:][::-1])
    out += [end_of(i) for i in range(head)]
    old_mid, new_mid = old[head : len(old) - tail], new[head : len(new) - tail]
    matcher = SequenceMatcher(None, old_mid, new_mid, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(j2 - j1):
            if tag == "equal" or (tag == "replace" and k < i2 - i1):
                out.append(end_of(head + i1 + k))
            elif i2 > i1:  # more new lines than the ones they replace
                out.append(end_of(head + i2 - 1))
            else:  # inserted: as the line before
                out.append(end_of(head + i1 - 1))
    out += [end_of(len(old) - tail + i) for i in range(tail)]
    return out[: len(new) - 1]


def _common_prefix(a: list[str], b: list[str]) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count
