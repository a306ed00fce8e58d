"""Rust: crates and workspaces, where a new test goes, the selection, libtest's results."""

from __future__ import annotations

import os
from pathlib import Path

from swcollab.ecosystems import holds_tests
from swcollab.ecosystems.cargo import crates, read_libtest
from swcollab.ecosystems.rust import RUST, UNCHANGED_MTIME, keep_fresh
from swcollab.sandbox import TestCommand

from .conftest import git

MANIFEST = '[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'
UNIT = "pub fn one() -> i32 { 1 }\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn it() {}\n}\n"
WORKSPACE = {
    "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
    "crates/core/Cargo.toml": MANIFEST.format(name="wcore"),
    "crates/core/src/lib.rs": "pub mod ops;\npub fn add() {}\n",
    "crates/core/src/ops.rs": UNIT,
    "crates/core/tests/it.rs": "#[test]\nfn it_adds() {}\n",
    "crates/app/Cargo.toml": MANIFEST.format(name="app"),
    "crates/app/src/main.rs": "fn main() {}\n",
}
# what cargo 1.95 printed for WORKSPACE (a failing unit test in each crate), abridged
WORKSPACE_OUTPUT = """\
   Compiling wcore v0.1.0 (/w/crates/core)
     Running unittests src/main.rs (/t/debug/deps/app-1b08a23a7e24a453)

running 1 test
test tests::doubles ... FAILED

failures:

---- tests::doubles stdout ----

thread 'tests::doubles' (9265) panicked at crates/app/src/main.rs:4:50:
assertion `left == right` failed
  left: 6
 right: 4

failures:
    tests::doubles

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out

error: test failed, to rerun pass `-p app --bin app`
     Running unittests src/lib.rs (/t/debug/deps/wcore-e15eb382c4c44be4)

running 2 tests
test tests::one ... ok
test ops::tests::mul_works ... FAILED
test ops::tests::slow ... ignored

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out
     Running tests/it.rs (/t/debug/deps/it-ca654b5a9c2043d5)

running 1 test
test it_adds ... ok

   Doc-tests wcore

running 1 test
test crates/core/src/lib.rs - add (line 4) ... ok
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_workspaces_members_and_their_targets(tmp_path: Path) -> None:
    found = {c.name: c for c in crates(write(tmp_path, WORKSPACE))}
    assert set(found) == {"wcore", "app"}
    assert found["wcore"].dir == "crates/core" and found["wcore"].lib == "wcore"
    assert found["app"].lib is None and found["app"].bins == (("app", "src/main.rs"),)


def test_libtest_lines_become_per_test_results_in_their_files(tmp_path: Path) -> None:
    root = write(tmp_path, WORKSPACE)
    results = {r.test_id: r for r in read_libtest(WORKSPACE_OUTPUT, crates(root), root, [])}
    assert {k: r.status for k, r in results.items()} == {
        "crates/app/src/main.rs::tests::doubles": "failed",
        "crates/core/src/lib.rs::tests::one": "passed",
        "crates/core/src/ops.rs::ops::tests::mul_works": "failed",
        "crates/core/src/ops.rs::ops::tests::slow": "skipped",
        "crates/core/tests/it.rs::it_adds": "passed",
        "crates/core/src/lib.rs::add (line 4)": "passed",
    }
    doubles = results["crates/app/src/main.rs::tests::doubles"]
    assert "left: 6" in doubles.message and doubles.file == "crates/app/src/main.rs"


def test_a_test_target_that_does_not_compile_is_an_error_of_its_file(tmp_path: Path) -> None:
    root = write(tmp_path, WORKSPACE)
    output = (
        "error[E0432]: unresolved import `wcore::nothere`\n --> crates/core/tests/bad.rs:1:5\n"
        "  |\n1 | use wcore::nothere;\n\n"
        'error: could not compile `wcore` (test "bad") due to 1 previous error\n'
    )
    selection = ["crates/core/tests/bad.rs", "crates/core/tests/it.rs"]
    (result,) = read_libtest(output, crates(root), root, selection)
    assert (result.test_id, result.status) == ("crates/core/tests/bad.rs", "error")
    assert result.is_collection_error and "unresolved import" in result.message


def test_the_selection_names_packages_and_targets(tmp_path: Path) -> None:
    root = write(tmp_path, WORKSPACE)
    command = TestCommand(("cargo", "test"), "detected", ecosystem="rust")
    selection = [
        "crates/core/tests/it.rs",
        "crates/core/src/ops.rs::ops::tests::mul_works",
        "crates/app/src/main.rs",
    ]
    argv = RUST.invocation(command, selection, root, tmp_path / "out").argv
    assert argv == (
        "cargo",
        "test",
        "--no-fail-fast",
        "-p",
        "wcore",
        "-p",
        "app",
        "--test",
        "it",
        "--lib",
        "--bin",
        "app",
    )


def test_a_library_crates_new_test_goes_to_its_own_tests_dir(tmp_path: Path) -> None:
    root = write(tmp_path, WORKSPACE)
    place = RUST.new_test(root, "crates/core/src/ops.rs", "mul is wrong", "weak")
    assert place.path == "crates/core/tests/swc_mul_is_wrong_weak.rs"
    assert "wcore::" in place.notes and place.example_path == "crates/core/tests/it.rs"
    assert place.attach == ()


def test_a_binary_crates_new_test_is_a_module_declared_in_its_root(tmp_path: Path) -> None:
    root = write(tmp_path, WORKSPACE)
    place = RUST.new_test(root, "crates/app/src/main.rs", "x", "strong")
    assert place.path == "crates/app/src/swc_x_strong.rs"
    assert place.attach == (("crates/app/src/main.rs", "#[cfg(test)] mod swc_x_strong;"),)
    assert "use crate::" in place.notes


def test_a_library_tested_only_in_its_sources_gets_a_module_too(tmp_path: Path) -> None:
    root = write(tmp_path, {"Cargo.toml": MANIFEST.format(name="calc"), "src/lib.rs": UNIT})
    place = RUST.new_test(root, "src/lib.rs", "x", "weak")
    assert place.path == "src/swc_x_weak.rs"
    assert place.attach == (("src/lib.rs", "#[cfg(test)] mod swc_x_weak;"),)
    assert place.example_path == "src/lib.rs" and "#[cfg(test)]" in place.example


def test_unit_tests_in_a_source_file_guard_it(tmp_path: Path) -> None:
    root = write(tmp_path, WORKSPACE)
    assert holds_tests(root, "crates/core/src/ops.rs") and holds_tests(
        root, "crates/core/tests/it.rs"
    )
    assert not holds_tests(root, "crates/core/src/lib.rs")
    assert RUST.tests_part("src/ops.rs", UNIT) == UNIT[UNIT.index("#[cfg(test)]") :]
    assert RUST.tests_part("tests/it.rs", "x") is None


def test_files_no_attempt_changed_look_old_and_changed_ones_new(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"a.rs": "a\n", "b.rs": "b\n"})
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    touched = tmp_path / "touched.txt"
    (root / "b.rs").write_text("changed\n")
    keep_fresh(root, touched)
    assert os.stat(root / "a.rs").st_mtime == UNCHANGED_MTIME
    assert os.stat(root / "b.rs").st_mtime > UNCHANGED_MTIME
    # another worktree where b.rs is as on the base again: cargo must rebuild it all the same
    git(root, "checkout", "-q", "b.rs")
    keep_fresh(root, touched)
    assert os.stat(root / "b.rs").st_mtime > UNCHANGED_MTIME
    assert touched.read_text() == "b.rs\n"
