"""Which code the model is shown: spans of the files most likely to change, by relevance.

Narrowing goes file -> definition -> lines (the way Agentless localizes): the candidate
files are those the task names, those of its stack frames, and the best ranked by the
repo map and the earlier similar commits (``history``); each is cut into blocks (a
function or method, a class's head, a stretch of module-level code; a long function into
pieces of ``PIECE_LINES``), and every block is scored for the task: BM25 of the task's
words over the blocks' words, more for a block whose name the task mentions, for a
definition the map ranks high, for a block holding a stack-frame line, and by its file's
rank, plus BM25 of the words of the lines the earlier commits most like the task changed.
``spanview`` then packs the best blocks into the token budget and renders them with line
numbers.

Measured on 45 real fixes (issue 13): the head of the best file, cut at a fixed size,
showed the lines to change in 14 only, although the file to change ranked first in most.
``benchmarks/context.py`` measures this selection on 432 real fixes (docs/guide/context.md).
Tried there and dropped: one block from each of more files before a second block of the top file
(breadth lost 2-21 of 272 fixes as it grew stronger: fixes cluster in the top files).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..repofiles import read_regular_text
from ..repomap import lexical
from ..repomap.focus import normalize_path
from ..treesitter import language_for_path

# Candidate files whose blocks compete for the budget.
MAX_FILES = 12
# A definition longer than this is cut into pieces scored one by one.
MAX_BLOCK_LINES = 60
PIECE_LINES = 30
# Module-level code outside any definition is cut into stretches of at most this.
GAP_LINES = 30
# A file with fewer meaningful lines (not blank, not a comment) takes no slot.
TRIVIAL_LINES = 2
IMPORT_SCAN_LINES = 150
BINARY_SNIFF_CHARS = 8000
MAX_IMPORT_LINES = 40

# Score parts (chosen on the dev histories of benchmarks/context.py).
FILE_PRIOR_FLOOR = 0.35  # a block's relevance is scaled by floor + its file's rank share
MENTIONED_NAME_BONUS = 2.0  # x(1 + bonus) for a block whose definition the task names
MAP_DEFINITION_WEIGHT = 0.5  # share of the best block score, scaled by the map's own rank
FRAME_BONUS = 10.0  # x the best score: a stack-frame line's block comes first
NAMED_FILE_BONUS = 0.5  # added to the file prior of a file the task names
UNMATCHED_SHARE = 0.01  # of a matching score, given to every block
NEIGHBOUR_SHARE = 0.5  # of the score of the block before or after
TWIN_SHARE = 0.8  # of the best score of a block of the same name
# Share of the best block score, for a block matching the words of the lines the earlier
# commits most like the task changed (``history``).
PAST_TERMS_WEIGHT = 0.5
BLOCK_K1 = 1.2  # BM25 over blocks
BLOCK_B = 0.75

# Module-level names (``X = 1``) are left to the module-level stretches around them: one
# block a line would let a short line with one word of the task outrank whole functions.
LOOSE_KINDS = frozenset({"variable", "constant"})
CONTAINER_KINDS = frozenset({"class", "interface", "module", "enum", "type", "impl", "trait"})
_COMMENT = re.compile(r"^\s*(#|//|/\*|\*|--|;)")
_DECORATOR = re.compile(r"^\s*@")
_IMPORT = re.compile(
    r"^\s*(import\s|from\s+\S+\s+import\b|use\s|#\s*include\b|require\b|package\s|using\s|"
    r"(const|let|var)\s+.*=\s*require\()"
)
_PY_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
# Starts only where a run of path characters starts: tried from every character of a long
# run, it would scan the rest of the run each time (a 100,000-character word took 40 s).
_COLON_FRAME = re.compile(
    r"(?<![\w./\\@+-])(?P<path>[\w./\\@+-]+\.[A-Za-z]{1,5}):(?P<line>\d+)(?::\d+)?\b"
)


@dataclass
class Block:
    """A span of one file that competes for the budget as a whole."""

    path: str
    start: int  # 1-based, inclusive
    end: int
    name: str = ""  # the definition's name ("" for module-level code)
    headers: tuple[int, ...] = ()  # lines of enclosing definitions' first lines
    scope: tuple[str, ...] = ()  # names of the enclosing classes
    score: float = 0.0


@dataclass
class SourceView:
    """One candidate file: its lines, imports and the blocks it was cut into."""

    path: str
    language: str
    lines: list[str]
    imports: tuple[int, ...]
    blocks: list[Block] = field(default_factory=list)
    prior: float = 0.0  # the file's rank share (0..1) plus bonuses


def trace_lines(text: str) -> list[tuple[str, int]]:
    """(path, line) of every stack-trace frame and ``path:line`` reference in ``text``."""
    found = [(m.group("path"), int(m.group("line"))) for m in _PY_FRAME.finditer(text)]
    found += [(m.group("path"), int(m.group("line"))) for m in _COLON_FRAME.finditer(text)]
    return [(normalize_path(path), line) for path, line in found]


def resolve(paths: Iterable[str], known: Sequence[str], root: Path) -> dict[str, str]:
    """Each path as written -> the known repository path it names: exact, else the one
    sharing the longest tail of parts (``/usr/lib/python3/site-packages/jinja2/runtime.py``
    and ``src/jinja2/runtime.py``; ``runtime.py`` alone); a tie names nothing."""
    index = set(known)
    tails: dict[tuple[str, ...], list[str]] = {}
    for path in known:
        parts = tuple(path.split("/"))
        for size in range(1, len(parts) + 1):
            tails.setdefault(parts[-size:], []).append(path)
    prefix = root.as_posix().rstrip("/") + "/"
    out: dict[str, str] = {}
    for raw in paths:
        path = normalize_path(raw)
        if path.startswith(prefix):
            path = path[len(prefix) :]
        if path in index:
            out[raw] = path
            continue
        parts = tuple(p for p in path.split("/") if p not in ("", "."))
        if ".." in parts:
            continue
        for size in range(len(parts), 0, -1):
            found = tails.get(parts[-size:], [])
            if found:
                if len(found) == 1:
                    out[raw] = found[0]
                break
    return out


def is_trivial(lines: Sequence[str]) -> bool:
    meaningful = [ln for ln in lines if ln.strip() and not _COMMENT.match(ln)]
    return len(meaningful) < TRIVIAL_LINES


def read_source(root: Path, rel: str) -> list[str] | None:
    text = read_regular_text(root, rel)  # never through a symlink (repofiles)
    if text is None:
        return None
    if "\0" in text[:BINARY_SNIFF_CHARS]:
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def view_of(root: Path, rel: str) -> SourceView | None:
    """The file cut into blocks; None when it cannot be read, is not code or is trivial."""
    language = language_for_path(rel)
    if not language:
        return None
    lines = read_source(root, rel)
    if lines is None or is_trivial(lines):
        return None
    definitions = [d for d in _definitions(language, "\n".join(lines)) if d.kind not in LOOSE_KINDS]
    view = SourceView(rel, language, lines, _imports(lines, definitions))
    view.blocks = _blocks(rel, lines, definitions)
    return view


@dataclass(frozen=True)
class _Def:
    name: str
    kind: str
    start: int
    end: int


def _definitions(language: str, text: str) -> list[_Def]:
    from ..repomap.tags import extract_tags

    tags = extract_tags(language, text.encode("utf-8"))
    return [
        _Def(d.name, d.kind, d.line, d.end_line) for d in tags.definitions if d.end_line >= d.line
    ]


def _imports(lines: Sequence[str], definitions: Sequence[_Def]) -> tuple[int, ...]:
    """Line numbers of the file's import statements before its first definition."""
    first_def = min((d.start for d in definitions), default=len(lines) + 1)
    limit = min(first_def - 1, IMPORT_SCAN_LINES, len(lines))
    found: list[int] = []
    depth = 0
    for number in range(1, limit + 1):
        line = lines[number - 1]
        if depth > 0 or _IMPORT.match(line):
            found.append(number)
            depth = max(
                0, depth + line.count("(") + line.count("{") - line.count(")") - line.count("}")
            )
        if len(found) >= MAX_IMPORT_LINES:
            break
    return tuple(found)


