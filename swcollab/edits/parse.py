"""Turn a model's answer into edit blocks. Pure: text in, ``EditBlock`` list out.

Three shapes are recognised, in this order of preference:
1. SEARCH/REPLACE blocks (the format models are asked for), with the file path on a line
   before them, in backticks or bold, in the fence's info string or inside the fence;
2. unified diffs (``--- a/x`` / ``+++ b/x`` / ``@@``), each hunk becoming one block;
3. when neither is present, fenced code blocks (or, lacking any fence, the code part of
   the answer) become "definitions" blocks: the apply step replaces the functions and
   classes they define, or the whole file when the block holds all of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..treesitter import language_for_path
from .gutter import strip_code_gutter
from .types import EDIT_FORMATS, EditBlock

SEARCH_RE = re.compile(r"^\s*<{5,9}\s*(SEARCH|ORIGINAL|HEAD)\b.*$", re.IGNORECASE)
DIVIDER_RE = re.compile(r"^\s*={5,9}\s*$")
REPLACE_RE = re.compile(r"^\s*>{5,9}\s*(REPLACE|UPDATED|UPDATE)?\b.*$", re.IGNORECASE)
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})\s*(.*?)\s*$")
PATH_CHARS_RE = re.compile(r"[\w.\-/\\]+")
EXTENSION_RE = re.compile(r"\.[A-Za-z][A-Za-z0-9_+-]{0,9}$")
BACKTICKED_RE = re.compile(r"`([^`\s]+)`")
PATH_PREFIX_RE = re.compile(
    r"^(?:file(?:name)?|path|in|for|edit|update|change|modify)\s*[:=]?\s+", re.IGNORECASE
)
HUNK_RE = re.compile(r"^@@.*@@")
# Fence info words that never hold code to apply.
NOT_CODE_LANGS = frozenset({"bash", "sh", "shell", "console", "output", "text", "txt"})
# How many non-blank lines above a block are searched for its path.
PATH_LOOKBACK = 3


def parse_answer(
    answer: str, *, edit_format: str = "search-replace", files: Sequence[str] = ()
) -> list[EditBlock]:
    """The edit blocks in ``answer``; an empty list when it holds none.

    ``files`` (the files shown to the model) only helps recognise paths without an
    extension; resolving path-less blocks to a file is the apply step's job.
    """
    if edit_format not in EDIT_FORMATS:
        raise ValueError(f"unknown edit format {edit_format!r}; expected one of {EDIT_FORMATS}")
    lines = normalize_newlines(_drop_reasoning(answer)).split("\n")
    known = frozenset(files)
    blocks = _search_replace_blocks(lines, known)
    if not blocks:
        blocks = _diff_blocks(lines)
    if not blocks:
        blocks = _code_blocks(lines, known)
    return [_renumber(b, i) for i, b in enumerate(blocks, start=1)]


THINK_RE = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)


def _drop_reasoning(answer: str) -> str:
    """Reasoning models draft code in ``<think>`` sections: only the answer after counts."""
    answer = THINK_RE.sub("", answer)
    closing = re.search(r"</(think|thinking|reasoning)>", answer, re.IGNORECASE)
    return answer[closing.end() :] if closing else answer


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _renumber(block: EditBlock, index: int) -> EditBlock:
    return EditBlock(
        index, block.path, block.search, block.replace, block.kind, block.error, block.lang
    )


# --- paths -------------------------------------------------------------------------


def path_in_line(
    line: str, known: frozenset[str] = frozenset(), *, prose: bool = True
) -> str | None:
    """The file path a line names, alone or decorated, or None.

    Accepts ``src/x.py``, `` `src/x.py` ``, ``**src/x.py**``, ``### src/x.py``,
    ``File: src/x.py``, ``# src/x.py`` and prose holding one backticked path.
    """
    text = line.strip()
    if not text or FENCE_RE.match(text):
        return None
    bare = _strip_decorations(text)
    if _looks_like_path(bare, known) or _looks_like_dir_path(bare):
        return _clean_path(bare)
    if not prose:
        return None
    for token in BACKTICKED_RE.findall(text):
        token = token.strip("*_'\":,")
        if _looks_like_path(token, known):
            return _clean_path(token)
    # Prose naming a file without backticks ("Change in calc.py:"): only a shown file, or
    # a path with a directory, so that "Node.js" in a sentence is not taken for a file.
    for token in text.split():
        token = token.strip("*_'\":,;()")
        shown = token in known or any(k.endswith("/" + token) for k in known)
        if (shown or "/" in token) and _looks_like_path(token, known):
            return _clean_path(token)
    return None


def _strip_decorations(text: str) -> str:
    # Never strip a leading "/": "/etc/x" must stay absolute so that it is refused.
    text = re.sub(r"^(//+|--)\s+", "", text).lstrip("#>*-+ \t")
    text = re.sub(r"^\d+[.)]\s+", "", text)
    text = PATH_PREFIX_RE.sub("", text)
    text = text.strip().strip("*_`'\"").strip()
    return text.rstrip(":").strip().strip("*_`'\"")


def _looks_like_path(text: str, known: frozenset[str]) -> bool:
    if not text or len(text) > 240 or not PATH_CHARS_RE.fullmatch(text):
        return False
    if text in known or _clean_path(text) in known:
        return True
    name = text.replace("\\", "/").rsplit("/", 1)[-1]
    if not re.search(r"[A-Za-z]", name) or text.startswith(".."):
        return "/" in text and bool(EXTENSION_RE.search(name))
    return bool(EXTENSION_RE.search(name)) and not name.endswith(".")


def _looks_like_dir_path(text: str) -> bool:
    """A line holding only ``dir/name`` without an extension (``.git/hooks/pre-commit``)."""
    parts = text.replace("\\", "/").split("/")
    return (
        len(parts) > 1
        and bool(parts[-1])
        and len(text) <= 240
        and all(re.fullmatch(r"[\w.\-]*", p) for p in parts)
        and bool(re.search(r"[A-Za-z]", parts[-1]))
    )


def _clean_path(text: str) -> str:
    text = text.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


def _path_before(lines: list[str], start: int, floor: int, known: frozenset[str]) -> str | None:
    """The path named just above line ``start`` (not above ``floor``), skipping fences."""
    seen = 0
    for j in range(start - 1, floor - 1, -1):
        line = lines[j]
        fence = FENCE_RE.match(line)
        if fence:
            path = _path_in_info(fence.group(2), known)
            if path:
                return path
            continue
        if not line.strip():
            continue
        # A sentence naming a file counts only right above the block; further up, only a
        # line that is just a path does.
        path = path_in_line(line, known, prose=seen == 0)
        if path:
            return path
        seen += 1
        if seen >= PATH_LOOKBACK:
            return None
    return None


def _path_in_info(info: str, known: frozenset[str]) -> str | None:
    for token in info.split():
        if _looks_like_path(token.strip("{}:"), known):
            return _clean_path(token.strip("{}:"))
    return None


# --- SEARCH/REPLACE ----------------------------------------------------------------


def _search_replace_blocks(lines: list[str], known: frozenset[str]) -> list[EditBlock]:
    blocks: list[EditBlock] = []
    path: str | None = None
    floor = 0
    i = 0
    while i < len(lines):
        if not SEARCH_RE.match(lines[i]):
            i += 1
            continue
        named = _path_before(lines, i, floor, known)
        path = named or path
        block, i = _read_search_replace(lines, i + 1, path)
        blocks.append(block)
        floor = i
    return blocks


def _read_search_replace(lines: list[str], i: int, path: str | None) -> tuple[EditBlock, int]:
    """Read from just after a SEARCH marker; returns the block and the next line index."""
    search: list[str] = []
    while i < len(lines) and not DIVIDER_RE.match(lines[i]):
        if SEARCH_RE.match(lines[i]) or REPLACE_RE.match(lines[i]):
            break
        search.append(lines[i])
        i += 1
    if i >= len(lines) or not DIVIDER_RE.match(lines[i]):
        error = "the block has a SEARCH part but no ======= line dividing it from the replacement"
        return EditBlock(0, path, _join(search), "", "search-replace", error=error), i
    i += 1
    replace: list[str] = []
    while i < len(lines) and not REPLACE_RE.match(lines[i]):
        if SEARCH_RE.match(lines[i]):
            break
        if _bare_fence(lines[i]) and not _replace_marker_ahead(lines, i):
            # A closing fence ends the block when the REPLACE marker was forgotten (but a
            # fence inside the replacement, e.g. in a README, is content).
            break
        replace.append(lines[i])
        i += 1
    if i < len(lines) and REPLACE_RE.match(lines[i]):
        i += 1
    return EditBlock(0, path, _join(search), _join(replace), "search-replace"), i


def _bare_fence(line: str) -> bool:
    fence = FENCE_RE.match(line)
    return bool(fence) and not fence.group(2)  # type: ignore[union-attr]


def _replace_marker_ahead(lines: list[str], i: int) -> bool:
    for line in lines[i + 1 :]:
        if REPLACE_RE.match(line):
            return True
        if SEARCH_RE.match(line):
            return False
    return False


def _join(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


# --- unified diffs -----------------------------------------------------------------


def _diff_blocks(lines: list[str]) -> list[EditBlock]:
    blocks: list[EditBlock] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("+++ ") and i > 0 and lines[i - 1].startswith("--- "):
            old, new = _diff_path(lines[i - 1][4:]), _diff_path(lines[i][4:])
            hunks, i = _read_hunks(lines, i + 1)
            blocks.extend(_hunk_blocks(old, new, hunks))
        else:
            i += 1
    return blocks


def _diff_path(text: str) -> str | None:
    text = text.split("\t")[0].strip()
    if text == "/dev/null":
        return None
    if len(text) > 1 and text.startswith('"') and text.endswith('"'):
        text = _unquote(text[1:-1])
    if text.startswith(("a/", "b/")):
        text = text[2:]
    return _clean_path(text)


_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
_C_ESCAPE_RE = re.compile(r'\\([0-7]{1,3}|[abtnvfr"\\])')


def _unquote(text: str) -> str:
    """A path as git quotes it (``"b/shop\\ncart.py"``, ``\\303\\251`` for UTF-8 bytes),
    unquoted: the characters it stands for, a newline included, which the path check
    then refuses, instead of a directory named ``"b``."""

    def byte(match: re.Match[str]) -> str:
        code = match.group(1)
        value = int(code, 8) if code[0].isdigit() else _C_ESCAPES[code]
        return chr(0xDC00 + value) if value >= 0x80 else chr(value)

    escaped = _C_ESCAPE_RE.sub(byte, text)
    raw = escaped.encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "replace")


