"""``swc fix`` end to end on a project whose suite has a flaky test: real pytest in the
sandbox, scripted loopback models.

The flake is deterministic: one case of the parametrized ``test_no_call_recorded_yet``
depends on what ran before it in the same pytest process (a common kind of flaky test).
It passes on the base, where no test before it calls ``add()``, fails on a candidate,
where the reproduction test calls ``add()`` first, and passes when run again alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.conftest import commit_project, git
from swcollab.cli import cli

OPS = '''"""Arithmetic helpers."""

CALLS = []


def add(a, b):
    """Return the sum of a and b."""
    CALLS.append("add")
    return a - b


def mul(a, b):
    return a * b
'''

ORDER_DEPENDENT_TEST = """import pytest

from calc import ops


@pytest.mark.parametrize("case", [0, 1, 2])
def test_no_call_recorded_yet(case):
    if case == 1:
        assert ops.CALLS == []
"""

FLAKY = "tests/test_ops_calls.py::test_no_call_recorded_yet[1]"  # one case of three
PROMPT = "add(2, 3) returns -1 instead of 5: the sum is wrong"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The engine's calc project (its ``models`` fixture uses this one), with the flake."""
    files = {
        "calc/__init__.py": "",
        "calc/ops.py": OPS,
        "tests/test_ops.py": "from calc.ops import mul\n\n\ndef test_mul():\n"
        "    assert mul(2, 3) == 6\n",
        "tests/test_ops_calls.py": ORDER_DEPENDENT_TEST,
        "pyproject.toml": '[project]\nname = "calc"\nversion = "0"\n',
    }
    return commit_project(tmp_path / "proj", files)


def swc(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--repo", str(project), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_the_weak_fix_is_accepted_despite_a_flaky_test_named_in_the_report(project, models):
    script = models()
    code, out, err = swc(project, "fix", "--prompt", PROMPT, "--json")
    doc = json.loads(out)
    assert code == 0, (doc.get("error"), err)
    assert doc["verdict"] == "fixed" and doc["winner"]["tier"] == "weak"
    assert doc["winner"]["candidate"] == 1 and script.count("strong") == 0
    assert "return a + b" in git(project, "show", f"{doc['branch']}:calc/ops.py")
    [flaky] = doc["flaky_tests"]
    assert flaky["test_id"] == FLAKY and flaky["found_by"] == doc["run_id"]
    assert flaky["candidate_runs"] > flaky["candidate_failures"] >= 1
    assert flaky["why"].startswith("passed on a re-run on the candidate")
    judged = {t["test_id"]: t for t in doc["winner"]["tests"]}
    assert judged[FLAKY]["kind"] == "flaky" and not judged[FLAKY]["required"]
    for case in ("0", "2"):  # the other cases of the same test still guard
        other = judged[FLAKY.replace("[1]", f"[{case}]")]
        assert other["kind"] == "existing" and other["status"] == "passed"
    assert FLAKY in doc["report_markdown"].split("## Flaky tests")[1]
    assert "1 flaky test(s) not guarded" in doc["report_markdown"]

    code, out, _err = swc(project, "runs", "flaky", "--json")
    assert code == 0 and [r["test_id"] for r in json.loads(out)] == [FLAKY]


def test_with_flaky_tests_off_the_same_flake_rejects_every_candidate(project, models, monkeypatch):
    models()
    monkeypatch.setenv("SWC_FLAKY_TESTS", "off")
    code, out, _err = swc(project, "fix", "--prompt", PROMPT, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["verdict"] == "not_fixed" and doc["flaky_tests"] == []
    for attempt in doc["attempts"]:
        failed = {t["test_id"] for t in attempt["tests"] if t["status"] != "passed"}
        assert failed == {FLAKY}
