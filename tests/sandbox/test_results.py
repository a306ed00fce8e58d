"""Per-test results from pytest's JUnit XML, and collection errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from swcollab.sandbox import TestCommand, TestResult, TestRun, parse_junit, run_tests

from .helpers import write

PYTEST = TestCommand((sys.executable, "-m", "pytest", "-q"), "flag")

MIXED = (
    "import pytest\n\n"
    "def test_ok():\n    pass\n\n"
    "def test_fail():\n    assert 1 == 2, 'one is not two'\n\n"
    "@pytest.mark.skip(reason='not today')\n"
    "def test_skip():\n    pass\n\n"
    "@pytest.fixture\n"
    "def broken():\n    raise RuntimeError('fixture broke')\n\n"
    "def test_error(broken):\n    pass\n\n"
    "class TestGroup:\n"
    "    @pytest.mark.parametrize('x', [1, 2])\n"
    "    def test_param(self, x):\n        assert x == 1\n\n"
    "    class TestInner:\n"
    "        def test_inner(self):\n            pass\n"
)


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory: pytest.TempPathFactory) -> TestRun:
    root = tmp_path_factory.mktemp("mixed")
    write(
        root,
        {
            "tests/test_mixed.py": MIXED,
            "tests/test_syntax.py": "def test_x(:\n    pass\n",
            "tests/test_import.py": "import no_such_module_xyz\n\ndef test_y():\n    pass\n",
            "tests/test_fine.py": "def test_fine():\n    pass\n",
        },
    )
    return run_tests(root, PYTEST, timeout=120)


def test_each_test_gets_its_status(mixed_run: TestRun):
    statuses = {r.test_id: r.status for r in mixed_run.results}
    assert statuses == {
        "tests/test_mixed.py::test_ok": "passed",
        "tests/test_mixed.py::test_fail": "failed",
        "tests/test_mixed.py::test_skip": "skipped",
        "tests/test_mixed.py::test_error": "error",
        "tests/test_mixed.py::TestGroup::test_param[1]": "passed",
        "tests/test_mixed.py::TestGroup::test_param[2]": "failed",
        "tests/test_mixed.py::TestGroup::TestInner::test_inner": "passed",
        "tests/test_syntax.py": "error",
        "tests/test_import.py": "error",
        "tests/test_fine.py::test_fine": "passed",
    }
    assert not mixed_run.passed and mixed_run.exit_code == 1


def test_messages_say_why(mixed_run: TestRun):
    by_id = {r.test_id: r for r in mixed_run.results}
    assert "one is not two" in by_id["tests/test_mixed.py::test_fail"].message
    assert "fixture broke" in by_id["tests/test_mixed.py::test_error"].message
    assert by_id["tests/test_mixed.py::test_skip"].message == "not today"
    assert by_id["tests/test_mixed.py::test_ok"].message == ""
    assert by_id["tests/test_mixed.py::test_ok"].file == "tests/test_mixed.py"


def test_collection_errors_are_queryable_per_file_and_per_test(mixed_run: TestRun):
    assert mixed_run.collection_errors() == {"tests/test_syntax.py", "tests/test_import.py"}
    by_id = {r.test_id: r for r in mixed_run.results}
    assert by_id["tests/test_syntax.py"].error_kind == "syntax"
    assert by_id["tests/test_import.py"].error_kind == "import"
    assert "no_such_module_xyz" in by_id["tests/test_import.py"].message
    # a test inside a file that could not be collected is an error, by id too
    assert mixed_run.status_of("tests/test_syntax.py::test_x") == "error"
    # a fixture error is an error of the test, not of the file
    assert not by_id["tests/test_mixed.py::test_error"].is_collection_error
    # the other files still ran despite the collection errors
    assert mixed_run.status_of("tests/test_fine.py::test_fine") == "passed"


def test_status_of_files_nodes_and_unknown_ids(mixed_run: TestRun):
    assert mixed_run.status_of("tests/test_fine.py") == "passed"
    assert mixed_run.status_of("tests/test_mixed.py") == "error"  # the worst inside
    assert mixed_run.status_of("tests/test_mixed.py::TestGroup::test_param") == "failed"
    assert mixed_run.status_of("tests/test_mixed.py::TestGroup::TestInner") == "passed"
    assert mixed_run.status_of("tests/test_nowhere.py::test_z") is None
    assert mixed_run.ids_with("skipped") == ["tests/test_mixed.py::test_skip"]


def test_xunit2_report_without_file_attribute(tmp_path: Path):
    write(
        tmp_path,
        {
            "pkg/tests/test_a.py": "",
            "report.xml": (
                '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
                '<testcase classname="pkg.tests.test_a.TestK" name="test_one" time="0.1"/>'
                '<testcase classname="pkg.tests.test_a" name="test_two" time="0.1">'
                '<failure message="assert 0">boom</failure></testcase>'
                '<testcase classname="pkg.tests.test_a" name="test_two" time="0.1">'
                '<error message="failed on teardown">teardown boom</error></testcase>'
                "</testsuite></testsuites>"
            ),
        },
    )
    results = parse_junit(tmp_path / "report.xml", tmp_path)
    assert results == (
        TestResult("pkg/tests/test_a.py::TestK::test_one", "passed", "", "pkg/tests/test_a.py"),
        TestResult(
            "pkg/tests/test_a.py::test_two", "error", "teardown boom", "pkg/tests/test_a.py"
        ),
    )


def test_unreadable_or_truncated_report_gives_no_results(tmp_path: Path):
    (tmp_path / "bad.xml").write_text("<testsuites><testsuite><testcase name=")
    assert parse_junit(tmp_path / "bad.xml", tmp_path) == ()
    assert parse_junit(tmp_path / "missing.xml", tmp_path) == ()


def test_passed_needs_exit_zero_and_no_timeout():
    ok = TestRun(0, False, "", 0.1, (), ("x",))
    assert ok.passed
    assert not TestRun(5, False, "", 0.1, (), ("x",)).passed  # pytest: no tests collected
    assert not TestRun(None, True, "", 0.1, (), ("x",)).passed