def _read_hunks(lines: list[str], i: int) -> tuple[list[list[str]], int]:
    hunks: list[list[str]] = []
    current: list[str] | None = None
    while i < len(lines):
        line = lines[i]
        if HUNK_RE.match(line):
            current = []
            hunks.append(current)
        elif _ends_hunks(lines, i):
            break
        elif line[:1] in (" ", "+", "-", "\\") or line == "":
            if current is None:  # hunk body without an @@ header: one hunk for the file
                current = []
                hunks.append(current)
            current.append(line)
        else:
            break
        i += 1
    return hunks, i


def _ends_hunks(lines: list[str], i: int) -> bool:
    """A next file header, a ``diff --git`` line or a fence ends the hunks of a file."""
    line = lines[i]
    next_file = line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")
    return next_file or line.startswith("diff --git") or bool(FENCE_RE.match(line))


def _hunk_blocks(old: str | None, new: str | None, hunks: list[list[str]]) -> list[EditBlock]:
    if new is None:
        error = f"the diff deletes {old}; deleting files is not supported"
        return [EditBlock(0, old, "", "", "diff", error=error)]
    blocks = []
    for body in hunks:
        while body and body[-1] == "":
            body.pop()
        search, replace = _split_hunk(body)
        if old is None:
            search = []
        blocks.append(EditBlock(0, new, _join(search), _join(replace), "diff"))
    return blocks


