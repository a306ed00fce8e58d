"""Eval results in SQLite (``.git/swc/eval.db`` or ``--db``): resumable, mergeable.

One row a run, keyed by task, strategy, weak model, strong model and swc version, so an
interrupted eval resumes where it stopped and a repeated one reuses what is done. The
tasks themselves, the outcome of mining each commit and of checking each task are kept
too, so nothing that cost test time is redone either.

Only the thread that opened the store writes to it: workers hand their records back.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from ..sqlitedb import open_db
from .tasks import EvalTask, Skip, task_from_json

EVAL_DB = "eval.db"
WHAT = "eval results database"
STATUS_DONE = "done"
STATUS_STOPPED = "stopped"  # cut short by the eval's budget or Ctrl-C: redone next time


def m001_eval_tables(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE tasks (
            task_id TEXT PRIMARY KEY,
            data TEXT NOT NULL,               -- the SWE-bench instance, JSON
            added_at TEXT NOT NULL
        )""")
    conn.execute("""
        CREATE TABLE results (
            task_id TEXT NOT NULL,
            strategy TEXT NOT NULL,
            weak_model TEXT NOT NULL,         -- '-' when the strategy does not use the tier
            strong_model TEXT NOT NULL,
            swc_version TEXT NOT NULL,
            status TEXT NOT NULL,             -- done | stopped
            verdict TEXT NOT NULL,            -- the engine's verdict
            resolved INTEGER NOT NULL,        -- hidden tests all passed
            cost_usd REAL NOT NULL,
            calls_weak INTEGER NOT NULL,
            calls_strong INTEGER NOT NULL,
            winner_tier TEXT,
            duration_s REAL NOT NULL,         -- the engine's wall time
            judge_s REAL NOT NULL,
            diff TEXT NOT NULL,
            note TEXT NOT NULL,               -- why unresolved, in a few words
            failing TEXT NOT NULL,            -- JSON list of hidden tests that did not pass
            error TEXT,
            finished_at TEXT NOT NULL,
            PRIMARY KEY (task_id, strategy, weak_model, strong_model, swc_version)
        )""")
    conn.execute("""
        CREATE TABLE skips (
            key TEXT NOT NULL, stage TEXT NOT NULL, reason TEXT NOT NULL,
            PRIMARY KEY (key, stage)
        )""")
    conn.execute("""
        CREATE TABLE checks (
            task_id TEXT NOT NULL, key TEXT NOT NULL,
            problem TEXT,                     -- NULL: the task can be used
            PRIMARY KEY (task_id, key)
        )""")
    conn.execute("""
        CREATE TABLE mined (
            sha TEXT NOT NULL, key TEXT NOT NULL,
            task TEXT,                        -- JSON instance, or NULL with a reason
            reason TEXT,
            PRIMARY KEY (sha, key)
        )""")


MIGRATIONS = [m001_eval_tables]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RunRecord:
    task_id: str
    strategy: str
    weak_model: str
    strong_model: str
    swc_version: str
    status: str
    verdict: str
    resolved: bool
    cost_usd: float
    calls_weak: int
    calls_strong: int
    winner_tier: str | None
    duration_s: float
    judge_s: float
    diff: str
    note: str
    failing: tuple[str, ...]
    error: str | None
    finished_at: str = ""

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.task_id, self.strategy, self.weak_model, self.strong_model, self.swc_version)

    @property
    def weak_alone(self) -> bool:
        """The weak tier finished the task by itself: it wrote the fix, strong never called."""
        return self.resolved and self.winner_tier == "weak" and self.calls_strong == 0

    def as_json(self) -> dict:
        data = asdict(self)
        data["failing"] = list(self.failing)
        return data


_COLUMNS = [f.name for f in fields(RunRecord)]


def _record(row: sqlite3.Row) -> RunRecord:
    data = {name: row[name] for name in _COLUMNS}
    data["resolved"] = bool(data["resolved"])
    data["failing"] = tuple(json.loads(data["failing"] or "[]"))
    return RunRecord(**data)


class EvalStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = open_db(path, MIGRATIONS, what=WHAT)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> EvalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- tasks and skips ------------------------------------------------------------
    def save_tasks(self, tasks: list[EvalTask]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO tasks (task_id, data, added_at) VALUES (?, ?, ?)",
                [(t.instance_id, json.dumps(t.to_json()), _now()) for t in tasks],
            )

    def tasks(self) -> list[EvalTask]:
        rows = self.conn.execute("SELECT data FROM tasks ORDER BY task_id").fetchall()
        return [task_from_json(json.loads(r["data"])) for r in rows]

    def task(self, task_id: str) -> EvalTask | None:
        row = self.conn.execute("SELECT data FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
        return task_from_json(json.loads(row["data"])) if row else None

    def save_skips(self, skips: list[Skip]) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT OR REPLACE INTO skips (key, stage, reason) VALUES (?, ?, ?)",
                [(s.key, s.stage, s.reason) for s in skips],
            )

    def skips(self) -> list[Skip]:
        rows = self.conn.execute("SELECT key, stage, reason FROM skips ORDER BY stage, key")
        return [Skip(r["key"], r["stage"], r["reason"]) for r in rows]

    # -- caches of test-time work -----------------------------------------------------
    def checked(self, task_id: str, key: str) -> tuple[bool, str | None]:
        row = self.conn.execute(
            "SELECT problem FROM checks WHERE task_id = ? AND key = ?", (task_id, key)
        ).fetchone()
        return (row is not None, row["problem"] if row else None)

    def remember_check(self, task_id: str, key: str, problem: str | None) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO checks VALUES (?, ?, ?)", (task_id, key, problem)
            )

    def mined(self, sha: str, key: str) -> EvalTask | Skip | None:
        row = self.conn.execute(
            "SELECT task, reason FROM mined WHERE sha = ? AND key = ?", (sha, key)
        ).fetchone()
        if row is None:
            return None
        if row["task"]:
            return task_from_json(json.loads(row["task"]))
        return Skip(sha, "mine", row["reason"] or "skipped")

    def remember_mined(self, sha: str, key: str, outcome: EvalTask | Skip) -> None:
        task = json.dumps(outcome.to_json()) if isinstance(outcome, EvalTask) else None
        reason = outcome.reason if isinstance(outcome, Skip) else None
        with self.conn:
            self.conn.execute(
                "INSERT OR REPLACE INTO mined VALUES (?, ?, ?, ?)", (sha, key, task, reason)
            )

    # -- results ----------------------------------------------------------------------
    def result(self, key: tuple[str, str, str, str, str]) -> RunRecord | None:
        row = self.conn.execute(
            "SELECT * FROM results WHERE task_id = ? AND strategy = ? AND weak_model = ? "
            "AND strong_model = ? AND swc_version = ?",
            key,
        ).fetchone()
        return _record(row) if row else None

    def save_result(self, record: RunRecord) -> None:
        data = record.as_json()
        data["failing"] = json.dumps(data["failing"])
        data["resolved"] = int(record.resolved)
        data["finished_at"] = record.finished_at or _now()
        names = ", ".join(_COLUMNS)
        marks = ", ".join("?" for _ in _COLUMNS)
        with self.conn:
            self.conn.execute(
                f"INSERT OR REPLACE INTO results ({names}) VALUES ({marks})",
                [data[n] for n in _COLUMNS],
            )

    def results(self, *, status: str | None = STATUS_DONE) -> list[RunRecord]:
        sql = "SELECT * FROM results"
        args: tuple = ()
        if status is not None:
            sql += " WHERE status = ?"
            args = (status,)
        rows = self.conn.execute(
            sql + " ORDER BY task_id, strategy, weak_model, strong_model", args
        ).fetchall()
        return [_record(r) for r in rows]

    # -- merging shards -----------------------------------------------------------------
    def merge_from(self, other: Path) -> int:
        """Copy every task, skip, cache row and result of ``other`` in; returns results added.

        A finished result wins over a stopped one for the same key, whichever DB has it.
        """
        source = EvalStore(other)  # migrates an older shard database up to date too
        try:
            self.save_tasks(source.tasks())
            self.save_skips(source.skips())
            added = 0
            for record in source.results(status=None):
                mine = self.result(record.key)
                if mine is None or (mine.status != STATUS_DONE and record.status == STATUS_DONE):
                    self.save_result(record)
                    added += 1
            with self.conn:
                for row in source.conn.execute("SELECT * FROM checks"):
                    self.conn.execute("INSERT OR IGNORE INTO checks VALUES (?, ?, ?)", tuple(row))
                for row in source.conn.execute("SELECT * FROM mined"):
                    self.conn.execute("INSERT OR IGNORE INTO mined VALUES (?, ?, ?, ?)", tuple(row))
            return added
        finally:
            source.close()