@dataclass
class _Node:
    definition: _Def
    children: list[_Node] = field(default_factory=list)


def _tree(definitions: Sequence[_Def]) -> list[_Node]:
    """Definitions nested as in the file (each under the innermost one enclosing it)."""
    roots: list[_Node] = []
    stack: list[_Node] = []
    for d in sorted(definitions, key=lambda d: (d.start, -d.end)):
        node = _Node(d)
        while stack and not (
            stack[-1].definition.start <= d.start and d.end <= stack[-1].definition.end
        ):
            stack.pop()
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
    return roots


def _blocks(path: str, lines: Sequence[str], definitions: Sequence[_Def]) -> list[Block]:
    """Leaf definitions, and the rest of each class and of the module in stretches."""
    blocks: list[Block] = []
    _walk(path, lines, _tree(definitions), 1, len(lines), (), (), blocks)
    return blocks


def _walk(
    path: str,
    lines: Sequence[str],
    nodes: list[_Node],
    first: int,
    last: int,
    headers: tuple[int, ...],
    scope: tuple[str, ...],
    out: list[Block],
) -> None:
    """Blocks of the region ``first..last`` holding ``nodes``; what no definition covers
    (a class's head and attributes, module-level code) becomes stretches of its own."""
    taken = [False] * (last - first + 1)
    for node in nodes:
        d = node.definition
        start = max(first, _decorated(lines, d.start))
        if node.children and d.kind in CONTAINER_KINDS:
            inner = (*headers, d.start)
            _walk(path, lines, node.children, start, d.end, inner, (*scope, d.name), out)
        else:
            out.extend(_pieces(path, start, d.end, d.name, headers, scope))
        for number in range(start, min(d.end, last) + 1):
            taken[number - first] = True
    owner = scope[-1] if scope else ""
    run: list[int] = []
    for number in range(first, last + 2):
        free = number <= last and not taken[number - first]
        if free and len(run) < GAP_LINES:
            run.append(number)
            continue
        kept = [n for n in run if lines[n - 1].strip()]
        if kept:
            # The stretch holding a class's own first line carries the class's name.
            name = owner if headers and kept[0] <= headers[-1] <= kept[-1] else ""
            out.append(
                Block(
                    path, kept[0], kept[-1], name, tuple(h for h in headers if h < kept[0]), scope
                )
            )
        run = [number] if free else []


