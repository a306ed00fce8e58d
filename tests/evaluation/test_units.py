"""Shards, pairs, the shared budget, the Pareto frontier and the chart."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from swcollab.errors import BudgetExhausted, Interrupted, UsageError
from swcollab.evaluation.budget import EvalControl, RunBudget
from swcollab.evaluation.chart import pareto_frontier
from swcollab.evaluation.combos import parse_pair, parse_shard, shard
from swcollab.evaluation.summary import ComboRow
from swcollab.evaluation.tasks import EvalTask


def _task(i: int) -> EvalTask:
    return EvalTask(f"t-{i:02d}", "o/r", "b", "p", "", "t", ("x",), ())


def test_shards_are_deterministic_and_cover_everything():
    tasks = [_task(i) for i in range(10)]
    shuffled = tasks[::-1]
    parts = [shard(shuffled, (i, 3)) for i in (1, 2, 3)]
    assert [len(p) for p in parts] == [4, 3, 3]
    ids = [t.instance_id for p in parts for t in p]
    assert sorted(ids) == [t.instance_id for t in tasks] and len(set(ids)) == 10
    assert parts[0] == shard(tasks, (1, 3))


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0"])
def test_bad_shard_is_a_usage_error(text):
    with pytest.raises(UsageError):
        parse_shard(text)


def test_pairs():
    assert parse_pair("weak=openai/gpt-4o-mini,strong=o3-mini").strong == "o3-mini"
    assert parse_pair("strong=x").weak == ""
    with pytest.raises(UsageError):
        parse_pair("gpt-4o")


def test_run_budget_holds_both_caps_across_threads():
    control = EvalControl(1.0)
    budgets = [RunBudget(0.3, control) for _ in range(5)]
    refused = []

    def spend(budget: RunBudget) -> None:
        for _ in range(3):
            try:
                budget.reserve(0.1, "a call")
            except BudgetExhausted:
                refused.append(budget)
                return
            budget.settle(0.1, 0.1)

    threads = [threading.Thread(target=spend, args=(b,)) for b in budgets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert control.budget.spent == pytest.approx(1.0)
    assert all(b.spent <= 0.3 + 1e-9 for b in budgets)
    assert control.budget_out.is_set()
    assert any(b.hit_eval_cap for b in refused)


def test_stopping_refuses_the_next_call():
    control = EvalControl(None)
    budget = RunBudget(None, control)
    control.stopping.set()
    with pytest.raises(Interrupted):
        budget.reserve(0.0, "a call")


def _row(strategy: str, cost: float, resolved: int) -> ComboRow:
    return ComboRow(
        strategy,
        "w",
        "s",
        "0",
        tasks=10,
        resolved=resolved,
        cost_usd=cost,
        weak_alone=0,
        strong_calls=0,
        median_s=1.0,
    )


def test_pareto_frontier():
    rows = [
        _row("weak", 1.0, 2),
        _row("cascade", 3.0, 6),
        _row("plan", 4.0, 5),
        _row("strong", 9.0, 7),
        _row("route", 9.5, 7),
    ]
    assert [r.strategy for r in pareto_frontier(rows)] == ["weak", "cascade", "strong"]


def test_chart_png_and_svg(tmp_path: Path):
    pytest.importorskip("matplotlib", reason="the eval extra (matplotlib) is not installed")
    from swcollab.evaluation.chart import draw_chart

    rows = [_row("weak", 1.0, 2), _row("cascade", 3.0, 6), _row("strong", 9.0, 7)]
    paths = draw_chart(rows, tmp_path / "out" / "eval")
    assert [p.name for p in paths] == ["eval.png", "eval.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = paths[1].read_text()
    assert "Pareto frontier" in svg and "cascade (w, s)" in svg


def test_hidden_tests_run_in_the_sandbox(tmp_path) -> None:
    """The eval's hidden-test runs are model-judging runs of model-written code: sandboxed."""
    import sys

    from swcollab.evaluation.hidden import TestConfig, probe
    from swcollab.sandbox import TestCommand

    (tmp_path / "test_where.py").write_text(
        "def test_in_the_sandbox():\n"
        "    init = open('/proc/1/cmdline', 'rb').read().split(b'\\0')[0]\n"
        "    assert init.endswith(b'bwrap')  # the PID namespace's init is bwrap's\n"
    )
    command = TestCommand((sys.executable, "-m", "pytest", "-q"), "test")
    found = probe(tmp_path, command, TestConfig(timeout=120), files=["test_where.py"])
    assert found.statuses == {"test_where.py::test_in_the_sandbox": "passed"}, found


def test_the_worst_case_of_a_three_tier_cascade_prices_the_middle_tier() -> None:
    """``tier_order = "weak,mid,strong"``: the dry run's estimate once ended in KeyError."""
    from swcollab.config import Settings, TierSettings
    from swcollab.evaluation.combos import worst_case_run_usd

    def priced(name: str, price: float) -> TierSettings:
        return TierSettings(
            name, model=f"openai/{name}-x", input_cost_per_mtok=price, output_cost_per_mtok=price
        )

    two = Settings(weak=priced("weak", 1.0), strong=priced("strong", 10.0), budget=100.0)
    three = Settings(
        weak=two.weak,
        strong=two.strong,
        extra_tiers=(priced("mid", 5.0),),
        tier_order="weak,mid,strong",
        budget=100.0,
    )
    assert worst_case_run_usd(three) > worst_case_run_usd(two) > 0


def test_an_eval_run_starts_with_the_repositorys_flaky_tests_and_gives_back_its_own(
    tmp_path: Path,
):
    from swcollab.engine.flaky import ledger_rows
    from swcollab.engine.types import FlakyTest
    from swcollab.evaluation.runner import _run_state
    from swcollab.gitrepo import RepoPaths
    from swcollab.models.ledger import Ledger

    repo = RepoPaths(root=tmp_path, common_dir=tmp_path / ".git")
    known = FlakyTest("tests/test_a.py::test_pager[3]", 3, 1, 1, 0)
    with Ledger.open(repo.state_dir) as ledger:
        ledger.remember_flaky(ledger_rows([known], "r1", "abc"))
    found = FlakyTest("tests/test_b.py::test_clock", 2, 1, 2, 0)
    with _run_state(repo) as run_repo:
        assert run_repo.state_dir != repo.state_dir
        with Ledger.open(run_repo.state_dir) as ledger:
            assert [r["test_id"] for r in ledger.flaky_tests()] == [known.test_id]
            ledger.remember_flaky(ledger_rows([found], "r2", "def"))  # as a run would
        with Ledger.open(repo.state_dir) as ledger:  # the repository's: not yet
            ledger.forget_flaky([known.test_id])  # meanwhile, the user forgets one
            assert ledger.flaky_tests() == []
    with Ledger.open(repo.state_dir) as ledger:
        rows = {r["test_id"]: r for r in ledger.flaky_tests()}
    assert set(rows) == {found.test_id}  # what the run found; what it was given stays gone
    assert rows[found.test_id]["run_id"] == "r2" and rows[found.test_id]["base"] == "def"
