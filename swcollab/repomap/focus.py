"""What a task text points at: file paths, identifiers and stack-trace frames.

Standard library only (regular expressions): the task intake calls this for every task.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..treesitter import EXTENSION_LANGUAGES
from .records import Focus

_EXTENSIONS = sorted(
    {ext.lstrip(".") for ext in EXTENSION_LANGUAGES}
    | {"md", "rst", "txt", "toml", "cfg", "ini", "yaml", "yml", "json", "html", "css", "sh"},
    key=len,
    reverse=True,
)
# Every pattern here runs over untrusted text of up to a megabyte, often one long "word"
# (a base64 blob in a pasted log): each may start only where its kind of run starts, and
# none may nest quantifiers that can split one run in many ways (benchmarks/bad_input.py).
_PATH = re.compile(
    r"(?<![\w/\\.@~+-])(?:file://)?((?:[A-Za-z]:)?[\w.@~+-]*(?:[/\\][\w.@+-]+)*\.(?:"
    + "|".join(_EXTENSIONS)
    + r"))(?![\w])"
)
_PY_FRAME = re.compile(r'File "(?P<path>[^"]+)", line \d+(?:, in (?P<func>[\w<>.]+))?')
_JAVA_FRAME = re.compile(
    r"at (?P<qual>[\w$.]+)\.(?P<func>[\w$<>]+)\((?P<file>[\w$]+\.(?:java|kt|scala)):\d+\)"
)
_JS_FRAME = re.compile(r"at (?:new )?(?P<func>[\w$.<>]+) \((?:file://)?(?P<path>[^\s()]+?):\d+")
_GO_FUNC = re.compile(
    r"^[ \t]*(?:[\w./-]+/)?[\w-]+\.(?:\(\*?(?P<recv>\w+)\)\.)?(?P<func>\w+)\(", re.MULTILINE
)
_RUST_FRAME = re.compile(r"^[ \t]*\d+: (?P<path>[\w:<>]+::[\w<>]+)", re.MULTILINE)

_BACKTICKED = re.compile(r"`([^`\n]{1,200})`")
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\(")
_DOTTED = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+\b")
_CAMEL = re.compile(r"\b(?:[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*|[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*)\b")
_SNAKE = re.compile(r"\b_*[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+_*\b")
_DUNDER = re.compile(r"\b__[a-z][a-z0-9_]*__\b")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

MIN_IDENTIFIER_LEN = 3
# Words that look like identifiers in prose or tracebacks but name nothing in the code.
_NOT_IDENTIFIERS = frozenset(
    {
        "module",
        "lambda",
        "listcomp",
        "genexpr",
        "dictcomp",
        "setcomp",
        "self",
        "cls",
        "None",
        "True",
        "False",
        "null",
        "undefined",
        "Traceback",
        "Error",
        "Exception",
        "main",
        "http",
        "https",
        "www",
        "com",
        "org",
        "github",
        "e.g",
        "i.e",
        "etc",
    }
)


def focus_from_text(text: str, *, extra_files: Sequence[str] = ()) -> Focus:
    """The files and identifiers ``text`` names, including those in stack-trace frames."""
    files: list[str] = []
    identifiers: list[str] = []
    _frames(text, files, identifiers)
    for match in _PATH.finditer(text):
        files.append(match.group(1))
    _identifiers(text, identifiers)
    files.extend(extra_files)
    return Focus(
        text=text,
        files=tuple(_unique(normalize_path(f) for f in files if f)),
        identifiers=tuple(_unique(i for i in identifiers if _is_identifier(i))),
    )


def normalize_path(path: str) -> str:
    path = path.strip().replace("\\", "/")
    if path.startswith("file://"):
        path = path[len("file://") :]
    while path.startswith("./"):
        path = path[2:]
    return path


def _frames(text: str, files: list[str], identifiers: list[str]) -> None:
    for m in _PY_FRAME.finditer(text):
        files.append(m.group("path"))
        if m.group("func"):
            identifiers.extend(m.group("func").split("."))
    for m in _JAVA_FRAME.finditer(text):
        package = m.group("qual").split(".")[:-1]
        files.append("/".join([*package, m.group("file")]))
        identifiers.append(m.group("qual").split(".")[-1].split("$")[0])
        identifiers.append(m.group("func"))
    for m in _JS_FRAME.finditer(text):
        files.append(m.group("path"))
        identifiers.extend(m.group("func").split("."))
    for m in _GO_FUNC.finditer(text):
        if m.group("recv"):
            identifiers.append(m.group("recv"))
        identifiers.append(m.group("func"))
    for m in _RUST_FRAME.finditer(text):
        identifiers.extend(part for part in m.group("path").split("::")[-2:])


def _identifiers(text: str, out: list[str]) -> None:
    for m in _BACKTICKED.finditer(text):
        out.extend(_WORD.findall(m.group(1)))
    out.extend(_CALL.findall(text))
    for m in _DOTTED.finditer(text):
        if _PATH.fullmatch(m.group(0)):
            continue
        out.extend(m.group(0).split("."))
    for pattern in (_CAMEL, _SNAKE, _DUNDER):
        out.extend(pattern.findall(text))


def _is_identifier(word: str) -> bool:
    return (
        len(word.strip("_")) >= MIN_IDENTIFIER_LEN
        and word not in _NOT_IDENTIFIERS
        and not word.isdigit()
        and _WORD.fullmatch(word) is not None
    )


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
