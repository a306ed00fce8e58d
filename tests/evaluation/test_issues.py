"""``--from-history --issues``: the issue a fix commit names joins the task text."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from swcollab.cli import cli
from swcollab.evaluation.issues import issue_numbers
from tests.evaluation.conftest import git
from tests.fakes.github_server import FakeGitHub, fake_github  # noqa: F401 (fixture)


def test_issue_numbers():
    assert issue_numbers("Fix parsing (#12), see #3 and PR#4") == [12, 3]
    assert issue_numbers("no issue here, just v1.2#x") == []


def test_mined_task_text_holds_the_issue_but_not_its_comments(
    history,
    fake_github: FakeGitHub,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
):
    root, _ = history
    ops = root / "calc" / "ops.py"
    ops.write_text(ops.read_text() + "\n\ndef double(x):\n    return x + 1\n")
    git(root, "commit", "-qam", "add double")
    ops.write_text(ops.read_text().replace("return x + 1", "return x * 2"))
    (root / "tests" / "test_double.py").write_text(
        "from calc.ops import double\n\n\ndef test_double():\n    assert double(3) == 6\n"
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "double() is off (#7)")
    git(root, "remote", "add", "origin", "https://github.example/acme/calc.git")
    fake_github.add_issue(
        "acme",
        "calc",
        7,
        title="double(3) gives 4",
        body="Expected 6, got 4 from double(3).",
        comments=[("dev", "Fixed in the commit that says: return x * 2")],
    )
    saved = tmp_path / "tasks.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "--repo",
            str(root),
            "eval",
            "--from-history",
            "--limit",
            "1",
            "--issues",
            "--save",
            str(saved),
            "--dry-run",
            "--json",
            "--test-cmd",
            f"{sys.executable} -m pytest -q",
            "--pairs",
            "weak=openai/w,strong=openai/s",
            "--db",
            str(tmp_path / "e.db"),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    task = json.loads(saved.read_text().splitlines()[0])
    text = task["problem_statement"]
    assert text.startswith("double() is off (#7)")
    assert "Issue #7: double(3) gives 4" in text and "Expected 6, got 4" in text
    assert "Fixed in the commit" not in text
    assert task["FAIL_TO_PASS"] == ["tests/test_double.py::test_double"]
