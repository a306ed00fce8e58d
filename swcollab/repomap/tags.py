"""Tags of one file: its definitions and the names it uses, from our own tree-sitter queries.

The queries live in ``queries/<language>-tags.scm``. Capture names follow one convention:
``@name.definition.<kind>`` is a defined name and ``@definition.<kind>`` the whole
definition; ``@name.reference.<kind>`` is a used name. Captures starting with ``_`` are
helpers for predicates and are ignored.
"""

from __future__ import annotations

import hashlib
import marshal
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from .. import treesitter
from .lexical import content_terms

# Bumped when the extraction code (not the queries) changes what is stored.
EXTRACTOR_VERSION = "4"

# When two patterns capture the same definition, the more specific kind wins
# (a function inside a class body is a method).
KIND_PRIORITY = (
    "method",
    "class",
    "interface",
    "enum",
    "type",
    "module",
    "function",
    "constant",
    "variable",
)
_PRIORITY = {kind: rank for rank, kind in enumerate(KIND_PRIORITY)}

SIGNATURE_MAX_CHARS = 200
SIGNATURE_MAX_LINES = 12
BINARY_SNIFF_BYTES = 8000
TAB_WIDTH = 4

STATUS_OK = "ok"
STATUS_BINARY = "binary"


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    kind: str
    line: int  # 1-based
    end_line: int  # 1-based, inclusive
    indent: int  # columns before the signature, so the outline keeps its nesting
    signature: str


@dataclass
class FileTags:
    status: str = STATUS_OK
    definitions: list[Definition] = field(default_factory=list)
    references: dict[str, int] = field(default_factory=dict)
    terms: dict[str, int] = field(default_factory=dict)  # lexical terms for BM25
    syntax_errors: bool = False  # tree-sitter recovered from errors in the file


@cache
def query_source(language: str) -> str:
    return (resources.files(__package__) / "queries" / f"{language}-tags.scm").read_text("utf-8")


@cache
def query_version(language: str) -> str:
    """Part of the cache key: editing a query or the extractor invalidates old rows."""
    digest = hashlib.sha1(query_source(language).encode()).hexdigest()[:12]
    return f"{EXTRACTOR_VERSION}.{marshal.version}-{digest}"


@cache
def _queries(language: str) -> tuple[Any, Any]:
    """The language's query split in two: definition patterns and reference patterns.

    Definitions need matches (to pair a name with its whole definition); references only
    need captures, which are much cheaper on the many identifiers of a file.
    """
    from tree_sitter import Query

    source = query_source(language)
    raw = source.encode()
    definitions = Query(treesitter.get_language(language), source)
    references = Query(treesitter.get_language(language), source)
    for index in range(definitions.pattern_count):
        text = raw[
            definitions.start_byte_for_pattern(index) : definitions.end_byte_for_pattern(index)
        ]
        if b"@name.definition." in text:
            references.disable_pattern(index)
        else:
            definitions.disable_pattern(index)
    return definitions, references


def is_binary(source: bytes) -> bool:
    return b"\0" in source[:BINARY_SNIFF_BYTES]


def extract_tags(language: str, source: bytes) -> FileTags:
    """Definitions and references of ``source``; never raises on bad syntax or encoding."""
    if is_binary(source):
        return FileTags(status=STATUS_BINARY)
    tree = treesitter.parse(language, source)
    definition_query, reference_query = _queries(language)
    matches = _cursor(definition_query).matches(tree.root_node)
    definitions, name_starts = _definitions(matches, source)
    captures = _cursor(reference_query).captures(tree.root_node)
    references = _references(captures, name_starts, source)
    text = source.decode("utf-8", errors="replace")
    terms = content_terms(text, [d.name for d in definitions])
    return FileTags(
        definitions=definitions,
        references=references,
        terms=terms,
        syntax_errors=bool(tree.root_node.has_error),
    )


# Deeper than this no match starts. Real code nests a few dozen levels; a generated or
# minified file can nest 100,000 (``f(a)+f(a)+...``), and tree-sitter's query cursor
# took minutes there, or crashed, where this bound keeps it to milliseconds.
MAX_MATCH_DEPTH = 1000


