"""The reference graph of the mapped files, in numpy arrays, cached as one blob.

It depends only on the files' tags, not on the task, so a warm run with nothing changed
loads it instead of rebuilding it from every file's references (the largest part of a
warm run otherwise). The task's weights (mentioned names) are applied at ranking time.
"""

from __future__ import annotations

import hashlib
import marshal
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Bumped when what the graph holds or how its weights are computed changes.
GRAPH_VERSION = "1"

SPECIFIC_NAME_WEIGHT = 10.0  # long snake_case / CamelCase names say a lot
SPECIFIC_NAME_MIN_LEN = 8
PRIVATE_NAME_WEIGHT = 0.1  # _private names are local business
COMMON_NAME_DEFINERS = 5  # defined in more files than this: weak evidence
COMMON_NAME_WEIGHT = 0.1
MAX_NAME_DEFINERS = 40  # defined in more files than this: no evidence at all (__init__, get)

_SPECIFIC = re.compile(r"[a-z0-9]_[a-z0-9]|[a-z0-9][A-Z]")
# Stored arrays; the edges are expanded from them on load (cheaper than storing them).
_ARRAYS = (
    ("definer_lengths", "int64"),
    ("definer_files", "int64"),
    ("use_files", "int64"),
    ("use_names", "int64"),
    ("use_values", "float64"),
)


def static_name_weight(name: str, definers: int) -> float:
    """How much a use of ``name`` says, before the task is known."""
    weight = 1.0
    if len(name) >= SPECIFIC_NAME_MIN_LEN and _SPECIFIC.search(name):
        weight *= SPECIFIC_NAME_WEIGHT
    if name.startswith("_") and not name.endswith("__"):
        weight *= PRIVATE_NAME_WEIGHT
    if definers > COMMON_NAME_DEFINERS:
        weight *= COMMON_NAME_WEIGHT
    return weight


@dataclass
class Graph:
    n_files: int
    names: list[str]  # columns: names defined in 1..MAX_NAME_DEFINERS files
    file_names: list[list[str]]  # per file: the names of its definitions, in order
    definer_lengths: Any  # per column: how many files define it
    definer_files: Any  # the defining files, column after column
    use_files: Any  # (file, column, value): a file's uses of a name defined elsewhere
    use_names: Any
    use_values: Any  # sqrt(uses) x static weight
    edge_source: Any  # (source, target, column, weight): one per use and defining file
    edge_target: Any
    edge_names: Any
    edge_weights: Any

    def column(self, name: str) -> int | None:
        # A task names a handful of identifiers: a scan in C beats building a dict.
        try:
            return self.names.index(name)
        except ValueError:
            return None

    def definers(self, name: str) -> list[int]:
        col = self.column(name)
        if col is None:
            return []
        start = int(self.definer_lengths[:col].sum())
        return self.definer_files[start : start + int(self.definer_lengths[col])].tolist()

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {
            "n": self.n_files,
            "names": self.names,
            "file_names": self.file_names,
        }
        for attr, _dtype in _ARRAYS:
            doc[attr] = getattr(self, attr).tobytes()
        return marshal.dumps(doc)

    @classmethod
    def from_bytes(cls, raw: bytes) -> Graph:
        import numpy as np

        doc = marshal.loads(raw)
        arrays = {attr: np.frombuffer(doc[attr], dtype=dtype) for attr, dtype in _ARRAYS}
        graph = cls(
            n_files=doc["n"],
            names=doc["names"],
            file_names=doc["file_names"],
            edge_source=None,
            edge_target=None,
            edge_names=None,
            edge_weights=None,
            **arrays,
        )
        _expand_edges(graph)
        return graph


def graph_key(paths: Sequence[str], blob_ids: Sequence[int]) -> str:
    digest = hashlib.sha1(GRAPH_VERSION.encode())
    for path, blob_id in zip(paths, blob_ids, strict=True):
        digest.update(f"{path}\0{blob_id}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def build_graph(
    file_names: Sequence[Sequence[str]], references: Sequence[Mapping[str, int]]
) -> Graph:
    import numpy as np

    definers: dict[str, list[int]] = {}
    for index, names in enumerate(file_names):
        for name in set(names):
            definers.setdefault(name, []).append(index)
    definers = {n: files for n, files in definers.items() if len(files) <= MAX_NAME_DEFINERS}
    names = list(definers)
    columns = {name: i for i, name in enumerate(names)}
    rows: list[int] = []
    cols: list[int] = []
    counts: list[int] = []
    for index, refs in enumerate(references):
        # Set operations in C keep the hot loop short. A file's uses of its own names say
        # nothing about other files, nor about what the rest of the code needs.
        common = (refs.keys() & columns.keys()).difference(file_names[index])
        rows.extend([index] * len(common))
        cols.extend(columns[name] for name in common)
        counts.extend(refs[name] for name in common)
    lengths = np.array([len(files) for files in definers.values()], dtype=np.int64)
    weights = np.array([static_name_weight(n, len(f)) for n, f in definers.items()])
    use_names = np.array(cols, dtype=np.int64)
    use_values = np.sqrt(np.array(counts, dtype=np.float64)) * (
        weights[use_names] if len(use_names) else 0.0
    )
    graph = Graph(
        n_files=len(file_names),
        names=names,
        file_names=[list(n) for n in file_names],
        definer_lengths=lengths,
        definer_files=np.array([f for files in definers.values() for f in files], dtype=np.int64),
        use_files=np.array(rows, dtype=np.int64),
        use_names=use_names,
        use_values=np.asarray(use_values, dtype=np.float64),
        edge_source=None,
        edge_target=None,
        edge_names=None,
        edge_weights=None,
    )
    _expand_edges(graph)
    return graph


def _expand_edges(graph: Graph) -> None:
    """One edge per (use, defining file), without self-loops; duplicates add up later."""
    import numpy as np

    lengths = graph.definer_lengths
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    repeats = lengths[graph.use_names] if len(graph.use_names) else np.zeros(0, np.int64)
    source = np.repeat(graph.use_files, repeats)
    # Position of each expanded edge within its name's list of defining files.
    offsets = np.arange(len(source)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    target = (
        graph.definer_files[np.repeat(starts[graph.use_names], repeats) + offsets]
        if len(source)
        else source
    )
    keep = source != target
    graph.edge_source = source[keep]
    graph.edge_target = target[keep]
    graph.edge_names = np.repeat(graph.use_names, repeats)[keep]
    graph.edge_weights = np.repeat(graph.use_values, repeats)[keep]
