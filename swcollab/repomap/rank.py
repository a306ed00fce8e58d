"""Ranking: PageRank over the file reference graph, personalized toward the task.

An edge A -> B carries A's uses of names defined in B, weighted by how specific each name
is. The teleport (personalization) vector holds what the task points at: files it names,
files defining identifiers it names, and files whose words match its words (BM25). Each
file's rank is then spread over its definitions by how much ranked files use them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .tags import Definition

# Weights of a referenced name (aider's scheme, named).
MENTIONED_NAME_WEIGHT = 10.0  # the task names it
SPECIFIC_NAME_WEIGHT = 10.0  # long snake_case / CamelCase names say a lot
SPECIFIC_NAME_MIN_LEN = 8
PRIVATE_NAME_WEIGHT = 0.1  # _private names are local business
COMMON_NAME_DEFINERS = 5  # defined in more files than this: weak evidence
COMMON_NAME_WEIGHT = 0.1
MAX_NAME_DEFINERS = 40  # defined in more files than this: no evidence at all (__init__, get)

# Personalization: shares of the teleport vector.
FOCUS_FILE_WEIGHT = 1.0  # per file named in the task (or in its stack frames)
FOCUS_IDENTIFIER_WEIGHT = 0.5  # per identifier named, split over the files defining it
LEXICAL_WEIGHT = 1.0  # per top lexical match, scaled by its score relative to the best
LEXICAL_TOP_FILES = 25
# Final file score blends PageRank with the lexical match itself, so a file the task
# describes but nothing references (a leaf module) still ranks high.
LEXICAL_BLEND = 0.5

UNUSED_DEFINITION_SHARE = 0.1  # of a file's mean demand, given to every definition
DAMPING = 0.85
_SPECIFIC = re.compile(r"[a-z0-9]_[a-z0-9]|[a-z0-9][A-Z]")


@dataclass
class RankInput:
    paths: Sequence[str]
    definitions: Sequence[Sequence[Definition]]
    references: Sequence[Mapping[str, int]]
    focus_files: set[int] = field(default_factory=set)
    mentioned: set[str] = field(default_factory=set)
    lexical: Mapping[int, float] = field(default_factory=dict)  # file index -> BM25
    query_terms: set[str] = field(default_factory=set)


@dataclass
class Ranking:
    file_scores: list[float]
    # Per file: one score per definition (same order as its definitions).
    definition_scores: list[list[float]]


def name_weight(name: str, definers: int, mentioned: set[str]) -> float:
    weight = 1.0
    if name in mentioned:
        weight *= MENTIONED_NAME_WEIGHT
    if len(name) >= SPECIFIC_NAME_MIN_LEN and _SPECIFIC.search(name):
        weight *= SPECIFIC_NAME_WEIGHT
    if name.startswith("_") and not name.endswith("__"):
        weight *= PRIVATE_NAME_WEIGHT
    if definers > COMMON_NAME_DEFINERS:
        weight *= COMMON_NAME_WEIGHT
    return weight


def rank(data: RankInput) -> Ranking:
    n = len(data.paths)
    if n == 0:
        return Ranking([], [])
    definers = _definers(data.definitions)
    weights = {
        name: name_weight(name, len(files), data.mentioned) for name, files in definers.items()
    }
    edges, uses = _edges(data.references, definers, weights)
    personalization = _personalization(data, definers, n)
    pagerank = _pagerank(n, edges, personalization)
    lexical = _normalized(data.lexical)
    total = sum(pagerank) or 1.0
    file_scores = [
        pagerank[i] / total + LEXICAL_BLEND * lexical.get(i, 0.0) / max(1, len(lexical))
        for i in range(n)
    ]
    return Ranking(file_scores, _definition_scores(data, pagerank, uses, file_scores))


def _definers(definitions: Sequence[Sequence[Definition]]) -> dict[str, list[int]]:
    definers: dict[str, list[int]] = {}
    for index, defs in enumerate(definitions):
        for name in {d.name for d in defs}:
            definers.setdefault(name, []).append(index)
    return definers


def _edges(
    references: Sequence[Mapping[str, int]],
    definers: Mapping[str, list[int]],
    weights: Mapping[str, float],
) -> tuple[dict[tuple[int, int], float], list[dict[str, float]]]:
    """Edge weights A->B, and per file A the weight of each name it uses (for definitions)."""
    edges: dict[tuple[int, int], float] = {}
    uses: list[dict[str, float]] = []
    defined = definers.keys()
    for source, refs in enumerate(references):
        used: dict[str, float] = {}
        for name in refs.keys() & defined:
            targets = definers[name]
            if len(targets) > MAX_NAME_DEFINERS:
                continue
            weight = weights[name] * math.sqrt(refs[name])
            used[name] = weight
            for target in targets:
                if target != source:
                    key = (source, target)
                    edges[key] = edges.get(key, 0.0) + weight
        uses.append(used)
    return edges, uses


def _personalization(
    data: RankInput, definers: Mapping[str, list[int]], n: int
) -> dict[int, float]:
    vector: dict[int, float] = {}
    for index in data.focus_files:
        vector[index] = vector.get(index, 0.0) + FOCUS_FILE_WEIGHT
    for name in data.mentioned:
        files = definers.get(name, ())
        for index in files:
            vector[index] = vector.get(index, 0.0) + FOCUS_IDENTIFIER_WEIGHT / len(files)
    top = sorted(data.lexical.items(), key=lambda item: -item[1])[:LEXICAL_TOP_FILES]
    best = top[0][1] if top else 0.0
    for index, score in top:
        if best > 0:
            vector[index] = vector.get(index, 0.0) + LEXICAL_WEIGHT * score / best
    return {i: w for i, w in vector.items() if 0 <= i < n and w > 0}


def _pagerank(
    n: int, edges: Mapping[tuple[int, int], float], personalization: Mapping[int, float]
) -> list[float]:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from((a, b, w) for (a, b), w in edges.items())
    try:
        ranks = nx.pagerank(
            graph, alpha=DAMPING, personalization=personalization or None,
            dangling=personalization or None, weight="weight",
        )
    except nx.PowerIterationFailedConvergence:
        ranks = {i: personalization.get(i, 1.0) for i in range(n)}
    return [ranks.get(i, 0.0) for i in range(n)]


def _normalized(scores: Mapping[int, float]) -> dict[int, float]:
    best = max(scores.values(), default=0.0)
    return {i: s / best for i, s in scores.items()} if best > 0 else {}


def _definition_scores(
    data: RankInput,
    pagerank: Sequence[float],
    uses: Sequence[Mapping[str, float]],
    file_scores: Sequence[float],
) -> list[list[float]]:
    """Spread each file's score over its definitions, by how much ranked files use them."""
    from .lexical import split_identifier

    demand: dict[str, float] = {}
    for source, used in enumerate(uses):
        total = sum(used.values())
        if total <= 0:
            continue
        share = pagerank[source] / total
        for name, weight in used.items():
            demand[name] = demand.get(name, 0.0) + share * weight
    result = []
    for index, defs in enumerate(data.definitions):
        base = [demand.get(d.name, 0.0) for d in defs]
        # Unused definitions still get a little, so a file's outline is not only its hubs.
        floor = UNUSED_DEFINITION_SHARE * sum(base) / max(1, len(base)) + 1e-12
        raw = []
        for d, used in zip(defs, base, strict=True):
            value = used + floor
            if d.name in data.mentioned:
                value *= MENTIONED_NAME_WEIGHT
            overlap = len(data.query_terms.intersection(split_identifier(d.name)))
            value *= 1.0 + overlap
            raw.append(value)
        total = sum(raw) or 1.0
        result.append([file_scores[index] * value / total for value in raw])
    return result
