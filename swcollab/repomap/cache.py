"""The tag cache: ``.git/swc/tags.db``, keyed by git blob SHA, language and query version.

Content, not mtime, is the key, so the cache survives checkouts and branch switches and
is shared by every worktree of the repository. Rows hold the definitions and references
of one blob (JSON) and its lexical terms (one row per term, so a task's words are looked
up with an index instead of loading every file's vocabulary).

Pruning: a row not used for ``STALE_DAYS`` is deleted, and so is, at the daily
maintenance, a row whose blob is not in the object database (working-tree edits that
were never committed, or objects git has garbage-collected).
"""

from __future__ import annotations

import json
import marshal
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..gitrepo import run_git
from ..sqlitedb import open_or_rebuild
from .tags import Definition, FileTags

DB_NAME = "tags.db"
STALE_DAYS = 30
_WRITE_BATCH = 1000

Key = tuple[str, str, str]  # (blob sha, language, query version)


def m001_tags(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE blobs ("
        " id INTEGER PRIMARY KEY,"
        " sha TEXT NOT NULL, language TEXT NOT NULL, version TEXT NOT NULL,"
        " status TEXT NOT NULL, names BLOB NOT NULL, defs BLOB NOT NULL, refs BLOB NOT NULL,"
        " doc_len INTEGER NOT NULL, last_used INTEGER NOT NULL,"
        " UNIQUE (sha, language, version))"
    )
    conn.execute(
        "CREATE TABLE terms (term TEXT NOT NULL, blob_id INTEGER NOT NULL, tf INTEGER NOT NULL,"
        " PRIMARY KEY (term, blob_id)) WITHOUT ROWID"
    )
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def m002_graphs(conn: sqlite3.Connection) -> None:
    # The reference graph of a whole tree of blobs (graph.py), so warm runs skip its build.
    conn.execute(
        "CREATE TABLE graphs (key TEXT PRIMARY KEY, data BLOB NOT NULL, used_at REAL NOT NULL)"
    )


MIGRATIONS = [m001_tags, m002_graphs]
GRAPHS_KEPT = 3  # a few trees (branches, worktrees) at once


@dataclass
class CachedTags:
    blob_id: int
    status: str
    doc_len: int


# Rows are marshalled: several times faster to load than JSON, and the warm path loads
# every file's references. The marshal format is part of the cache key (query_version).
def encode_definitions(definitions: Sequence[Definition]) -> bytes:
    return marshal.dumps(
        [(d.name, d.kind, d.line, d.end_line, d.indent, d.signature) for d in definitions]
    )


def decode_definitions(raw: bytes) -> list[Definition]:
    return [Definition(*row) for row in marshal.loads(raw)]


def today() -> int:
    return int(time.time() // 86_400)


class TagCache:
    """One open connection to the cache; ``close()`` when done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn, self.warning = open_or_rebuild(path, MIGRATIONS, what="tag cache")

    def close(self) -> None:
        self.conn.close()

    def lookup(self, keys: Iterable[Key]) -> dict[Key, CachedTags]:
        """Which (sha, language, version) keys are cached; one query, missing keys absent."""
        wanted = json.dumps([list(k) for k in keys])
        rows = self.conn.execute(
            "SELECT b.id, b.sha, b.language, b.version, b.status, b.doc_len, b.last_used"
            " FROM json_each(?) AS w"
            " JOIN blobs AS b ON b.sha = w.value ->> 0 AND b.language = w.value ->> 1"
            " AND b.version = w.value ->> 2",
            (wanted,),
        ).fetchall()
        found = {}
        stale_ids = []
        day = today()
        for blob_id, sha, language, version, status, doc_len, last_used in rows:
            found[(sha, language, version)] = CachedTags(blob_id, status, doc_len)
            if last_used < day:
                stale_ids.append(blob_id)
        if stale_ids:
            self._touch(stale_ids, day)
        return found

    def load_references(self, ids: Iterable[int]) -> dict[int, tuple[list[str], dict[str, int]]]:
        """Defined names and references of blobs (to build the graph)."""
        rows = self.conn.execute(
            "SELECT id, names, refs FROM blobs WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(ids))),),
        )
        try:
            return {row[0]: (marshal.loads(row[1]), marshal.loads(row[2])) for row in rows}
        except (ValueError, EOFError, TypeError) as exc:
            raise sqlite3.DatabaseError(f"damaged row: {exc}") from None

    def load_definitions(self, ids: Iterable[int]) -> dict[int, list[Definition]]:
        rows = self.conn.execute(
            "SELECT id, defs FROM blobs WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(ids))),),
        )
        try:
            return {row[0]: decode_definitions(row[1]) for row in rows}
        except (ValueError, EOFError, TypeError) as exc:
            raise sqlite3.DatabaseError(f"damaged row: {exc}") from None

    def get_graph(self, key: str) -> bytes | None:
        row = self.conn.execute("SELECT data FROM graphs WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        self.conn.execute("UPDATE graphs SET used_at = ? WHERE key = ?", (time.time(), key))
        return bytes(row[0])

    def put_graph(self, key: str, data: bytes) -> None:
        with self._transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO graphs (key, data, used_at) VALUES (?, ?, ?)",
                (key, data, time.time()),
            )
            self.conn.execute(
                "DELETE FROM graphs WHERE key NOT IN"
                " (SELECT key FROM graphs ORDER BY used_at DESC LIMIT ?)",
                (GRAPHS_KEPT,),
            )

    def _touch(self, ids: Sequence[int], day: int) -> None:
        # Once a day per row at most, so a warm run usually writes nothing.
        with self._transaction():
            self.conn.executemany(
                "UPDATE blobs SET last_used = ? WHERE id = ?", [(day, i) for i in ids]
            )

    def store(
        self, items: Sequence[tuple[str, str, str, FileTags]]
    ) -> dict[tuple[str, str, str], int]:
        """Insert parsed tags; returns the row id of each key.

        Each chunk is one transaction, so a concurrent run never sees a blob without its
        terms. Term rows are inserted sorted: four times less CPU than in file order
        (measured on Django's 560,000 rows), as the index B-tree is walked in order.
        """
        ids: dict[tuple[str, str, str], int] = {}
        day = today()
        for start in range(0, len(items), _WRITE_BATCH):
            with self._transaction():
                term_rows = []
                for sha, language, version, tags in items[start : start + _WRITE_BATCH]:
                    blob_id = self._store_blob(sha, language, version, tags, day)
                    ids[(sha, language, version)] = blob_id
                    term_rows.extend((term, blob_id, tf) for term, tf in tags.terms.items())
                term_rows.sort()
                self.conn.executemany(
                    "INSERT OR REPLACE INTO terms (term, blob_id, tf) VALUES (?, ?, ?)",
                    term_rows,
                )
        return ids

    def _store_blob(self, sha: str, language: str, version: str, tags: FileTags, day: int) -> int:
        row = self.conn.execute(
            "INSERT INTO blobs (sha, language, version, status, names, defs, refs, doc_len,"
            " last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (sha, language, version) DO UPDATE SET last_used = excluded.last_used"
            " RETURNING id",
            (
                sha,
                language,
                version,
                tags.status,
                marshal.dumps([d.name for d in tags.definitions]),
                encode_definitions(tags.definitions),
                marshal.dumps(tags.references),
                sum(tags.terms.values()),
                day,
            ),
        ).fetchone()
        return int(row[0])

    def postings(self, terms: Iterable[str], blob_ids: set[int]) -> dict[str, dict[int, int]]:
        """For each term, {blob id: term frequency} among ``blob_ids``."""
        wanted = json.dumps(sorted(set(terms)))
        result: dict[str, dict[int, int]] = {}
        for term, blob_id, tf in self.conn.execute(
            "SELECT t.term, t.blob_id, t.tf FROM json_each(?) AS w"
            " JOIN terms AS t ON t.term = w.value",
            (wanted,),
        ):
            if blob_id in blob_ids:
                result.setdefault(term, {})[blob_id] = tf
        return result

    def maintain(self, repo_root: Path) -> int:
        """Prune unreachable and long-unused rows, at most once a day; rows deleted."""
        day = today()
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'pruned_on'").fetchone()
        if row is not None and int(row[0]) >= day:
            return 0
        candidates = self.conn.execute(
            "SELECT id, sha, last_used FROM blobs WHERE last_used < ?", (day,)
        ).fetchall()
        doomed = [r[0] for r in candidates if r[2] < day - STALE_DAYS]
        alive = [r for r in candidates if r[2] >= day - STALE_DAYS]
        missing = _missing_objects(repo_root, [r[1] for r in alive])
        doomed += [r[0] for r in alive if r[1] in missing]
        with self._transaction():
            for start in range(0, len(doomed), 500):
                chunk = json.dumps(doomed[start : start + 500])
                self.conn.execute(
                    "DELETE FROM terms WHERE blob_id IN (SELECT value FROM json_each(?))", (chunk,)
                )
                self.conn.execute(
                    "DELETE FROM blobs WHERE id IN (SELECT value FROM json_each(?))", (chunk,)
                )
            self.conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('pruned_on', ?)", (str(day),)
            )
        return len(doomed)

    def _transaction(self) -> _Transaction:
        return _Transaction(self.conn)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT: writers queue on the busy timeout instead of failing."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def _missing_objects(repo_root: Path, shas: Sequence[str]) -> set[str]:
    if not shas:
        return set()
    proc = run_git(
        ["cat-file", "--batch-check"],
        repo_root,
        check=False,
        binary=True,
        input=("\n".join(shas) + "\n").encode(),
    )
    if proc.returncode != 0:
        return set()  # cannot tell: keep everything
    lines = proc.stdout.splitlines()
    return {line.split(b" ")[0].decode() for line in lines if line.endswith(b" missing")}
