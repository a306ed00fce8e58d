"""Which existing test files guard a candidate: those that best match the task's code.

A candidate must not break a test that passed on the base, but running every test of a
large project for each candidate costs too much: a few files are chosen, the ones that
best match what the context ranks highest for the task. Each clue is a term with a
weight; a test file scores, for each clue, its weight times how well it matches: much
when the clue is in the file's name (``tests/test_escape.py`` for ``escape``), a little,
saturating, for each use in its text. Clues, strongest first:

- the names of the definitions in the code spans the context shows (the code most
  likely to change), weighted by their file's place;
- the module names of the top-ranked source files (for a package's ``__init__.py``, the
  package's name): the old rule, which on its own picked ``test_ext_init.py`` for a fix
  of ``escape`` in ``markupsafe/__init__.py`` (it imports ``_speedups``);
- the task's own words, which only break ties between files a code clue matched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..ecosystems import is_test_path
from ..gitrepo import tracked_files
from ..repofiles import read_regular_text
from ..repomap.lexical import WORD, content_terms, split_identifier
from ..treesitter import language_for_path
from .types import Context, ContextFile

MAX_EXISTING_TEST_FILES = 8
# Top-ranked source files whose module names are clues.
RANKED_SOURCES = 5
DEFINITION_WEIGHT = 3.0
MODULE_WEIGHT = 2.0
TASK_WORD_WEIGHT = 0.5
# A clue in a test file's name counts this many times its weight; in its text, at most
# once its weight (uses saturate: ``uses / (uses + TEXT_SATURATION)``).
NAME_MATCH = 3.0
TEXT_SATURATION = 2.0
# A file scoring below this share of the best one is left out.
MIN_SHARE = 0.2
MAX_TEST_FILE_CHARS = 200_000
_PACKAGE_FILE_STEMS = ("__init__", "index", "mod", "lib", "main", "__main__")
_TEST_AFFIXES = ("test", "tests", "spec", "specs")


@dataclass(frozen=True)
class Clues:
    """Terms (as ``repomap.lexical`` spells them) and their weights; ``code`` are the
    terms that come from the code, one of which a guarded file must match."""

    weights: dict[str, float]
    code: frozenset[str]


@dataclass(frozen=True)
class Guard:
    path: str
    score: float


def select_existing_tests(root: Path, context: Context, task_text: str = "") -> list[str]:
    """The test files that best match the task's code, best first, within the cap."""
    return [g.path for g in rank_existing_tests(root, context, task_text)]


def rank_existing_tests(
    root: Path, context: Context, task_text: str = "", limit: int = MAX_EXISTING_TEST_FILES
) -> list[Guard]:
    clues = clues_for(root, context, task_text)
    if not clues.code:
        return []
    scored: list[Guard] = []
    for test_file in tracked_test_files(root):
        text = read_regular_text(root, test_file, MAX_TEST_FILE_CHARS)  # no symlink followed
        if text is None:
            continue
        score = match_score(clues, name_terms(test_file), content_terms(text))
        if score > 0:
            scored.append(Guard(test_file, score))
    if not scored:
        return []
    scored.sort(key=lambda g: (-g.score, g.path))
    floor = scored[0].score * MIN_SHARE
    return [g for g in scored if g.score >= floor][:limit]


def tracked_test_files(root: Path) -> list[str]:
    """Tracked files that hold tests, not their helpers, as each file's ecosystem says: in
    Python what pytest collects by default (``test_*.py``, not ``conftest.py``), in Rust
    the source files with a ``#[cfg(test)]`` module too."""
    from ..ecosystems import holds_tests

    return [p for p in tracked_files(root) if holds_tests(root, p)]


def match_score(clues: Clues, names: set[str], uses: dict[str, int]) -> float:
    """How well one test file matches; 0 when it matches no code clue."""
    if not any(term in names or term in uses for term in clues.code):
        return 0.0
    score = 0.0
    for term, weight in clues.weights.items():
        count = uses.get(term, 0)
        in_name = NAME_MATCH if term in names else 0.0
        score += weight * (in_name + count / (count + TEXT_SATURATION))
    return score


def name_terms(test_file: str) -> set[str]:
    """The terms of a test file's path: ``tests/ext/test_ext_init.py`` gives ext, init
    and ext_init (the directories' names too, and never test or spec)."""
    parts = [*Path(test_file).parent.parts, Path(test_file).name.split(".")[0]]
    terms: set[str] = set()
    for part in parts:
        words = [w for w in part.replace("-", "_").split("_") if w.lower() not in _TEST_AFFIXES]
        terms.update(split_identifier("_".join(words)))
    return terms


def clues_for(root: Path, context: Context, task_text: str) -> Clues:
    """The clues and their weights; a term from several sources adds their weights."""
    weights: dict[str, float] = {}
    code: set[str] = set()
    task_terms = {t for word in WORD.findall(task_text) for t in split_identifier(word)}

    def add(term: str | None, weight: float, from_code: bool = True) -> None:
        if term is not None:
            weights[term] = weights.get(term, 0.0) + weight
            code.update([term] if from_code else [])

    for rank, shown in enumerate(context.files):
        file_weight = DEFINITION_WEIGHT / (1 + rank)
        terms = list(dict.fromkeys(map(identifier_term, shown_definitions(root, shown))))
        for term in terms:
            # a whole file shows many definitions: those the task names stand out
            named = file_weight if term in task_terms else 0.0
            add(term, file_weight / math.sqrt(len(terms)) + named)
    for rank, path in enumerate(ranked_sources(context.ranked_paths)):
        name, is_package = module_name(path)
        add(identifier_term(name), MODULE_WEIGHT / (1 + rank) / (2 if is_package else 1))
    for term in task_terms:
        add(term, TASK_WORD_WEIGHT, from_code=False)
    return Clues(weights, frozenset(code))


def identifier_term(name: str) -> str | None:
    """The whole identifier as one term (``escape_silent``, ``markup``); None for one too
    short or too common to say anything (``get``, ``__init__``)."""
    if name.startswith("__") and name.endswith("__"):
        return None
    terms = split_identifier(name)
    return terms[-1] if terms else None


def ranked_sources(ranked_paths: Sequence[str]) -> list[str]:
    sources = [p for p in ranked_paths if not is_test_path(p) and language_for_path(p)]
    return sources[:RANKED_SOURCES]


def module_name(path: str) -> tuple[str, bool]:
    """A source file's module name, and whether it is a package's own file (whose name
    is the package's: every test of the package imports it, so it says less)."""
    file = Path(path)
    if file.stem in _PACKAGE_FILE_STEMS and file.parent.name:
        return file.parent.name, True
    return file.stem, False


def shown_definitions(root: Path, shown: ContextFile) -> list[str]:
    """Names of the definitions whose first line the context shows of ``shown``."""
    from ..repomap.builder import parse_file

    language = language_for_path(shown.path)
    tags = parse_file(root, shown.path, language) if language else None
    if tags is None:
        return []
    return [
        d.name
        for d in tags.definitions
        if shown.whole or any(start <= d.line <= end for start, end in shown.ranges)
    ]
