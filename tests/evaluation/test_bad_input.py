"""Bad task input is skipped with its reason and counted; the eval goes on."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from swcollab.cli import cli
from swcollab.evaluation.hidden import TestConfig
from swcollab.evaluation.mining import mine_commit
from swcollab.evaluation.tasks import EvalTask, read_jsonl, task_from_json

PYTEST = f"{sys.executable} -m pytest -q"


def test_jsonl_lines_are_checked_one_by_one(tmp_path: Path):
    good = {
        "instance_id": "a-1",
        "repo": "o/a",
        "base_commit": "abc",
        "problem_statement": "x",
        "patch": "",
        "test_patch": "diff --git a/t.py b/t.py\n",
        "FAIL_TO_PASS": '["t.py::test_x"]',
        "PASS_TO_PASS": "[]",
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "instance_id": "a-2", "base_commit": None}),
        json.dumps({**good, "instance_id": "a-3", "FAIL_TO_PASS": "[oops"}),
        "",
        json.dumps({**good, "instance_id": "a-4", "PASS_TO_PASS": [1]}),
        json.dumps(good),
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    tasks, skips = read_jsonl(path)
    assert [t.instance_id for t in tasks] == ["a-1"]
    assert tasks[0].fail_to_pass == ("t.py::test_x",)  # a JSON string, as published
    reasons = [s.reason for s in skips]
    assert reasons[0].startswith("line 2: not valid JSON")
    assert reasons[1] == "line 3: field 'base_commit' is missing"
    assert reasons[2].startswith("line 4: field 'FAIL_TO_PASS' is a string but not a JSON list")
    assert reasons[3] == "line 6: field 'PASS_TO_PASS' must be a list of test ids"
    assert reasons[4] == "line 7: duplicate instance_id 'a-1'"
    assert [s.key for s in skips] == [
        "t.jsonl:2",
        "t.jsonl:3",
        "t.jsonl:4",
        "t.jsonl:6",
        "t.jsonl:7",
    ]


def _variants(root: Path, alpha: EvalTask) -> list[dict]:
    base = alpha.to_json()
    broken_conftest = (
        "diff --git a/conftest.py b/conftest.py\nnew file mode 100644\n"
        "--- /dev/null\n+++ b/conftest.py\n@@ -0,0 +1 @@\n"
        "+raise RuntimeError('broken conftest')\n"
    )
    return [
        {**base, "instance_id": "other-repo", "repo": "someone/else"},
        {**base, "instance_id": "missing-base", "base_commit": "0" * 40},
        {
            **base,
            "instance_id": "patch-fails",
            "test_patch": base["test_patch"].replace("def test_sub", "def test_nope"),
        },
        {**base, "instance_id": "already-passing", "FAIL_TO_PASS": ["tests/test_ops.py::test_sub"]},
        {
            **base,
            "instance_id": "command-errors",
            "test_patch": base["test_patch"] + broken_conftest,
        },
    ]


def test_bad_tasks_are_skipped_with_reasons(history, tmp_path: Path):
    root, shas = history
    config = TestConfig(PYTEST, 120.0)
    alpha = mine_commit(root, shas["alpha"], config, "calc-project")
    assert isinstance(alpha, EvalTask)
    path = tmp_path / "tasks.jsonl"
    rows = [json.dumps(v) for v in _variants(root, alpha)]
    path.write_text("\n".join([*rows, "[1, 2]"]) + "\n")
    result = CliRunner().invoke(
        cli,
        [
            "--repo",
            str(root),
            "eval",
            "--tasks",
            str(path),
            "--json",
            "--test-cmd",
            PYTEST,
            "--pairs",
            "weak=openai/w,strong=openai/s",
            "--db",
            str(tmp_path / "e.db"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    why = {s["key"]: s["reason"] for s in doc["skips"]}
    assert why["other-repo"] == "instance of another repository: someone/else"
    assert why["missing-base"].startswith("base commit 000000000000 is not in this repository")
    assert why["patch-fails"].startswith("the test patch does not apply to the base")
    assert why["already-passing"].startswith("1 FAIL_TO_PASS test(s) already pass on the base")
    assert why["command-errors"].startswith("the test command errors on the base")
    assert why["tasks.jsonl:6"].startswith("line 6: an instance must be a JSON object")
    assert doc["skipped"] == 6 and doc["tasks"] == 0 and doc["table"] == []


def test_task_round_trip_keeps_extra_fields():
    data = {
        "instance_id": "x",
        "repo": "o/x",
        "base_commit": "b",
        "problem_statement": "p",
        "patch": "",
        "test_patch": "t",
        "FAIL_TO_PASS": ["a"],
        "PASS_TO_PASS": [],
        "version": "1.0",
    }
    task = task_from_json(data)
    assert task_from_json(task.to_json()) == task
    assert task.to_json()["version"] == "1.0"