def _split_hunk(body: list[str]) -> tuple[list[str], list[str]]:
    search: list[str] = []
    replace: list[str] = []
    for line in body:
        tag, text = line[:1], line[1:]
        if tag == "\\":  # "\ No newline at end of file"
            continue
        if tag in (" ", ""):  # a blank context line often loses its leading space
            search.append(text)
            replace.append(text)
        elif tag == "-":
            search.append(text)
        elif tag == "+":
            replace.append(text)
    return search, replace


# --- fenced code (definitions / whole file) ----------------------------------------


def _code_blocks(lines: list[str], known: frozenset[str]) -> list[EditBlock]:
    blocks: list[EditBlock] = []
    fenced = _fenced_regions(lines)
    floor = 0  # never look for a path inside the previous fenced block
    for start, end, info in fenced:
        above, floor = floor, end + 1
        lang = info.split()[0].lower() if info.split() else ""
        if lang in NOT_CODE_LANGS or lang in ("diff", "patch"):
            continue
        body = lines[start + 1 : end]
        path = _path_in_info(info, known) or _path_before(lines, start, above, known)
        body, inner = _path_inside(body, known)
        path = inner or path
        while body and not body[-1].strip():
            body = body[:-1]
        if not "".join(body).strip():
            continue
        blocks.append(_code_block(path, body, lang))
    if not fenced:
        body = _unfenced_code(lines)
        if body:
            blocks.append(_code_block(None, body, ""))
    return blocks


