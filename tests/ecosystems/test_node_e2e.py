"""JavaScript end to end: ``swc doctor`` and ``swc fix`` on a small node --test project
whose code needs a package from the checkout's node_modules, no configuration."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import checkout, fix, needs, outcomes, patch, reply_with_test, swc

PACKAGE = json.dumps({"name": "calc", "version": "1.0.0", "scripts": {"test": "node --test test/"}})
CALC = """const { twice } = require('twice');

function add(a, b) {
  return a - b;
}

function mul(a, b) {
  return a * b;
}

module.exports = { add, mul, twice };
"""
MUL_TEST = """const test = require('node:test');
const assert = require('node:assert');
const { mul } = require('../src/calc');

test('mul multiplies', () => {
  assert.strictEqual(mul(2, 3), 6);
});
"""
ADD_TEST = """const test = require('node:test');
const assert = require('node:assert');
const { add, mul } = require('../src/calc');

test('add sums', () => {
  assert.strictEqual(add(2, 3), 5);
});

test('mul still multiplies', () => {
  assert.strictEqual(mul(2, 2), 4);
});
"""
FILES = {
    "package.json": PACKAGE,
    ".gitignore": "node_modules/\n",
    "src/calc.js": CALC,
    "test/mul.test.js": MUL_TEST,
}
PROMPT = "add(2, 3) in src/calc.js returns -1 instead of 5"
RIGHT = patch("src/calc.js", "  return a - b;", "  return a + b;", "javascript")
SLOPPY = RIGHT + patch("src/calc.js", "  return a * b;", "  return a + b;", "javascript")


@pytest.fixture(autouse=True)
def node_here() -> None:
    needs("node")
    needs("npm")


def with_node_modules(root: Path) -> None:
    """A dependency installed in the checkout only (untracked, as npm ci leaves it)."""
    package = root / "node_modules" / "twice"
    package.mkdir(parents=True)
    (package / "package.json").write_text('{"name": "twice", "main": "index.js"}')
    (package / "index.js").write_text("exports.twice = (x) => 2 * x;\n")


def npm_test(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["npm", "test"], cwd=root, capture_output=True, text=True, timeout=300)


def test_a_node_fix_puts_its_test_where_npm_test_runs_it(make_project, tmp_path: Path):
    root, _script = make_project(
        FILES,
        weak_tests=[reply_with_test("src/calc.test.js", ADD_TEST, "javascript")],
        weak_patches=[SLOPPY],
        strong_patches=[RIGHT],
    )
    with_node_modules(root)
    code, doctor, err = swc(root, "doctor")
    assert code == 0 and doctor["ready"], err
    tests_fact = next(f for f in doctor["facts"] if f["name"] == "tests")["value"]
    assert "npm test" in tests_fact and "node --test" in tests_fact
    code, doc, err = fix(root, PROMPT)
    assert code == 0, err
    assert doc["verdict"] == "fixed" and doc["winner"]["tier"] == "strong", json.dumps(doc)[:3000]
    (generated,) = doc["tests"]["generated"]
    path = generated["path"]
    assert path.startswith("test/swc-") and path.endswith("-weak.test.js")
    assert generated["kept"] == [f"{path}::add sums"]  # "mul still multiplies" passes: out
    weak = {o["test_id"]: o["status"] for o in outcomes(doc, "weak")}
    assert weak == {f"{path}::add sums": "passed", "test/mul.test.js::mul multiplies": "failed"}
    tree = checkout(root, doc["branch"], tmp_path / "branch")
    with_node_modules(tree)
    run = npm_test(tree)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "add sums" in run.stdout  # the project's own command runs the kept test


def test_from_failing_tests_reads_each_failing_node_test(make_project):
    add = "\ntest('add sums', () => {\n  assert.strictEqual(calc.add(2, 3), 5);\n});\n"
    failing = MUL_TEST + "const calc = require('../src/calc');\n" + add
    root, _script = make_project({**FILES, "test/mul.test.js": failing}, weak_patches=[RIGHT])
    with_node_modules(root)
    code, doc, err = swc(root, "fix", "--from-failing-tests")
    assert code == 0, err
    assert doc["tests"]["user"] == ["test/mul.test.js::add sums"]
    assert doc["verdict"] == "fixed"
