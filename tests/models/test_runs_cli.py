"""`swc runs`, `swc runs show`, `swc stats`: what a user sees of the ledger."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from swcollab.cli import cli
from swcollab.models import Budget, Ledger, ModelClient
from tests.fakes.openai_server import FakeOpenAI, FakeResponse

from .helpers import FAST, fake_settings, user


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COLUMNS", "200")  # rich tables: no wrapping in assertions
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def swc(repo: Path, *args: str):
    return CliRunner().invoke(cli, ["--repo", str(repo), *args])


def state_dir(repo: Path) -> Path:
    return repo / ".git" / "swc"


def one_real_run(repo: Path, fake: FakeOpenAI) -> str:
    """A run whose calls went through ModelClient and the loopback server."""
    ledger = Ledger.open(state_dir(repo))
    run_id = ledger.start_run(
        task="add() subtracts",
        strategy="cascade",
        tiers={"weak": "openai/weak-model", "strong": "openai/strong-model"},
        base="0123abc",
    )
    fake.enqueue(
        FakeResponse(content="weak draft", prompt_tokens=1000, completion_tokens=100),
        FakeResponse(content="strong fix", prompt_tokens=2000, completion_tokens=200),
    )
    client = ModelClient(
        fake_settings(fake), budget=Budget(1.0), ledger=ledger, run_id=run_id, backoff=FAST
    )
    with client:
        client.complete("weak", user("fix add"), purpose="patch")
        client.complete("strong", user("fix add again"), purpose="patch")
    ledger.finish_run(
        run_id,
        verdict="fixed",
        branch="swc/add-subtracts",
        cost_usd=client.budget.spent,
        strong_only_cost_usd=None,
        report_path=None,
    )
    ledger.close()
    return run_id


def test_no_ledger_yet(repo: Path):
    result = swc(repo, "runs")
    assert result.exit_code == 0 and "No runs recorded yet" in result.stdout
    assert json.loads(swc(repo, "runs", "--json").stdout) == []
    assert "No runs recorded yet" in swc(repo, "stats").stdout
    assert not (state_dir(repo) / "ledger.db").exists()  # looking creates nothing


def test_runs_lists_and_shows_a_run_made_through_the_client(repo: Path, fake_llm: FakeOpenAI):
    run_id = one_real_run(repo, fake_llm)
    # weak 1000/100 tokens at $1/$2 per M, strong 2000/200 at $10/$40 per M
    cost = (1000 * 1 + 100 * 2 + 2000 * 10 + 200 * 40) / 1e6

    listed = swc(repo, "runs")
    assert listed.exit_code == 0, listed.output
    assert run_id in listed.stdout and "fixed" in listed.stdout
    assert f"${cost:.4f}" in listed.stdout and "swc/add-subtracts" in listed.stdout

    [row] = json.loads(swc(repo, "runs", "--json").stdout)
    assert row["id"] == run_id and row["calls"] == 2
    assert row["cost_usd"] == pytest.approx(cost) and row["strong_used"] is True

    shown = swc(repo, "runs", "show", run_id[:17])  # a unique prefix is enough
    assert shown.exit_code == 0, shown.output
    assert "openai/weak-model" in shown.stdout and "openai/strong-model" in shown.stdout
    assert "1000" in shown.stdout and "2000" in shown.stdout
    document = json.loads(swc(repo, "runs", "show", run_id, "--json").stdout)
    assert [c["tier"] for c in document["calls"]] == ["weak", "strong"]
    assert document["run"] == row  # the same shape as in `swc runs --json`
    assert document["run"]["strong_only_cost_usd"] == pytest.approx((3000 * 10 + 300 * 40) / 1e6)


def test_show_unknown_run(repo: Path, fake_llm: FakeOpenAI):
    one_real_run(repo, fake_llm)
    result = swc(repo, "runs", "show", "nope")
    assert result.exit_code == 2 and "no run 'nope'" in result.stderr


def _seed(ledger: Ledger) -> None:
    """Three runs with known numbers: two fixed (one needing the strong tier), one not."""

    def run(strategy: str, verdict: str, calls: list[tuple[str, float, float]]) -> None:
        run_id = ledger.start_run(task=verdict, strategy=strategy, tiers={}, base="b")
        for tier, cost, strong_cost in calls:
            ledger.record_call(
                run_id,
                tier=tier,
                model=f"m-{tier}",
                purpose="patch",
                prompt_tokens=10,
                completion_tokens=5,
                cost_usd=cost,
                cost_known=True,
                latency_s=1.0,
                outcome="ok",
                strong_cost_usd=strong_cost,
            )
        ledger.finish_run(
            run_id,
            verdict=verdict,
            branch=None,
            cost_usd=sum(c[1] for c in calls),
            strong_only_cost_usd=None,
            report_path=None,
        )

    run("cascade", "fixed", [("weak", 0.01, 0.10)])
    run("cascade", "fixed", [("weak", 0.01, 0.10), ("strong", 0.20, 0.20)])
    run("weak", "not_fixed", [("weak", 0.02, 0.20)])


def test_stats_totals(repo: Path):
    with Ledger.open(state_dir(repo)) as ledger:
        _seed(ledger)
    totals = json.loads(swc(repo, "stats", "--json").stdout)
    assert totals["runs"] == 3 and totals["fixed"] == 2
    assert totals["fixed_pct"] == pytest.approx(200 / 3)
    assert totals["spend_usd"] == pytest.approx(0.24)
    assert totals["cost_per_fixed_usd"] == pytest.approx(0.12)
    assert totals["strong_runs"] == 1
    assert totals["strong_only_usd"] == pytest.approx(0.60)
    assert totals["saving_usd"] == pytest.approx(0.36)
    assert totals["saving_pct"] == pytest.approx(60.0)

    text = swc(repo, "stats").stdout
    assert "2 of 3 finished (67%)" in text
    assert "needed in 1 of 3 runs (33%)" in text
    assert "$0.6000 estimated" in text and "$0.3600 (60%)" in text


def test_stats_by_strategy_and_model(repo: Path):
    with Ledger.open(state_dir(repo)) as ledger:
        _seed(ledger)
    rows = json.loads(swc(repo, "stats", "--by", "strategy", "--json").stdout)
    assert [(r["strategy"], r["runs"], r["fixed"]) for r in rows] == [
        ("cascade", 2, 2),
        ("weak", 1, 0),
    ]
    models = json.loads(swc(repo, "stats", "--by", "model", "--json").stdout)
    assert {m["model"]: m["calls"] for m in models} == {"m-weak": 3, "m-strong": 1}
    text = swc(repo, "stats", "--by", "strategy").stdout
    assert "cascade" in text and "weak" in text


def test_corrupt_ledger_is_a_clear_error(repo: Path):
    state_dir(repo).mkdir(parents=True)
    (state_dir(repo) / "ledger.db").write_bytes(b"this is not sqlite" * 100)
    for args in (["runs"], ["stats"], ["runs", "show", "x"]):
        result = swc(repo, *args)
        assert result.exit_code == 3, result.output
        assert "run ledger" in result.stderr and "cannot be used" in result.stderr
        assert "mv " in result.stderr and "Traceback" not in result.output


def test_outside_a_repository(tmp_path: Path):
    result = CliRunner().invoke(cli, ["--repo", str(tmp_path), "runs"])
    assert result.exit_code == 3 and "not inside a git repository" in result.stderr


def _remember(repo: Path, *test_ids: str) -> None:
    with Ledger.open(state_dir(repo)) as ledger:
        ledger.remember_flaky(
            {
                "test_id": test_id,
                "run_id": "20260101-000000-abcd",
                "base": "0123abc",
                "candidate_runs": 4,
                "candidate_failures": 1,
                "base_runs": 1,
                "base_failures": 0,
            }
            for test_id in test_ids
        )


def test_runs_flaky_lists_and_forgets_the_tests_found_flaky(repo: Path):
    assert "No flaky test is remembered" in swc(repo, "runs", "flaky").stdout
    assert not (state_dir(repo) / "ledger.db").exists()  # looking creates nothing
    pager = "tests/test_utils.py::test_echo_via_pager[test0-cat]"
    _remember(repo, pager, "tests/test_b.py::test_slow")

    listed = swc(repo, "runs", "flaky")
    assert listed.exit_code == 0
    assert f"{pager}  failed 1 of 4 run(s) on a candidate, 0 of 1 on the base" in listed.stdout
    assert "by run 20260101-000000-abcd" in listed.stdout
    rows = json.loads(swc(repo, "runs", "flaky", "--json").stdout)
    assert [r["test_id"] for r in rows] == ["tests/test_b.py::test_slow", pager]

    refused = swc(repo, "runs", "flaky", pager)  # an id without --clear forgets nothing
    assert refused.exit_code != 0 and "only taken with --clear" in refused.stderr
    unknown = swc(repo, "runs", "flaky", "--clear", "tests/test_b.py::test_typo")
    assert unknown.exit_code != 0
    assert "no flaky test 'tests/test_b.py::test_typo' is remembered" in unknown.stderr
    assert len(json.loads(swc(repo, "runs", "flaky", "--json").stdout)) == 2

    one = json.loads(swc(repo, "runs", "flaky", "--clear", pager, "--json").stdout)
    assert one["forgotten"] == 1
    assert [r["test_id"] for r in one["flaky_tests"]] == ["tests/test_b.py::test_slow"]
    cleared = swc(repo, "runs", "flaky", "--clear")
    assert "Forgot 1 flaky test(s)" in cleared.stdout
    assert "No flaky test is remembered" in swc(repo, "runs", "flaky").stdout
