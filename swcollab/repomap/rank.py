"""Ranking: PageRank over the file reference graph, personalized toward the task.

An edge A -> B carries A's uses of names defined in B, weighted by how specific each name
is. The teleport (personalization) vector holds what the task points at: files it names,
files defining identifiers it names, and files whose words match its words (BM25). Each
file's rank is then spread over its definitions by how much ranked files use them.

The graph is an edge list in numpy arrays, and PageRank is the power iteration that
``networkx.pagerank`` runs (same formula, dangling and personalization handling) done on
those arrays. Measured on Django (2,800 files, 145,000 edges): building the networkx graph
took 3.5 s and importing networkx and scipy 0.5-1 s, on a warm path whose target is 1 s;
the arrays take about 0.1 s. The tests check the result against ``networkx.pagerank``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .graph import Graph, static_name_weight

MENTIONED_NAME_WEIGHT = 10.0  # uses of a name the task mentions weigh this much more

# Personalization: shares of the teleport vector.
FOCUS_FILE_WEIGHT = 1.0  # per file named in the task (or in its stack frames)
FOCUS_IDENTIFIER_WEIGHT = 0.5  # per identifier named, split over the files defining it
LEXICAL_WEIGHT = 1.0  # per top lexical match, scaled by its score relative to the best
LEXICAL_TOP_FILES = 10
# The final file score blends PageRank (relative to the best) with the lexical match
# (relative to the best), so a file the task describes but little references (a leaf
# module) still ranks high. Chosen on the quality corpus (docs/design/repo-map.md).
LEXICAL_BLEND = 0.7

UNUSED_DEFINITION_SHARE = 0.1  # of a file's mean demand, given to every definition
DAMPING = 0.85
MAX_ITERATIONS = 100
TOLERANCE = 1.0e-6


@dataclass
class RankInput:
    graph: Graph
    focus_files: set[int] = field(default_factory=set)
    mentioned: set[str] = field(default_factory=set)
    lexical: Mapping[int, float] = field(default_factory=dict)  # file index -> BM25
    query_terms: set[str] = field(default_factory=set)


@dataclass
class Ranking:
    file_scores: list[float]
    demand: dict[str, float]  # how much ranked files use each defined name


def name_weight(name: str, definers: int, mentioned: set[str]) -> float:
    """How much one use of ``name`` counts toward the files defining it."""
    weight = static_name_weight(name, definers)
    return weight * MENTIONED_NAME_WEIGHT if name in mentioned else weight


def rank(data: RankInput) -> Ranking:
    import numpy as np

    graph = data.graph
    n = graph.n_files
    if n == 0:
        return Ranking([], {})
    mentioned = [c for c in (graph.column(name) for name in data.mentioned) if c is not None]
    edge_weights = graph.edge_weights
    use_values = graph.use_values
    if mentioned:
        edge_weights = edge_weights * np.where(
            np.isin(graph.edge_names, mentioned), MENTIONED_NAME_WEIGHT, 1.0
        )
        use_values = use_values * np.where(
            np.isin(graph.use_names, mentioned), MENTIONED_NAME_WEIGHT, 1.0
        )
    personalization = _personalization(data, n)
    pagerank = pagerank_edges(
        n, graph.edge_source, graph.edge_target, edge_weights, personalization
    )
    lexical = np.zeros(n)
    for index, score in data.lexical.items():
        lexical[index] = score
    best_lexical = lexical.max()
    if best_lexical > 0:
        lexical /= best_lexical
    scores = (1.0 - LEXICAL_BLEND) * pagerank / (pagerank.max() or 1.0) + LEXICAL_BLEND * lexical
    return Ranking(scores.tolist(), _demand(graph, use_values, pagerank))


def _personalization(data: RankInput, n: int) -> dict[int, float]:
    vector: dict[int, float] = {}
    for index in data.focus_files:
        vector[index] = vector.get(index, 0.0) + FOCUS_FILE_WEIGHT
    for name in data.mentioned:
        files = data.graph.definers(name)
        for index in files:
            vector[index] = vector.get(index, 0.0) + FOCUS_IDENTIFIER_WEIGHT / len(files)
    top = sorted(data.lexical.items(), key=lambda item: -item[1])[:LEXICAL_TOP_FILES]
    best = top[0][1] if top else 0.0
    for index, score in top:
        if best > 0:
            vector[index] = vector.get(index, 0.0) + LEXICAL_WEIGHT * score / best
    return {i: w for i, w in vector.items() if 0 <= i < n and w > 0}


def pagerank_edges(
    n: int, source: Any, target: Any, weight: Any, personalization: Mapping[int, float]
) -> Any:
    """Personalized PageRank of a weighted edge list (duplicate edges add up).

    The formula of ``networkx.pagerank``: dangling nodes jump by the personalization
    vector; iteration stops when the L1 change is below n * TOLERANCE.
    """
    import numpy as np

    out = np.bincount(source, weights=weight, minlength=n)
    share = weight / out[source] if len(source) else weight
    p = np.zeros(n)
    for index, value in personalization.items():
        p[index] = value
    p = p / p.sum() if p.sum() > 0 else np.full(n, 1.0 / n)
    dangling = out == 0
    x = p.copy()
    for _ in range(MAX_ITERATIONS):
        last = x
        spread = np.bincount(target, weights=x[source] * share, minlength=n)
        x = DAMPING * (spread + x[dangling].sum() * p) + (1.0 - DAMPING) * p
        if np.abs(x - last).sum() < n * TOLERANCE:
            break
    return x


def _demand(graph: Graph, use_values: Any, pagerank: Any) -> dict[str, float]:
    """For each name: the rank of the files using it, split by their use weights."""
    import numpy as np

    n = len(pagerank)
    out = np.bincount(graph.use_files, weights=use_values, minlength=n)
    share = np.divide(pagerank, out, out=np.zeros(n), where=out != 0)
    demand = np.bincount(
        graph.use_names, weights=share[graph.use_files] * use_values, minlength=len(graph.names)
    )
    return {graph.names[i]: float(demand[i]) for i in np.nonzero(demand)[0]}


def definition_scores(
    names: Sequence[str],
    file_score: float,
    ranking: Ranking,
    data: RankInput,
    *,
    match_words: bool = True,
) -> list[float]:
    """Spread one file's score over its definitions, by how much ranked files use them.

    ``match_words`` also favours definitions whose name parts are words of the task
    (splitting names costs time: the caller skips it for files far down the ranking).
    """
    from .lexical import split_identifier

    base = [ranking.demand.get(name, 0.0) for name in names]
    # Unused definitions still get a little, so a file's outline is not only its hubs.
    floor = UNUSED_DEFINITION_SHARE * sum(base) / max(1, len(base)) + 1e-12
    raw = []
    terms = data.query_terms if match_words else set()
    for name, used in zip(names, base, strict=True):
        value = used + floor
        if name in data.mentioned:
            value *= MENTIONED_NAME_WEIGHT
        if terms:
            value *= 1.0 + len(terms.intersection(split_identifier(name)))
        raw.append(value)
    total = sum(raw) or 1.0
    return [file_score * value / total for value in raw]
