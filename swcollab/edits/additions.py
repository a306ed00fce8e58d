"""What a definitions block brings besides replacements: new helper functions and imports.

Only what the replaced code needs is taken: a helper it calls, an import whose name it
uses. An import of the file's own module or of a name the file defines is never added
(models often write ``from calc import add`` above their copy of ``add``).
"""

from __future__ import annotations

import re

from .outline import Definition, Outline

Edit = tuple[int, int, list[str]]  # start line, end line (exclusive), new lines

_IMPORT_WORDS = frozenset(
    {
        "import",
        "from",
        "as",
        "use",
        "static",
        "require",
        "const",
        "let",
        "var",
        "include",
        "std",
        "crate",
        "self",
        "super",
        "h",
        "hpp",
        "type",
        "typeof",
        "pub",
    }
)


def statement_texts(source_lines: list[str], found: Outline, kind: str) -> set[str]:
    return {
        "\n".join(line.strip() for line in source_lines[s.start : s.end + 1])
        for s in found.statements
        if s.kind == kind
    }


def helper_edits(
    ignored: list[Definition], edits: list[Edit], current: Outline, code_lines: list[str]
) -> tuple[list[Edit], list[str], list[Definition]]:
    """New top-level functions the replaced code calls go before their first caller.
    Returns (edits, names added, definitions still ignored)."""
    new_text = "\n".join(line for _, _, lines in edits for line in lines)
    tops = sorted(current.definitions, key=lambda d: d.start)
    gap = ["", ""] if current.language == "python" else [""]
    added_edits: list[Edit] = []
    added: list[str] = []
    still_ignored = []
    for helper in ignored:
        used = re.search(rf"\b{re.escape(helper.name)}\s*\(", new_text)
        if helper.scope or helper.kind != "function" or not used:
            still_ignored.append(helper)
            continue
        first = min(s for s, _, lines in edits if helper.name in "\n".join(lines))
        host = next((d for d in reversed(tops) if d.start <= first), None)
        at = host.start if host else first
        added_edits.append((at, at, [*code_lines[helper.start : helper.end + 1], *gap]))
        added.append(helper.name)
    return added_edits, added, still_ignored


def import_edits(
    current: Outline,
    file_lines: list[str],
    block: Outline,
    code_lines: list[str],
    new_text: str,
    stem: str,
) -> tuple[list[Edit], list[str]]:
    """Imports of the block that the file lacks and the new code uses, placed after the
    file's last import (or, when it has none, after its header)."""
    have = statement_texts(file_lines, current, "import")
    own = {d.name for d in current.definitions} | ({stem} if stem else set())
    new: list[str] = []
    added: list[str] = []
    for statement in block.statements:
        lines = code_lines[statement.start : statement.end + 1]
        if statement.kind != "import" or "\n".join(ln.strip() for ln in lines) in have:
            continue
        words = set(re.findall(r"[A-Za-z_]\w*", " ".join(lines))) - _IMPORT_WORDS
        # A header's name says nothing of what it declares: C/C++ includes are added.
        used = current.language in ("c", "cpp") or any(
            re.search(rf"\b{w}\b", new_text) for w in words
        )
        if words & own or not used:
            continue
        new.extend(lines)
        added.append(lines[0].strip())
    if not new:
        return [], []
    imports = [s for s in current.statements if s.kind == "import"]
    if imports:
        at = imports[-1].end + 1
    else:  # below the header and the blank lines after it, then a definition's spacing
        at = after_preamble(current, file_lines)
        while at < len(file_lines) and not file_lines[at].strip():
            at += 1
        new = new + (["", ""] if current.language == "python" else [""])
    return [(at, at, new)], added


def after_preamble(current: Outline, file_lines: list[str]) -> int:
    """First line after the header: leading comments (a license) then a module docstring
    or a package line. A comment right above a definition documents it: not header."""
    at = 0
    starts = {d.start for d in current.definitions}
    for statement in sorted(current.statements, key=lambda s: s.start):
        if statement.start != at and any(ln.strip() for ln in file_lines[at : statement.start]):
            break
        text = file_lines[statement.start].lstrip()
        if statement.kind == "comment" and statement.end + 1 not in starts:
            at = statement.end + 1
        elif statement.kind == "package" or text.startswith(("'", '"')):
            return statement.end + 1
        else:
            break
    return at
