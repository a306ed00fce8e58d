"""Rust end to end: ``swc doctor`` and ``swc fix`` on small crates, no configuration."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import checkout, fix, git, needs, outcomes, patch, reply_with_test, swc

pytestmark = pytest.mark.usefixtures("cargo_here")

MANIFEST = '[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'
LIB = """pub fn add(a: i32, b: i32) -> i32 {
    a - b
}

pub fn mul(a: i32, b: i32) -> i32 {
    a * b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_works() {
        assert_eq!(mul(2, 3), 6);
    }
}
"""
PROMPT = "add(2, 3) returns -1 instead of 5: the sum is wrong"
# fixes add, and breaks mul: its unit test in src/lib.rs must say so
SLOPPY = patch(
    "src/lib.rs",
    "    a - b\n}\n\npub fn mul(a: i32, b: i32) -> i32 {\n    a * b",
    ("    a + b\n}\n\npub fn mul(a: i32, b: i32) -> i32 {\n    a + b"),
    "rust",
)
RIGHT = patch("src/lib.rs", "    a - b", "    a + b", "rust")
ADD_TEST = "use calc::add;\n\n#[test]\nfn add_sums() {\n    assert_eq!(add(2, 3), 5);\n}\n"


@pytest.fixture
def cargo_here() -> None:
    needs("cargo")


def cargo_test(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["cargo", "test", "--offline"], cwd=root, capture_output=True, text=True, timeout=600
    )


def test_a_patch_that_breaks_a_unit_test_in_src_is_never_fixed(make_project, tmp_path: Path):
    root, script = make_project(
        {"Cargo.toml": MANIFEST.format(name="calc"), "src/lib.rs": LIB, "tests/ops.rs": ""},
        weak_tests=[reply_with_test("tests/t.rs", ADD_TEST, "rust")],
        weak_patches=[SLOPPY],
        strong_patches=[RIGHT],
    )
    code, doctor, err = swc(root, "doctor")
    assert code == 0 and doctor["ready"], err
    assert "cargo test" in next(f for f in doctor["facts"] if f["name"] == "tests")["value"]
    code, doc, err = fix(root, PROMPT)
    assert code == 0, err
    assert doc["verdict"] == "fixed" and doc["winner"]["tier"] == "strong", json.dumps(
        {k: doc[k] for k in ("tests", "attempts", "warnings", "notes")}, indent=1
    )[:6000]
    weak = {o["test_id"]: o["status"] for o in outcomes(doc, "weak")}
    assert weak["src/lib.rs::tests::mul_works"] == "failed"  # guarded, and it caught the patch
    kept = [t["path"] for t in doc["tests"]["generated"] if t["kept"]]
    assert kept == ["tests/swc_add_2_3_returns_1_instead_of_5_the_sum_weak.rs"]
    assert script.count("strong", "tests") == 0
    # the kept test runs under the project's own `cargo test` on the branch, and passes
    tree = checkout(root, doc["branch"], tmp_path / "branch")
    run = cargo_test(tree)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "add_sums ... ok" in run.stdout and "mul_works ... ok" in run.stdout


BIN_MAIN = """fn triple(x: i32) -> i32 {
    x * 2
}

fn main() {
    println!("{}", triple(2));
}
"""


def test_a_workspaces_binary_crate_gets_its_test_as_a_module(make_project, tmp_path: Path):
    """No library to import: the test is a #[cfg(test)] module of the binary."""
    test = "use crate::triple;\n\n#[test]\nfn triples() {\n    assert_eq!(triple(2), 6);\n}\n"
    root, _script = make_project(
        {
            "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n',
            "crates/core/Cargo.toml": MANIFEST.format(name="wcore"),
            "crates/core/src/lib.rs": LIB,
            "crates/app/Cargo.toml": MANIFEST.format(name="app"),
            "crates/app/src/main.rs": BIN_MAIN,
        },
        weak_tests=[reply_with_test("crates/app/src/t.rs", test, "rust")],
        weak_patches=[patch("crates/app/src/main.rs", "    x * 2", "    x * 3", "rust")],
    )
    code, doc, err = fix(root, "triple(2) in crates/app/src/main.rs returns 4, not 6")
    assert code == 0, err
    assert doc["verdict"] == "fixed", doc
    kept = [t["path"] for t in doc["tests"]["generated"] if t["kept"]]
    name = Path(kept[0]).stem
    assert kept == [f"crates/app/src/{name}.rs"] and name.startswith("swc_triple_2")
    main = git(root, "show", f"{doc['branch']}:crates/app/src/main.rs")
    assert f"#[cfg(test)] mod {name};" in main and "x * 3" in main
    tree = checkout(root, doc["branch"], tmp_path / "branch")
    run = cargo_test(tree)
    assert run.returncode == 0 and "triples ... ok" in run.stdout, run.stdout + run.stderr


def test_from_failing_tests_reruns_the_users_failing_unit_test(make_project):
    failing = LIB.replace(
        "    fn mul_works() {",
        "    fn add_works() {\n        assert_eq!(add(2, 3), 5);\n    }\n\n    #[test]\n"
        "    fn mul_works() {",
    )
    root, _script = make_project(
        {"Cargo.toml": MANIFEST.format(name="calc"), "src/lib.rs": failing},
        weak_patches=[RIGHT],
    )
    code, doc, err = swc(root, "fix", "--from-failing-tests")
    assert code == 0, err
    assert doc["tests"]["user"] == ["src/lib.rs::tests::add_works"]
    weak = {o["test_id"]: (o["kind"], o["status"]) for o in outcomes(doc, "weak")}
    assert weak["src/lib.rs::tests::add_works"] == ("user", "passed")
    assert doc["verdict"] == "fixed"
