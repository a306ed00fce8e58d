"""``swc eval`` end to end: a made-up history mined into tasks, scripted loopback models,
real worktrees and test runs; the table checked against what the fixture implies."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from swcollab.cli import cli
from tests.evaluation.conftest import HIDDEN, Models, git, task_of


def swc(root: Path, *args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(cli, ["--repo", str(root), "eval", *args], catch_exceptions=False)
    try:
        document = json.loads(result.stdout) if result.stdout.strip() else {}
    except json.JSONDecodeError:
        document = {"text": result.stdout}
    return result.exit_code, document, result.stderr


def table(document: dict) -> dict[str, dict]:
    return {row["strategy"]: row for row in document["table"]}


def test_mining_finds_the_three_fixes(history, tmp_path):
    root, shas = history
    saved = tmp_path / "tasks.jsonl"
    code, doc, err = swc(
        root,
        "--from-history",
        "--save",
        str(saved),
        "--dry-run",
        "--json",
        "--test-cmd",
        f"{sys.executable} -m pytest -q",
        "--pairs",
        "weak=openai/w,strong=openai/s",
    )
    assert code == 0, err
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    by_commit = {t["fix_commit"]: t for t in lines}
    assert set(by_commit) == set(shas.values())
    for name, sha in shas.items():
        task = by_commit[sha]
        path, test, _ = HIDDEN[name]
        assert task["FAIL_TO_PASS"] == [f"{path}::{test}"]
        assert task["base_commit"] == git(root, "rev-parse", f"{sha}^").strip()
        assert f"task-{name}" in task["problem_statement"]
        assert test in task["test_patch"] and test not in task["patch"]
        assert "calc/ops.py" in task["patch"]
    alpha = by_commit[shas["alpha"]]
    assert alpha["PASS_TO_PASS"] == ["tests/test_ops.py::test_sub"]
    reasons = {s["reason"] for s in doc["skips"]}
    assert {"changes no test files", "changes no source files"} <= reasons
    assert doc["tasks"] == 3 and doc["runs_to_do"] == 9 and doc["dry_run"]


def test_table_matches_the_scripted_models(history, models: Models, fake_llm, tmp_path):
    root, _ = history
    db = tmp_path / "eval.db"
    spent: dict[str, float] = {}
    strong_calls: dict[str, int] = {}
    for strategy in ("weak", "strong", "cascade"):
        before = len(models.calls)
        code, doc, err = swc(
            root, "--from-history", "--strategies", strategy, "--db", str(db), "--json"
        )
        assert code == 0, err
        calls = models.calls[before:]
        spent[strategy] = Models(calls=calls).cost()
        strong_calls[strategy] = sum(1 for c in calls if c[0] == "strong")
        assert doc["spent_usd"] == pytest.approx(spent[strategy], rel=1e-9)

    requests = len(fake_llm.requests)
    markdown = tmp_path / "report.md"
    code, doc, _ = swc(
        root,
        "--from-history",
        "--strategies",
        "weak,strong,cascade",
        "--db",
        str(db),
        "--json",
        "--markdown",
        str(markdown),
        "--csv",
        str(tmp_path / "t.csv"),
    )
    assert code == 0
    assert len(fake_llm.requests) == requests, "a repeated eval must reuse the results"
    assert doc["runs_reused"] == 9 and doc["runs_to_do"] == 0
    rows = table(doc)
    assert (rows["weak"]["resolved"], rows["strong"]["resolved"], rows["cascade"]["resolved"]) == (
        1,
        3,
        3,
    )
    assert rows["weak"]["resolve_rate"] == pytest.approx(1 / 3)
    for strategy, row in rows.items():
        assert row["tasks"] == 3
        assert row["cost_usd"] == pytest.approx(spent[strategy], rel=1e-9)
        assert row["strong_calls"] == strong_calls[strategy]
    assert rows["cascade"]["weak_alone"] == 1 and rows["weak"]["weak_alone"] == 1
    assert rows["strong"]["weak_alone"] == 0 and rows["strong"]["strong_calls"] > 0
    assert rows["cascade"]["cost_per_resolved_usd"] == pytest.approx(spent["cascade"] / 3)
    assert rows["weak"]["cost_per_resolved_usd"] == pytest.approx(spent["weak"])
    assert rows["cascade"]["saved_vs_strong_usd"] == pytest.approx(
        spent["strong"] - spent["cascade"], rel=1e-9
    )
    assert rows["weak"]["weak_model"] == "openai/weak-model"
    assert rows["weak"]["strong_model"] == "-" and rows["strong"]["weak_model"] == "-"

    # A task's hidden tests, and anything committed at or after its fix, never reached a
    # model in that task's runs (earlier fixes are history before the base: fair game).
    order = list(HIDDEN)
    prompts = fake_llm.prompts()
    assert prompts
    for prompt in prompts:
        name = task_of(prompt)
        assert name is not None
        for later in order[order.index(name) :]:
            _path, test, text = HIDDEN[later]
            assert test not in prompt
            assert text.splitlines()[-1].strip() not in prompt

    report = markdown.read_text()
    assert "| cascade (openai/weak-model, openai/strong-model) | 3 | 3 | 100.0%" in report
    assert "return a + b" in report  # the per-task view holds the diffs
    assert (tmp_path / "t.csv").read_text().startswith("strategy,weak_model,strong_model")

    # results are kept as diffs: no branch, no worktree left, the checkout untouched
    assert git(root, "branch", "--format=%(refname:short)").split() == ["main"]
    assert git(root, "worktree", "list").count("\n") == 1
    assert git(root, "status", "--porcelain") == ""

    task_id = doc["task_ids"][0]
    code, shown, _ = swc(root, "show", task_id, "--db", str(db), "--json")
    assert code == 0 and len(shown["runs"]) == 3
    assert all(r["resolved"] for r in shown["runs"] if r["strategy"] != "weak")


def test_resume_after_interrupt_does_not_repeat_work(history, models: Models, tmp_path):
    import _thread

    root, _ = history
    db = tmp_path / "eval.db"
    seen: list[str] = []

    def interrupt_on_second_task(tier: str, task: str) -> None:
        if task not in seen:
            seen.append(task)
            if len(seen) == 2:
                _thread.interrupt_main()  # Ctrl-C while the second task's run is going

    models.on_request = interrupt_on_second_task
    code, _doc, err = swc(root, "--from-history", "--strategies", "weak", "--db", str(db))
    assert code == 130, err
    first_task = seen[0]
    models.on_request = None
    before = len(models.calls)
    code, doc, err = swc(root, "--from-history", "--strategies", "weak", "--db", str(db), "--json")
    assert code == 0, err
    assert doc["runs_reused"] == 1 and doc["runs_to_do"] == 2
    assert first_task not in {name for _t, _k, name, _p, _c in models.calls[before:]}
    assert git(root, "worktree", "list").count("\n") == 1  # the interrupted run cleaned up
    assert table(doc)["weak"]["tasks"] == 3


def test_a_swallowed_interrupt_still_stops_the_eval(history, models: Models, tmp_path):
    """Ctrl-C whose KeyboardInterrupt is lost (raised in a finalizer, a weakref callback or
    a library's broad ``except``): the eval stops all the same, and resumes later."""
    import contextlib
    import signal

    root, _ = history
    db = tmp_path / "eval.db"
    seen: list[str] = []

    def swallowed_ctrl_c_on_second_task(tier: str, task: str) -> None:
        if task not in seen:
            seen.append(task)
            if len(seen) == 2:
                handler = signal.getsignal(signal.SIGINT)
                assert callable(handler)
                # swc's handler runs, and its raise is lost (here, in the server's thread)
                with contextlib.suppress(KeyboardInterrupt):
                    handler(signal.SIGINT, None)

    models.on_request = swallowed_ctrl_c_on_second_task
    code, _doc, err = swc(root, "--from-history", "--strategies", "weak", "--db", str(db))
    assert code == 130, err
    assert "interrupted" in err
    assert len(seen) == 2  # stopped in the second task: the third never started
    models.on_request = None
    code, doc, err = swc(root, "--from-history", "--strategies", "weak", "--db", str(db), "--json")
    assert code == 0, err
    assert doc["runs_reused"] == 1 and doc["runs_to_do"] == 2
    assert git(root, "worktree", "list").count("\n") == 1


def test_two_shards_merged_equal_one_full_run(history, models: Models, tmp_path):
    root, _ = history
    shard_dbs = []
    for index in (1, 2):
        db = tmp_path / f"shard-{index}.db"
        code, doc, err = swc(
            root,
            "--from-history",
            "--strategies",
            "weak",
            "--shard",
            f"{index}/2",
            "--db",
            str(db),
            "--json",
            "-j",
            "2",
        )
        assert code == 0, err
        assert doc["tasks"] == (2 if index == 1 else 1)
        shard_dbs.append(db)
    code, merged, err = swc(
        root, "merge", *map(str, shard_dbs), "--into", str(tmp_path / "merged.db"), "--json"
    )
    assert code == 0, err
    code, full, err = swc(
        root, "--from-history", "--strategies", "weak", "--db", str(tmp_path / "full.db"), "--json"
    )
    assert code == 0, err

    def comparable(rows: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "median_wall_s"} for r in rows]

    assert comparable(merged["table"]) == comparable(full["table"])
    assert merged["table"][0]["tasks"] == 3


def test_eval_budget_is_never_overrun(history, models: Models, tmp_path):
    root, _ = history
    db = tmp_path / "eval.db"
    code, doc, err = swc(
        root,
        "--from-history",
        "--strategies",
        "weak",
        "--db",
        str(db),
        "--budget",
        "0.0001",
        "--json",
    )
    assert code == 4, err
    assert doc["stopped"] == "budget"
    assert models.calls == [] and doc["spent_usd"] == 0.0
    assert doc["table"] == []  # the run cut short is not a result...
    code, doc, err = swc(
        root, "--from-history", "--strategies", "weak", "--db", str(db), "--dry-run", "--json"
    )
    assert doc["runs_to_do"] == 3  # ...so the next eval does it
    assert 0 < doc["worst_case_usd"] <= 3 * 1.0