def _cursor(query: Any) -> Any:
    from tree_sitter import QueryCursor

    cursor = QueryCursor(query)
    cursor.set_max_start_depth(MAX_MATCH_DEPTH)
    return cursor


def _definitions(
    matches: list[tuple[int, dict[str, list[Any]]]], source: bytes
) -> tuple[list[Definition], set[int]]:
    best: dict[tuple[int, int], tuple[int, Any, Any, str]] = {}
    for _pattern, captures in matches:
        for capture, nodes in captures.items():
            if not capture.startswith("name.definition."):
                continue
            kind = capture[len("name.definition.") :]
            outer = captures.get(f"definition.{kind}")
            for name_node in nodes:
                node = outer[0] if outer else name_node
                key = (node.start_byte, name_node.start_byte)
                rank = _PRIORITY.get(kind, len(_PRIORITY))
                if key not in best or rank < best[key][0]:
                    best[key] = (rank, node, name_node, kind)
    definitions = []
    name_starts = set()
    for _rank, node, name_node, kind in best.values():
        name = _text(name_node)
        if not name:
            continue
        name_starts.add(name_node.start_byte)
        definitions.append(
            Definition(
                name=name,
                kind=kind,
                line=node.start_point[0] + 1,
                end_line=node.end_point[0] + 1,
                indent=_indent(source, node.start_byte),
                signature=_signature(node, source),
            )
        )
    definitions.sort(key=lambda d: (d.line, d.indent, d.name))
    return definitions, name_starts


def _references(
    captures: dict[str, list[Any]], name_starts: set[int], source: bytes
) -> dict[str, int]:
    spans: dict[int, int] = {}  # start -> end: a node captured twice counts once
    for capture, nodes in captures.items():
        if capture.startswith("name.reference."):
            for node in nodes:
                spans[node.start_byte] = node.end_byte
    for start in name_starts:  # a defined name is not also a use of itself
        spans.pop(start, None)
    counts = Counter(source[start:end] for start, end in spans.items())
    return {raw.decode("utf-8", errors="replace"): count for raw, count in counts.items() if raw}


def _text(node: Any) -> str:
    raw = node.text
    return raw.decode("utf-8", errors="replace") if raw else ""


def _indent(source: bytes, start: int) -> int:
    """Columns of whitespace before ``start`` on its line (tabs count as TAB_WIDTH)."""
    line_start = source.rfind(b"\n", 0, start) + 1
    prefix = source[line_start:start]
    if prefix.strip():
        return 0  # something precedes the definition on its line (export, a decorator)
    return len(prefix.replace(b"\t", b" " * TAB_WIDTH))


_SPACES = re.compile(r"\s+")
_OPEN_SPACE = re.compile(r"([(\[{]) ")
_SPACE_CLOSE = re.compile(r",? ([)\]}])")


def _signature(node: Any, source: bytes) -> str:
    """The head of a definition: up to its body, on one line, shortened when long."""
    end = _head_end(node)
    if end is None:
        end = source.find(b"\n", node.start_byte)
        end = node.end_byte if end < 0 else min(end, node.end_byte)
    head = source[node.start_byte : end].decode("utf-8", errors="replace")
    lines = [line.strip() for line in head.splitlines()[:SIGNATURE_MAX_LINES]]
    text = _SPACES.sub(" ", " ".join(line for line in lines if line)).strip()
    # Parameters one per line read best joined as one would write them on one line.
    text = _OPEN_SPACE.sub(r"\1", _SPACE_CLOSE.sub(r"\1", text)).rstrip("{").rstrip()
    if len(text) > SIGNATURE_MAX_CHARS:
        text = text[: SIGNATURE_MAX_CHARS - 3].rstrip() + "..."
    return text


def _head_end(node: Any) -> int | None:
    """Where the head ends: before the body, leaving out comments between them."""
    body = node.child_by_field_name("body")
    if body is None or body.start_byte <= node.start_byte:
        return None
    end = None
    for child in node.children:
        if child.start_byte >= body.start_byte:
            break
        if "comment" not in child.type:
            end = child.end_byte
    return end
