"""The plain data the repo map takes and returns (standard library only: cheap to import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Focus:
    """What the task points at; the ranking leans toward it."""

    text: str = ""  # task text: issue body, prompt, test output
    files: tuple[str, ...] = ()  # paths mentioned, in stack frames, or changed on the branch
    identifiers: tuple[str, ...] = ()  # identifiers mentioned


@dataclass(frozen=True)
class RankedDefinition:
    name: str
    kind: str  # class, function, method, interface, type, enum, module, constant, variable
    line: int  # 1-based first line of the definition
    end_line: int  # 1-based last line
    signature: str  # the head of the definition on one line
    score: float


@dataclass(frozen=True)
class RankedFile:
    path: str  # repo-relative, forward slashes
    score: float
    definitions: tuple[RankedDefinition, ...]  # best first


@dataclass(frozen=True)
class MapStats:
    files_total: int  # tracked files considered (after path restriction)
    files_parsed: int  # parsed in this run (the others came from the cache)
    cache_hits: int
    languages: dict[str, int] = field(default_factory=dict)  # mapped files per language
    seconds_per_stage: dict[str, float] = field(default_factory=dict)
    definitions: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> files left out


@dataclass(frozen=True)
class RepoMap:
    text: str  # the rendered map
    tokens: int  # tokens of ``text`` (model's counter, or the estimate)
    files: tuple[RankedFile, ...]  # ranked best first
    stats: MapStats
    warnings: tuple[str, ...] = ()
    shown: tuple[str, ...] = ()  # paths that appear in ``text``, in the order shown

    def to_dict(self, *, all_files: bool = False) -> dict[str, Any]:
        """The one JSON shape of a repo map (``swc map --json``).

        ``files`` lists the files shown in the map, best first; all ranked files with
        ``all_files``.
        """
        shown = set(self.shown)
        files = [f for f in self.files if all_files or f.path in shown]
        return {
            "tokens": self.tokens,
            "text": self.text,
            "shown": list(self.shown),
            "files": [
                {
                    "path": f.path,
                    "score": f.score,
                    "definitions": [
                        {
                            "name": d.name,
                            "kind": d.kind,
                            "line": d.line,
                            "end_line": d.end_line,
                            "signature": d.signature,
                            "score": d.score,
                        }
                        for d in f.definitions
                    ],
                }
                for f in files
            ],
            "stats": {
                "files_total": self.stats.files_total,
                "files_parsed": self.stats.files_parsed,
                "cache_hits": self.stats.cache_hits,
                "definitions": self.stats.definitions,
                "languages": self.stats.languages,
                "skipped": self.stats.skipped,
                "seconds_per_stage": self.stats.seconds_per_stage,
            },
            "warnings": list(self.warnings),
        }
