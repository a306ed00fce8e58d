"""The run ledger: schema, migrations, concurrent writers, damage."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from swcollab.errors import EXIT_ENVIRONMENT, LedgerError
from swcollab.models import Ledger
from swcollab.models.ledger import MIGRATIONS, m001_runs_and_calls
from swcollab.sqlitedb import migrate

EXPECTED_RUN_COLUMNS = {
    "id",
    "task",
    "strategy",
    "tiers",
    "base",
    "started_at",
    "finished_at",
    "verdict",
    "branch",
    "cost_usd",
    "strong_only_cost_usd",
    "report_path",
    "meta",
}
EXPECTED_CALL_COLUMNS = {
    "id",
    "run_id",
    "at",
    "tier",
    "model",
    "purpose",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "cost_known",
    "strong_cost_usd",
    "latency_s",
    "outcome",
    "detail",
    "reserved_usd",
    "prompt_estimate",
    "max_tokens",
    "prompt_hash",
    "cached_tokens",
    "cache_write_tokens",
    "uncached_cost_usd",
    "samples",
    "answers",
}


def columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def call(ledger: Ledger, run_id: str | None, **overrides) -> None:
    fields = dict(
        tier="weak",
        model="m",
        purpose="patch",
        prompt_tokens=10,
        completion_tokens=5,
        cost_usd=0.01,
        cost_known=True,
        latency_s=0.5,
        outcome="ok",
    )
    ledger.record_call(run_id, **{**fields, **overrides})


def test_blank_database_gets_the_schema_and_records_migrations(tmp_path: Path):
    with Ledger.open(tmp_path):
        pass
    path = tmp_path / "ledger.db"
    assert columns(path, "runs") == EXPECTED_RUN_COLUMNS
    assert columns(path, "calls") == EXPECTED_CALL_COLUMNS
    with sqlite3.connect(path) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM _migrations")]
    assert names == [m.__name__ for m in MIGRATIONS]


def test_reopening_keeps_the_data(tmp_path: Path):
    with Ledger.open(tmp_path) as ledger:
        run_id = ledger.start_run(task="t", strategy="weak", tiers={"weak": "m"}, base="b")
        call(ledger, run_id)
    with Ledger.open(tmp_path) as ledger:
        assert [c["model"] for c in ledger.calls(run_id)] == ["m"]


def test_run_lifecycle(tmp_path: Path):
    with Ledger.open(tmp_path) as ledger:
        run_id = ledger.start_run(
            task="fix it",
            strategy="cascade",
            tiers={"weak": "a", "strong": "b"},
            base="abc",
            meta={"issue": 7},
        )
        running = ledger.run(run_id)
        assert running is not None and running["verdict"] is None
        call(ledger, run_id, cost_usd=0.25, strong_cost_usd=1.0)
        call(ledger, run_id, tier="strong", cost_usd=0.0, cost_known=False, outcome="ok")
        assert ledger.run(run_id)["cost_usd"] == pytest.approx(0.25)  # so far, from calls
        ledger.finish_run(
            run_id,
            verdict="fixed",
            branch="swc/x",
            cost_usd=0.25,
            strong_only_cost_usd=None,
            report_path="/r.md",
            meta={"k": 2},
        )
        run = ledger.run(run_id)
    assert run["verdict"] == "fixed" and run["branch"] == "swc/x"
    assert run["tiers"] == {"weak": "a", "strong": "b"}
    assert run["meta"] == {"issue": 7, "k": 2}
    assert run["strong_only_cost_usd"] == pytest.approx(1.0)
    assert run["cost_known"] is False and run["strong_used"] is True
    assert run["calls"] == 2 and run["finished_at"]


def test_prefix_lookup(tmp_path: Path):
    with Ledger.open(tmp_path) as ledger:
        ids = [ledger.start_run(task=str(n), strategy="weak", tiers={}, base="b") for n in range(2)]
        assert ledger.run(ids[0])["id"] == ids[0]
        assert ledger.run(ids[1][-4:]) is None  # a prefix, not any substring
        assert ledger.run("19990101") is None
        if ids[0][:16] == ids[1][:16]:  # same second: the shared prefix is ambiguous
            with pytest.raises(LedgerError, match="several runs"):
                ledger.run(ids[0][:16])


def test_runs_are_listed_newest_first(tmp_path: Path):
    with Ledger.open(tmp_path) as ledger:
        ids = [ledger.start_run(task=str(n), strategy="weak", tiers={}, base="b") for n in range(5)]
        listed = [r["id"] for r in ledger.runs(limit=3)]
    assert listed == list(reversed(ids))[:3]


def test_calls_from_many_threads(tmp_path: Path):
    with Ledger.open(tmp_path) as ledger:
        run_id = ledger.start_run(task="t", strategy="weak", tiers={}, base="b")

        def work() -> None:
            for _ in range(25):
                call(ledger, run_id, cost_usd=0.001)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(ledger.calls(run_id)) == 100
        assert ledger.total_cost(run_id) == pytest.approx(0.1)


def test_damaged_file_is_a_ledger_error(tmp_path: Path):
    (tmp_path / "ledger.db").write_bytes(b"\x00garbage" * 512)
    with pytest.raises(LedgerError) as caught:
        Ledger.open(tmp_path)
    assert caught.value.exit_code == EXIT_ENVIRONMENT
    assert "run ledger" in caught.value.message
    assert "mv " in (caught.value.hint or "")


def test_unknown_run_cannot_be_finished(tmp_path: Path):
    with Ledger.open(tmp_path) as ledger, pytest.raises(LedgerError, match="no run"):
        ledger.finish_run(
            "nope",
            verdict="fixed",
            branch=None,
            cost_usd=0,
            strong_only_cost_usd=None,
            report_path=None,
        )


def test_ledger_of_the_first_schema_is_upgraded_in_place(tmp_path: Path):
    """A ledger written before calls kept their reservation keeps its rows and gains it."""
    path = tmp_path / "ledger.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, [m001_runs_and_calls])
    conn.execute(
        "INSERT INTO runs (id, task, strategy, tiers, base, started_at) "
        "VALUES ('r1', 't', 'weak', '{}', 'b', 'now')"
    )
    conn.execute(
        "INSERT INTO calls (run_id, at, tier, model, purpose, prompt_tokens, "
        "completion_tokens, cost_usd, cost_known, latency_s, outcome) "
        "VALUES ('r1', 'now', 'weak', 'm', 'patch', 10, 5, 0.01, 1, 0.1, 'ok')"
    )
    conn.close()
    with Ledger.open(tmp_path) as ledger:
        [old] = ledger.calls("r1")
        assert old["reserved_usd"] is None and old["prompt_hash"] is None
        assert (old["cached_tokens"], old["samples"]) == (0, 1)  # no cache, one answer
        assert ledger.largest_ratios("m") == (None, None)  # old rows teach nothing
        call(
            ledger,
            "r1",
            prompt_tokens=30,
            completion_tokens=50,
            prompt_estimate=10,
            max_tokens=100,
            reserved_usd=0.5,
            prompt_hash="h",
        )
        assert ledger.largest_ratios("m") == (pytest.approx(3.0), pytest.approx(0.5))
    assert columns(path, "calls") == EXPECTED_CALL_COLUMNS
