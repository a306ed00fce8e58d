"""One way to open swc's SQLite databases: WAL, a busy timeout, ordered named migrations.

Each database (tag cache, run ledger, eval results) declares its migrations as a list of
small named functions; each is applied once and recorded by name. A shipped migration is
never edited: a fix-up is a new migration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import LedgerError

Migration = Callable[[sqlite3.Connection], None]

BUSY_TIMEOUT_MS = 30_000


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> list[str]:
    """Apply the migrations not yet recorded; returns the names applied now."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT "
        "DEFAULT CURRENT_TIMESTAMP)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for migration in migrations:
        name = migration.__name__
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it while we waited for the lock.
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                conn.execute("COMMIT")
                continue
            migration(conn)
            conn.execute("INSERT INTO _migrations (name) VALUES (?)", (name,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


def open_db(path: Path, migrations: Sequence[Migration], *, what: str) -> sqlite3.Connection:
    """Open (creating if needed) and migrate a database; damage becomes a ``LedgerError``.

    ``what`` names the database in messages ("run ledger", "tag cache").
    """
    try:
        conn = _connect(path)
        conn.execute("PRAGMA schema_version").fetchone()
        migrate(conn, migrations)
        return conn
    except sqlite3.DatabaseError as exc:
        raise LedgerError(
            f"the {what} at {path} cannot be used: {exc}",
            hint=f"Move it aside (mv {path} {path}.broken) and swc will start a new one.",
        ) from None


def open_or_rebuild(
    path: Path, migrations: Sequence[Migration], *, what: str
) -> tuple[sqlite3.Connection, str | None]:
    """For caches, which can always be rebuilt: on damage, move the file aside and start over.

    Returns the connection and a warning for the user when the file had to be rebuilt.
    """
    try:
        return open_db(path, migrations, what=what), None
    except LedgerError as exc:
        for suffix in ("", "-wal", "-shm"):
            stale = Path(str(path) + suffix)
            if stale.exists():
                stale.replace(Path(str(path) + suffix + ".broken"))
        warning = f"{exc.message}; rebuilt it (old file kept as {path.name}.broken)"
        return open_db(path, migrations, what=what), warning
