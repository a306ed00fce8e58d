"""Go end to end: ``swc doctor`` and ``swc fix`` on a small module, no configuration."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import checkout, fix, needs, outcomes, patch, reply_with_test, swc

CALC = """package calc

// Add returns the sum of a and b.
func Add(a, b int) int {
	return a - b
}

// Mul returns the product of a and b.
func Mul(a, b int) int {
	return a * b
}
"""
CALC_TEST = """package calc

import "testing"

func TestMul(t *testing.T) {
	if Mul(2, 3) != 6 {
		t.Fatalf("Mul(2, 3) = %d", Mul(2, 3))
	}
}
"""
# one test that fails on the base (kept), one that passes there (discarded)
ADD_TEST = """package calc

import "testing"

func TestAddSums(t *testing.T) {
	if got := Add(2, 3); got != 5 {
		t.Fatalf("Add(2, 3) = %d, want 5", got)
	}
}

func TestMulAgain(t *testing.T) {
	if Mul(2, 2) != 4 {
		t.Fatal("Mul")
	}
}
"""
FILES = {"go.mod": "module example.com/calc\n\ngo 1.19\n", "calc/calc.go": CALC}
PROMPT = "calc.Add(2, 3) returns -1 instead of 5"
RIGHT = patch("calc/calc.go", "\treturn a - b", "\treturn a + b", "go")
SLOPPY = patch("calc/calc.go", "\treturn a - b\n}", "\treturn a + b\n}", "go") + patch(
    "calc/calc.go", "\treturn a * b", "\treturn a + b", "go"
)


@pytest.fixture(autouse=True)
def go_here() -> None:
    needs("go")


def go_test(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["go", "test", "-count=1", "./..."], cwd=root, capture_output=True, text=True, timeout=600
    )


def test_a_go_fix_keeps_only_failing_tests_and_guards_the_package(make_project, tmp_path: Path):
    root, _script = make_project(
        {**FILES, "calc/calc_test.go": CALC_TEST},
        weak_tests=[reply_with_test("calc/x_test.go", ADD_TEST, "go")],
        weak_patches=[SLOPPY],
        strong_patches=[RIGHT],
    )
    code, doctor, err = swc(root, "doctor")
    assert code == 0 and doctor["ready"], err
    code, doc, err = fix(root, PROMPT)
    assert code == 0, err
    assert doc["verdict"] == "fixed" and doc["winner"]["tier"] == "strong", json.dumps(doc)[:3000]
    path = "calc/swc_calc_add_2_3_returns_1_instead_of_5_weak_test.go"
    (generated,) = doc["tests"]["generated"]
    assert generated["path"] == path and generated["kept"] == [f"{path}::TestAddSums"]
    assert {(d["test_id"], d["reason"].split(",")[0]) for d in doc["tests"]["discarded"]} == {
        (f"{path}::TestMulAgain", "passes on the unpatched code")
    }
    weak = {o["test_id"]: o["status"] for o in outcomes(doc, "weak")}
    assert weak == {f"{path}::TestAddSums": "passed", "calc/calc_test.go::TestMul": "failed"}
    tree = checkout(root, doc["branch"], tmp_path / "branch")
    run = go_test(tree)
    assert run.returncode == 0, run.stdout + run.stderr


def test_from_failing_tests_runs_and_reads_the_users_failing_go_test(make_project):
    failing = (
        CALC_TEST
        + "\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal(Add(2, 3))\n\t}\n}\n"
    )
    root, _script = make_project({**FILES, "calc/calc_test.go": failing}, weak_patches=[RIGHT])
    code, doc, err = swc(root, "fix", "--from-failing-tests")
    assert code == 0, err
    assert doc["verdict"] == "fixed"
    assert doc["tests"]["user"] == ["calc/calc_test.go::TestAdd"]
    weak = {o["test_id"]: (o["kind"], o["status"]) for o in outcomes(doc, "weak")}
    assert weak["calc/calc_test.go::TestAdd"] == ("user", "passed")
