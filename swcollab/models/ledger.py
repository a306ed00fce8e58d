"""The run ledger: every run and every model call, in ``.git/swc/ledger.db``.

One row a run (task, strategy, tiers, base commit, times, verdict, branch, cost) and one
row a model call (tier, model, purpose, tokens, cost, latency, outcome). Calls also keep
what the same tokens would have cost at the strong tier's prices, so ``swc stats`` can
say what sending everything to the strong model would have cost. And one row a test
found flaky in this repository (``flaky_tests``): it judges no candidate of later runs.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import LedgerError
from ..sqlitedb import open_db

LEDGER_FILE = "ledger.db"
WHAT = "run ledger"
FLAKY_COLUMNS = (
    "test_id",
    "run_id",
    "base",
    "candidate_runs",
    "candidate_failures",
    "base_runs",
    "base_failures",
)
VERDICTS = ("fixed", "not_fixed", "unverified", "budget_exhausted", "interrupted", "error")


def m001_runs_and_calls(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            task TEXT NOT NULL,
            strategy TEXT NOT NULL,
            tiers TEXT NOT NULL,              -- JSON: tier name -> model
            base TEXT NOT NULL,               -- commit the run started from
            started_at TEXT NOT NULL,         -- ISO 8601, UTC
            finished_at TEXT,
            verdict TEXT,                     -- NULL while running (or if swc was killed)
            branch TEXT,
            cost_usd REAL,
            strong_only_cost_usd REAL,
            report_path TEXT,
            meta TEXT NOT NULL DEFAULT '{}'   -- JSON
        )""")
    conn.execute("""
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT REFERENCES runs(id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            tier TEXT NOT NULL,
            model TEXT NOT NULL,
            purpose TEXT NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            cost_usd REAL NOT NULL,
            cost_known INTEGER NOT NULL,
            strong_cost_usd REAL,             -- same tokens at the strong tier's prices
            latency_s REAL NOT NULL,
            outcome TEXT NOT NULL,            -- ok, error, refused, interrupted
            detail TEXT
        )""")
    conn.execute("CREATE INDEX calls_run ON calls(run_id)")
    conn.execute("CREATE INDEX runs_started ON runs(started_at)")


def m002_call_reservation_and_prompt(conn: sqlite3.Connection) -> None:
    """What each call held on the budget, what we counted, and which prompt it sent."""
    for column in (
        "reserved_usd REAL",  # worst case held before the call
        "prompt_estimate INTEGER",  # our count of the prompt's tokens
        "max_tokens INTEGER",  # the completion cap sent with the request
        "prompt_hash TEXT",  # of model + messages: shows a repeated call
    ):
        conn.execute(f"ALTER TABLE calls ADD COLUMN {column}")
    conn.execute("CREATE INDEX calls_model ON calls(model)")


def m003_cached_tokens_and_samples(conn: sqlite3.Connection) -> None:
    """What the provider's prompt cache saved, and how many answers one request asked for."""
    for column in (
        "cached_tokens INTEGER NOT NULL DEFAULT 0",  # prompt tokens read from the cache
        "cache_write_tokens INTEGER NOT NULL DEFAULT 0",  # written to it (Anthropic)
        "uncached_cost_usd REAL",  # the same call with no cache: cost_usd plus the saving
        "samples INTEGER NOT NULL DEFAULT 1",  # answers asked for (n)
        "answers INTEGER",  # answers received
    ):
        conn.execute(f"ALTER TABLE calls ADD COLUMN {column}")


def m004_flaky_tests(conn: sqlite3.Connection) -> None:
    """Tests found flaky in this repository: they judge no candidate of a later run."""
    conn.execute("""
        CREATE TABLE flaky_tests (
            test_id TEXT PRIMARY KEY,         -- as the test runner names it (path::test[id])
            found_at TEXT NOT NULL,
            run_id TEXT,                      -- the run that found it (no foreign key:
            base TEXT,                        --   swc eval copies rows between ledgers)
            candidate_runs INTEGER NOT NULL,  -- its runs on a candidate, the first included
            candidate_failures INTEGER NOT NULL,
            base_runs INTEGER NOT NULL,       -- on the base, the baseline run included
            base_failures INTEGER NOT NULL
        )""")


MIGRATIONS = [
    m001_runs_and_calls,
    m002_call_reservation_and_prompt,
    m003_cached_tokens_and_samples,
    m004_flaky_tests,
]


