"""Few-shot examples: the earlier fixes in this repository most similar to the task.

Candidates are the ledger's accepted fixes and the repository's own commits whose
messages say they fix something. Only what is in the base's past is offered: a commit
that is not an ancestor of the base, or a ledger run made on a later base, could hand the
model the answer (``swc eval`` relies on this). Similarity is SQLite FTS5's BM25 rank.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..gitrepo import is_ancestor, run_git

FIX_WORDS = re.compile(r"\b(fix(es|ed)?|bug|closes|resolves|regression|crash|broken|error)\b", re.I)
MAX_HISTORY_COMMITS = 3000
EXAMPLE_DIFF_CHARS = 3000
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


@dataclass(frozen=True)
class Example:
    title: str
    diff: str
    source: str  # "ledger" or "history"
    ref: str  # run id or commit sha

    def as_prompt(self) -> dict[str, str]:
        return {"title": self.title, "diff": self.diff}


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_git(args, root, check=False)


def history_candidates(root: Path, base: str) -> list[tuple[str, str, str]]:
    """(sha, subject, body) of non-merge commits before ``base`` whose message names a fix."""
    out = _git(
        root,
        "log",
        "--no-merges",
        f"--max-count={MAX_HISTORY_COMMITS}",
        "--format=%H%x00%s%x00%b%x1e",
        base,
    ).stdout
    found = []
    for record in out.split("\x1e"):
        parts = record.strip("\n").split("\x00")
        if len(parts) == 3 and FIX_WORDS.search(parts[1] + " " + parts[2]):
            found.append((parts[0], parts[1], parts[2]))
    return found


def ledger_candidates(
    runs: list[dict[str, Any]], root: Path, base: str
) -> list[tuple[str, str, str]]:
    """(run id, title, diff) of accepted fixes made on a base in this base's past."""
    found = []
    for run in runs:
        meta = run.get("meta") or {}
        diff = meta.get("winner_diff")
        if run.get("verdict") == "fixed" and diff and is_ancestor(root, run.get("base", ""), base):
            found.append((run["id"], str(meta.get("task_text") or run.get("task", "")), diff))
    return found


def _fts_query(text: str) -> str:
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(text)))[:64]
    return " OR ".join(f'"{w}"' for w in words)


def rank(task_text: str, documents: list[str], limit: int) -> list[int]:
    """Indices of the ``limit`` documents most similar to the task (BM25 via FTS5)."""
    query = _fts_query(task_text)
    if not query or not documents:
        return []
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE docs USING fts5(body)")
        conn.executemany(
            "INSERT INTO docs(rowid, body) VALUES (?, ?)",
            [(i + 1, doc) for i, doc in enumerate(documents)],
        )
        rows = conn.execute(
            "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (query, limit)
        ).fetchall()
    except sqlite3.OperationalError:  # no FTS5 in this SQLite build
        return []
    finally:
        conn.close()
    return [row[0] - 1 for row in rows]


def find_examples(
    root: Path, task_text: str, base: str, count: int, ledger_runs: list[dict[str, Any]]
) -> list[Example]:
    if count <= 0:
        return []
    pool: list[tuple[str, str, str, str]] = []  # source, ref, title, text-or-diff
    for run_id, title, diff in ledger_candidates(ledger_runs, root, base):
        pool.append(("ledger", run_id, title, diff))
    for sha, subject, body in history_candidates(root, base):
        pool.append(("history", sha, subject, body))
    documents = [f"{title}\n{text}" for _source, _ref, title, text in pool]
    examples = []
    for index in rank(task_text, documents, count):
        source, ref, title, text = pool[index]
        diff = (
            text
            if source == "ledger"
            # a diff from git's objects: a symlink is shown as the path it names, never
            # followed; no external diff or textconv program runs
            else _git(
                root,
                "show",
                "--format=",
                "--patch",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                ref,
            ).stdout
        )
        if diff.strip():
            examples.append(
                Example(
                    title.splitlines()[0][:200] if title else ref,
                    diff[:EXAMPLE_DIFF_CHARS],
                    source,
                    ref,
                )
            )
    return examples