def _code_block(path: str | None, body: list[str], lang: str) -> EditBlock:
    body = strip_code_gutter(body)
    kind = "definitions" if path is None or language_for_path(path) else "whole-file"
    return EditBlock(0, path, "", _join(body), kind, lang=lang)


def _fenced_regions(lines: list[str]) -> list[tuple[int, int, str]]:
    """(opening line, closing line, info string) of each fence; an unclosed one ends at EOF."""
    regions = []
    i = 0
    while i < len(lines):
        opening = FENCE_RE.match(lines[i])
        if not opening:
            i += 1
            continue
        marker = opening.group(1)
        j = i + 1
        while j < len(lines):
            closing = FENCE_RE.match(lines[j])
            if (
                closing
                and closing.group(1)[0] == marker[0]
                and len(closing.group(1)) >= len(marker)
                and not closing.group(2)
            ):
                break
            j += 1
        regions.append((i, j, opening.group(2)))
        i = j + 1
    return regions


def _path_inside(body: list[str], known: frozenset[str]) -> tuple[list[str], str | None]:
    """A first line inside the fence that is only a path (bare or as a comment) names the file."""
    first = next((k for k, line in enumerate(body) if line.strip()), None)
    if first is None:
        return body, None
    line = body[first].strip()
    comment = re.match(r"^(?:#|//|--|/\*)\s*(?:file(?:name)?\s*:\s*)?(\S+?)\s*(?:\*/)?$", line)
    candidate = comment.group(1) if comment else line
    if _looks_like_path(candidate, known) and ("/" in candidate or "." in candidate):
        return body[:first] + body[first + 1 :], _clean_path(candidate)
    return body, None


CODE_START_RE = re.compile(
    r"^\s*(async\s+def|def|class|@\w|function|func|fn|pub\s|impl|export|public|private|"
    r"protected|static|module|struct|const|let|var|import|from\s+\S+\s+import|#include|package)\b"
)


def _unfenced_code(lines: list[str]) -> list[str]:
    """Without any fence, the answer from its first line that starts like code."""
    for k, line in enumerate(lines):
        if CODE_START_RE.match(line):
            return lines[k:]
    return []