def _decorated(lines: Sequence[str], start: int) -> int:
    """A definition's first line, moved up over its decorators or annotations."""
    while start > 1 and _DECORATOR.match(lines[start - 2]):
        start -= 1
    return start


def _pieces(
    path: str, start: int, end: int, name: str, headers: tuple[int, ...], scope: tuple[str, ...]
) -> list[Block]:
    if end - start + 1 <= MAX_BLOCK_LINES:
        return [Block(path, start, end, name, headers, scope)]
    pieces = []
    for first in range(start, end + 1, PIECE_LINES):
        inner = headers if first == start else (*headers, start)
        pieces.append(Block(path, first, min(end, first + PIECE_LINES - 1), name, inner, scope))
    return pieces


def conflate(term: str) -> str:
    """One form for a word's variants: "loading", "loaded" and "load" meet; "cached" and
    "cache" too (the map's stemming only folds plurals)."""
    for suffix in ("ing", "ed"):
        if term.endswith(suffix) and len(term) - len(suffix) >= 4:
            term = term[: -len(suffix)]
            break
    return term[:-1] if term.endswith("e") and len(term) > 4 else term


def _conflated(counts: Mapping[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for term, count in counts.items():
        key = conflate(term)
        out[key] = out.get(key, 0) + count
    return out


def task_terms(text: str) -> set[str]:
    """The task's search terms (adjacent words joined too, see ``compound_terms``)."""
    return {conflate(t) for t in lexical.query_terms(text) | lexical.compound_terms(text)}


def score_blocks(
    views: Sequence[SourceView],
    task_text: str,
    identifiers: Iterable[str],
    frames: Mapping[str, set[int]],
    map_definitions: Mapping[str, Mapping[str, float]],
    past_terms: Iterable[str] = (),
) -> None:
    """Set every block's score for the task (see the module docstring)."""
    blocks = [b for v in views for b in v.blocks]
    if not blocks:
        return
    by_path = {v.path: v for v in views}
    terms = task_terms(task_text + " " + " ".join(identifiers))
    feedback = {conflate(t) for t in past_terms}
    postings: dict[str, dict[int, int]] = {}
    past_postings: dict[str, dict[int, int]] = {}
    lengths: list[int] = []
    for index, block in enumerate(blocks):
        lines = by_path[block.path].lines[block.start - 1 : block.end]
        names = [n for n in (block.name, *block.scope) if n]
        counts = _conflated(lexical.content_terms("\n".join(lines), names))
        lengths.append(sum(counts.values()) or 1)
        for term in terms.intersection(counts):
            postings.setdefault(term, {})[index] = counts[term]
        for term in feedback.intersection(counts):
            past_postings.setdefault(term, {})[index] = counts[term]
    relevance = lexical.bm25(postings, lengths, k1=BLOCK_K1, b=BLOCK_B)
    best = max(relevance.values(), default=0.0) or 1.0
    past = lexical.bm25(past_postings, lengths, k1=BLOCK_K1, b=BLOCK_B)
    past_best = max(past.values(), default=0.0) or 1.0
    named = set(identifiers)
    map_best = max((s for defs in map_definitions.values() for s in defs.values()), default=0.0)
    for index, block in enumerate(blocks):
        view = by_path[block.path]
        value = relevance.get(index, 0.0) / best
        if block.name and block.name in named:
            value *= 1.0 + MENTIONED_NAME_BONUS
            value = max(value, MENTIONED_NAME_BONUS / 4)
        value += PAST_TERMS_WEIGHT * past.get(index, 0.0) / past_best
        if map_best > 0 and block.name:
            value += (
                MAP_DEFINITION_WEIGHT
                * map_definitions.get(block.path, {}).get(block.name, 0.0)
                / map_best
            )
        # A floor in file order: when no word of the task matches (a bare "fix #4025"), the
        # best-ranked files are shown rather than nothing.
        value = (value + UNMATCHED_SHARE) * (FILE_PRIOR_FLOOR + view.prior)
        if any(block.start <= line <= block.end for line in frames.get(block.path, ())):
            value += FRAME_BONUS
        block.score = value
    _spread(views)


def _spread(views: Sequence[SourceView]) -> None:
    """Fixes cluster: a block next to a relevant one, or with the name of a relevant one
    (the same method in a sibling class, the async twin of a function), gets a share of
    its score."""
    best_by_name: dict[str, float] = {}
    for view in views:
        for block in view.blocks:
            if block.name and not block.name.startswith("__"):
                best_by_name[block.name] = max(best_by_name.get(block.name, 0.0), block.score)
    for view in views:
        ordered = sorted(view.blocks, key=lambda b: b.start)
        raw = [b.score for b in ordered]
        for k, block in enumerate(ordered):
            near = max(raw[max(0, k - 1) : k] + raw[k + 1 : k + 2], default=0.0)
            twin = best_by_name.get(block.name, 0.0) if block.name else 0.0
            block.score = max(raw[k], NEIGHBOUR_SHARE * near, TWIN_SHARE * twin)
