"""Go: where a new test goes, names kept unique per tier, the selection, ``go test -json``."""

from __future__ import annotations

import json
from pathlib import Path

from swcollab.ecosystems.go import GO, read_test2json
from swcollab.sandbox import TestCommand

COMMAND = TestCommand(("go", "test", "./..."), "detected", ecosystem="go")
KEPT_WEAK = """package items

import "testing"

func TestItemsAfterWrap(t *testing.T) {}

func helper() int { return 1 }
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def event(action: str, package: str, test: str | None = None, output: str = "") -> str:
    data = {"Action": action, "Package": package}
    data.update({"Test": test} if test else {})
    data.update({"Output": output} if output else {})
    return json.dumps(data) + "\n"


def test_a_new_test_goes_in_the_package_of_the_code(tmp_path: Path) -> None:
    root = write(tmp_path, {"items/items.go": "package items\n", "items/a_test.go": KEPT_WEAK})
    place = GO.new_test(root, "items/items.go", "Items after wrap", "weak")
    assert place.path == "items/swc_items_after_wrap_weak_test.go"
    assert "package items" in place.notes and place.example_path == "items/a_test.go"


def test_a_second_tiers_test_never_redeclares_a_name_of_the_package(tmp_path: Path) -> None:
    """Both tiers wrote TestItemsAfterWrap (and a helper): the package must still build."""
    root = write(
        tmp_path, {"items/items.go": "package items\n", "items/swc_x_weak_test.go": KEPT_WEAK}
    )
    strong = KEPT_WEAK.replace("return 1", "return 2")
    code = GO.prepare_test(strong, "items/swc_x_strong_test.go", root, "strong")
    assert "func TestItemsAfterWrap_Strong(t *testing.T)" in code
    assert "func helper_Strong() int" in code and "func helper()" not in code


def test_a_wrong_package_clause_is_the_directorys(tmp_path: Path) -> None:
    root = write(tmp_path, {"items/items.go": "package items\n"})
    code = GO.prepare_test(
        "package main\n\nfunc TestX(t *testing.T) {}\n", "items/x_test.go", root, "weak"
    )
    assert code.startswith("package items\n")
    kept = GO.prepare_test("package items_test\n", "items/x_test.go", root, "weak")
    assert kept.startswith("package items_test\n")


def test_the_selection_is_packages_and_named_tests(tmp_path: Path) -> None:
    files = GO.invocation(COMMAND, ["items/swc_x_test.go", "main_test.go"], tmp_path, tmp_path)
    assert files.argv == ("go", "test", "-json", "-count=1", "./items", ".")
    ids = GO.invocation(
        COMMAND, ["items/a_test.go::TestA", "items/a_test.go::TestB/sub"], tmp_path, tmp_path
    )
    assert ids.argv == (
        *("go", "test", "-json", "-count=1"),
        *("-run", "^(TestA|TestB)$", "./items"),
    )


def test_each_test_gets_its_own_status_and_file(tmp_path: Path) -> None:
    """A package whose other test passed still fails the one that failed, and vice versa."""
    root = write(
        tmp_path,
        {
            "items/a_test.go": "package items\nfunc TestA(t *testing.T) {}\n",
            "items/b_test.go": "package items\nfunc TestB(t *testing.T) {}\n",
        },
    )
    package = "example.com/m/items"
    output = (
        event("run", package, "TestA")
        + event("output", package, "TestA", "    a_test.go:2: boom\n")
        + event("fail", package, "TestA")
        + event("pass", package, "TestB/sub")
        + event("pass", package, "TestB")
        + event("output", package, None, "FAIL\texample.com/m/items\t0.01s\n")
        + event("fail", package)
    )
    read = read_test2json(output, root, "", "example.com/m", [])
    statuses = {r.test_id: (r.status, r.file) for r in read.results}
    assert statuses == {
        "items/a_test.go::TestA": ("failed", "items/a_test.go"),
        "items/b_test.go::TestB/sub": ("passed", "items/b_test.go"),
        "items/b_test.go::TestB": ("passed", "items/b_test.go"),
    }
    assert "a_test.go:2: boom" in read.output and "{" not in read.output


def test_a_package_that_does_not_build_is_an_error_of_its_selected_files(tmp_path: Path) -> None:
    output = (
        "# example.com/m/items [example.com/m/items.test]\n"
        "items/swc_x_test.go:5:2: undefined: Wrap\n"
        "FAIL\texample.com/m/items [build failed]\n"
    )
    read = read_test2json(output, tmp_path, "", "example.com/m", ["items/swc_x_test.go"])
    (result,) = read.results
    assert (result.test_id, result.status) == ("items/swc_x_test.go", "error")
    assert result.is_collection_error and "undefined: Wrap" in result.message