@dataclass(frozen=True)
class CallCache:
    """A call's prompt cache and samples: what was read from the cache or written to it,
    what the call would have cost without the cache, answers asked for and received."""

    cached_tokens: int = 0
    cache_write_tokens: int = 0
    uncached_cost_usd: float | None = None
    samples: int = 1
    answers: int | None = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id() -> str:
    """Sortable by start time, unique enough across parallel runs: 20261126-155203-9f3a."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


class Ledger:
    """Runs and calls of one repository. Safe to share between threads (one connection each)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._conn()  # open (and migrate) now, so damage is reported up front

    @classmethod
    def open(cls, state_dir: Path) -> Ledger:
        return cls(state_dir / LEDGER_FILE)

    @staticmethod
    def exists(state_dir: Path) -> bool:
        return (state_dir / LEDGER_FILE).is_file()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = open_db(self.path, MIGRATIONS, what=WHAT)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection; damage found while reading or writing becomes a LedgerError."""
        try:
            yield self._conn()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(
                f"the {WHAT} at {self.path} cannot be used: {exc}",
                hint=f"Move it aside (mv {self.path} {self.path}.broken) and swc will start "
                "a new one.",
            ) from None

    def close(self) -> None:
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            # sqlite3 lets only the opening thread close a connection; the others are
            # closed when they are garbage collected.
            with contextlib.suppress(sqlite3.ProgrammingError):
                conn.close()
        self._local = threading.local()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------

    def start_run(
        self,
        *,
        task: str,
        strategy: str,
        tiers: dict[str, str],
        base: str,
        meta: dict | None = None,
    ) -> str:
        run_id = new_run_id()
        with self._db() as db:
            db.execute(
                "INSERT INTO runs (id, task, strategy, tiers, base, started_at, meta) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, task, strategy, json.dumps(tiers), base, _now(), json.dumps(meta or {})),
            )
        return run_id

    def record_call(
        self,
        run_id: str | None,
        *,
        tier: str,
        model: str,
        purpose: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
        cost_known: bool,
        latency_s: float,
        outcome: str,
        detail: str | None = None,
        strong_cost_usd: float | None = None,
        reserved_usd: float | None = None,
        prompt_estimate: int | None = None,
        max_tokens: int | None = None,
        prompt_hash: str | None = None,
        cache: CallCache | None = None,
    ) -> None:
        cache = cache or CallCache(uncached_cost_usd=float(cost_usd))
        with self._db() as db:
            db.execute(
                "INSERT INTO calls (run_id, at, tier, model, purpose, prompt_tokens, "
                "completion_tokens, cost_usd, cost_known, strong_cost_usd, latency_s, outcome, "
                "detail, reserved_usd, prompt_estimate, max_tokens, prompt_hash, "
                "cached_tokens, cache_write_tokens, uncached_cost_usd, samples, answers) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    _now(),
                    tier,
                    model,
                    purpose,
                    int(prompt_tokens),
                    int(completion_tokens),
                    float(cost_usd),
                    int(bool(cost_known)),
                    strong_cost_usd,
                    float(latency_s),
                    outcome,
                    detail,
                    reserved_usd,
                    prompt_estimate,
                    max_tokens,
                    prompt_hash,
                    int(cache.cached_tokens),
                    int(cache.cache_write_tokens),
                    cache.uncached_cost_usd,
                    int(cache.samples),
                    cache.answers,
                ),
            )

    def finish_run(
        self,
        run_id: str,
        *,
        verdict: str,
        branch: str | None,
        cost_usd: float,
        strong_only_cost_usd: float | None,
        report_path: str | None,
        meta: dict | None = None,
    ) -> None:
        with self._db() as db:
            row = db.execute("SELECT meta FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise LedgerError(f"no run {run_id} in the {WHAT} at {self.path}")
            merged = {**json.loads(row["meta"] or "{}"), **(meta or {})}
            db.execute(
                "UPDATE runs SET finished_at = ?, verdict = ?, branch = ?, cost_usd = ?, "
                "strong_only_cost_usd = ?, report_path = ?, meta = ? WHERE id = ?",
                (
                    _now(),
                    verdict,
                    branch,
                    cost_usd,
                    strong_only_cost_usd,
                    report_path,
                    json.dumps(merged),
                    run_id,
                ),
            )

    def remember_flaky(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Remember flaky tests (``FLAKY_COLUMNS`` each; ``found_at`` kept when given): a
        test found again replaces what was known of it."""
        with self._db() as db:
            for row in rows:
                values = [row.get("found_at") or _now(), *(row[c] for c in FLAKY_COLUMNS)]
                db.execute(
                    f"INSERT OR REPLACE INTO flaky_tests (found_at, {', '.join(FLAKY_COLUMNS)}) "
                    f"VALUES (?{', ?' * len(FLAKY_COLUMNS)})",
                    values,
                )

    def forget_flaky(self, test_ids: Sequence[str] = ()) -> int:
        """Forget the flaky tests ``test_ids`` (every one when empty); how many were known."""
        with self._db() as db:
            if not test_ids:
                return db.execute("DELETE FROM flaky_tests").rowcount
            return sum(
                db.execute("DELETE FROM flaky_tests WHERE test_id = ?", (t,)).rowcount
                for t in test_ids
            )

    # -- reading ------------------------------------------------------------------------

    def flaky_tests(self) -> list[dict[str, Any]]:
        """The tests known to be flaky here, by id."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM flaky_tests ORDER BY test_id").fetchall()
        return [dict(row) for row in rows]

    _RUN_COLUMNS = """
        r.*, (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id) AS calls,
        (SELECT COALESCE(SUM(c.cost_usd), 0) FROM calls c WHERE c.run_id = r.id) AS calls_cost,
        (SELECT SUM(c.strong_cost_usd) FROM calls c WHERE c.run_id = r.id) AS calls_strong_cost,
        (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id AND c.cost_known = 0
            AND c.outcome = 'ok') AS unpriced_calls,
        (SELECT COUNT(*) FROM calls c WHERE c.run_id = r.id AND c.tier = 'strong'
            AND c.outcome != 'refused') AS strong_calls,
        (SELECT COALESCE(SUM(c.cached_tokens), 0) FROM calls c WHERE c.run_id = r.id)
            AS cached_tokens,
        (SELECT COALESCE(SUM(COALESCE(c.uncached_cost_usd, c.cost_usd) - c.cost_usd), 0)
            FROM calls c WHERE c.run_id = r.id) AS cache_saving_usd
    """

    def runs(self, limit: int = 20) -> list[dict]:
        with self._db() as db:
            rows = db.execute(
                f"SELECT {self._RUN_COLUMNS} FROM runs r "
                "ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_run_dict(row) for row in rows]

    def run(self, run_id: str) -> dict | None:
        """One run by id or by a unique prefix of its id."""
        with self._db() as db:
            rows = db.execute(
                f"SELECT {self._RUN_COLUMNS} FROM runs r WHERE r.id = ? OR r.id LIKE ? ESCAPE '\\' "
                "ORDER BY r.id = ? DESC LIMIT 2",
                (run_id, _like_prefix(run_id), run_id),
            ).fetchall()
        if not rows:
            return None
        if len(rows) > 1 and rows[0]["id"] != run_id:
            raise LedgerError(f"{run_id!r} matches several runs; give more of the id")
        return _run_dict(rows[0])

    def calls(self, run_id: str) -> list[dict]:
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM calls WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
        return [_call_dict(row) for row in rows]

    def total_cost(self, run_id: str | None = None) -> float:
        """Sum of what the recorded calls cost (of one run, or of all)."""
        with self._db() as db:
            if run_id is None:
                row = db.execute("SELECT COALESCE(SUM(cost_usd), 0) FROM calls").fetchone()
            else:
                row = db.execute(
                    "SELECT COALESCE(SUM(cost_usd), 0) FROM calls WHERE run_id = ?", (run_id,)
                ).fetchone()
        return float(row[0])

    def largest_ratios(self, model: str) -> tuple[float | None, float | None]:
        """The largest reported/estimated prompt ratio and reported/max_tokens completion
        ratio of ``model``'s answered calls in every run so far (None: no history)."""
        with self._db() as db:
            row = db.execute(
                "SELECT MAX(CAST(prompt_tokens AS REAL) / prompt_estimate), "
                "MAX(CAST(completion_tokens AS REAL) / max_tokens) FROM calls "
                "WHERE model = ? AND outcome = 'ok' AND prompt_estimate > 0 AND max_tokens > 0",
                (model,),
            ).fetchone()
        return row[0], row[1]

    def stats(self, by: str | None = None) -> list[dict] | dict:
        """Totals over all runs, or one row per ``strategy`` or per ``model``."""
        from .stats import model_rows, strategy_rows, totals

        with self._db() as db:
            if by is None:
                return totals(db)
            if by == "strategy":
                return strategy_rows(db)
            if by == "model":
                return model_rows(db)
        raise ValueError(f"unknown grouping {by!r}: expected 'strategy' or 'model'")


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _run_dict(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    data["tiers"] = json.loads(data.get("tiers") or "{}")
    data["meta"] = json.loads(data.get("meta") or "{}")
    if data.get("cost_usd") is None:  # unfinished: what its calls cost so far
        data["cost_usd"] = data.get("calls_cost") or 0.0
    if data.get("strong_only_cost_usd") is None:
        data["strong_only_cost_usd"] = data.get("calls_strong_cost")
    data.pop("calls_cost", None)
    data.pop("calls_strong_cost", None)
    data["cost_known"] = not data.pop("unpriced_calls", 0)
    data["strong_used"] = bool(data.pop("strong_calls", 0))
    return data


def _call_dict(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    data["cost_known"] = bool(data["cost_known"])
    return data
