"""Telling "the tests cannot run" from "they run and fail", for pytest and other runners."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from swcollab.ecosystems import cannot_run, ecosystem_of
from swcollab.ecosystems.python import collected_count
from swcollab.sandbox import TestCommand, TestResult, TestRun, run_tests
from swcollab.sandbox.diagnose import (
    KIND_CONFTEST,
    KIND_NO_PYTEST,
    KIND_NO_RESULTS,
    KIND_NO_TESTS,
    KIND_NOT_FOUND,
    KIND_USAGE,
    error_line,
    is_dependency,
)

from .helpers import git, write

PYTEST = TestCommand((sys.executable, "-m", "pytest"), "flag")
GO = TestCommand(("go", "test", "./..."), "detected")
CARGO = TestCommand(("cargo", "test"), "detected")
NPM = TestCommand(("npm", "test"), "detected")


def run(
    output: str,
    exit_code: int | None = 1,
    results: tuple[TestResult, ...] = (),
    argv: tuple[str, ...] = (),
) -> TestRun:
    return TestRun(exit_code, False, output, 0.1, results, argv)


@pytest.mark.parametrize(
    ("output", "exit_code", "kind", "says"),
    [
        (
            "/usr/bin/python3: No module named pytest\n",
            1,
            KIND_NO_PYTEST,
            "pytest is not installed for this interpreter",
        ),
        (
            "ImportError while loading conftest '/w/tests/conftest.py'.\n"
            "tests/conftest.py:1: in <module>\n    import yaml\n"
            "E   ModuleNotFoundError: No module named 'yaml'\n",
            4,
            KIND_CONFTEST,
            "ModuleNotFoundError: No module named 'yaml' (loading /w/tests/conftest.py)",
        ),
        (
            "ERROR: usage: __main__.py [options] [file_or_dir] [file_or_dir] [...]\n"
            "__main__.py: error: unrecognized arguments: --cov=calc --cov-report=term\n",
            4,
            KIND_USAGE,
            "(a plugin missing here? pytest-cov)",
        ),
        ("no tests ran in 0.01s\n", 5, KIND_NO_TESTS, "pytest collected no test"),
        ("INTERNALERROR> KeyError: 'x'\n", 3, KIND_NO_RESULTS, "no per-test result"),
        (
            "[swc: cannot run /nope/python: No such file or directory]\n",
            127,
            KIND_NOT_FOUND,
            "the test command cannot start: /nope/python: No such file or directory",
        ),
    ],
)
def test_pytest_runs_without_results_say_why(
    output: str, exit_code: int, kind: str, says: str
) -> None:
    problem = cannot_run(run(output, exit_code), PYTEST)
    assert problem is not None and problem.kind == kind
    assert says in problem.line()


def test_a_pytest_run_with_results_can_judge_even_when_tests_fail() -> None:
    failing = (TestResult("tests/test_a.py::test_a", "failed", "assert 1 == 2", "tests/test_a.py"),)
    assert cannot_run(run("1 failed", 1, failing), PYTEST) is None


@pytest.mark.parametrize(
    ("command", "output", "ran"),
    [
        (GO, "--- FAIL: TestAdd (0.00s)\nFAIL\nFAIL\texample.com/calc\t0.002s\n", True),
        (GO, "ok  \texample.com/calc\t0.002s\n", True),
        (
            GO,
            "# example.com/calc\n./calc_test.go:5:9: undefined: Sum\n"
            "FAIL\texample.com/calc [build failed]\n",
            False,
        ),
        (CARGO, "running 1 test\ntest adds ... FAILED\ntest result: FAILED. 0 passed\n", True),
        (
            CARGO,
            "error[E0432]: unresolved import `crt::nothere`\n"
            'error: could not compile `crt` (test "add") due to 1 previous error\n',
            False,
        ),
        (NPM, "Tests:       1 failed, 3 passed, 4 total\n", True),
        (NPM, "  3 passing (12ms)\n  1 failing\n", True),
        (NPM, "# tests 4\n# pass 3\n# fail 1\n", True),
        (NPM, 'npm ERR! Missing script: "test"\n', False),
        (NPM, "Error: Cannot find module '/w/node_modules/jest/bin/jest.js'\n", False),
    ],
)
def test_other_runners_ran_a_test_or_not(command: TestCommand, output: str, ran: bool) -> None:
    assert ecosystem_of(command).ran_any_test(output, command) is ran
    problem = cannot_run(run(output, 1), command)
    assert (problem is None) is ran
    if not ran:
        assert problem is not None and problem.kind == KIND_NO_RESULTS


def test_an_unknown_runner_is_never_called_broken_on_its_output() -> None:
    make = TestCommand(("make", "test"), "config")
    assert ecosystem_of(make).ran_any_test("make: *** [test] Error 1\n", make) is None
    assert cannot_run(run("make: *** [test] Error 1\n", 2), make) is None
    assert cannot_run(run("make: not found\n", 127), make).kind == KIND_NOT_FOUND


def test_error_line_picks_the_cause() -> None:
    assert error_line("x\nE   ValueError: bad\nE   KeyError: worse\n") == "KeyError: worse"
    rust = (
        "error[E0432]: unresolved import `crt::nothere`\n --> tests/add.rs:1:5\n"
        'error: could not compile `crt` (test "add") due to 1 previous error\n'
    )
    assert error_line(rust) == "error[E0432]: unresolved import `crt::nothere`"
    assert error_line("") == "no output"


def probe_argv(command: TestCommand) -> tuple[str, ...] | None:
    probe = ecosystem_of(command).probe(command)
    return probe.argv if probe is not None else None


def test_probe_commands() -> None:
    assert probe_argv(PYTEST) == (*PYTEST.argv, "--collect-only", "-q")
    assert probe_argv(TestCommand(("go", "test", "-v", "./..."), "c")) == (
        "go",
        "test",
        "-count=1",
        "-run",
        "^$",
        "-v",
        "./...",
    )
    assert probe_argv(TestCommand(("cargo", "test", "--", "--nocapture"), "c")) == (
        "cargo",
        "test",
        "--no-run",
    )
    assert probe_argv(NPM) is None


@pytest.mark.parametrize(
    ("output", "count"),
    [
        ("tests/test_a.py::test_a\ntests/test_a.py::test_b\n\n2 tests collected in 0.01s\n", 2),
        ("tests/test_a.py: 3\ntests/test_b.py: 1\n", 4),
        ("====== 1 test collected, 1 error in 0.03s ======\n", 1),
        ("no tests collected, 1 error in 0.05s\n", 0),
        ("ERROR tests/test_b.py\n", 0),
    ],
)
def test_collected_count_at_every_verbosity(output: str, count: int) -> None:
    assert collected_count(output) == count


def test_is_dependency(tmp_path: Path) -> None:
    write(tmp_path, {"src/calc/ops.py": "", "tests/helpers.py": ""})
    tracked = ["src/calc/ops.py", "tests/helpers.py"]
    assert is_dependency("markupsafe", tmp_path, tracked)
    assert is_dependency("yaml.constructor", tmp_path, tracked)
    assert not is_dependency("calc._speedups", tmp_path, tracked)
    assert not is_dependency("helpers", tmp_path, tracked)


def test_a_real_pytest_run_whose_conftest_cannot_import(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "conftest.py": "import not_installed_anywhere\n",
            "tests/test_a.py": "def test_a():\n    assert True\n",
        },
    )
    git(tmp_path, "init", "-q")
    found = run_tests(tmp_path, PYTEST, timeout=60)
    problem = cannot_run(found, PYTEST)
    assert problem is not None and problem.kind == KIND_CONFTEST
    assert problem.module == "not_installed_anywhere"


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")
def test_a_real_cargo_crate_whose_tests_do_not_build(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "Cargo.toml": '[package]\nname = "crt"\nversion = "0.1.0"\nedition = "2021"\n',
            "src/lib.rs": "pub fn add(a: i32, b: i32) -> i32 { a - b }\n",
            "tests/add.rs": "use crt::nothere;\n#[test]\n"
            "fn adds() { assert_eq!(nothere(2, 3), 5); }\n",
        },
    )
    git(tmp_path, "init", "-q")
    command = TestCommand(("cargo", "test", "--offline"), "config")
    probe = ecosystem_of(command).probe(command)
    assert probe is not None
    problem = cannot_run(run_tests(tmp_path, probe, timeout=300), probe)
    assert problem is not None and problem.kind == KIND_NO_RESULTS
    assert "unresolved import `crt::nothere`" in problem.cause
    # with the test fixed, the suite runs (and fails: the bug) and can judge
    write(
        tmp_path,
        {"tests/add.rs": "use crt::add;\n#[test]\nfn adds() { assert_eq!(add(2, 3), 5); }\n"},
    )
    found = run_tests(tmp_path, command, timeout=300)
    assert found.exit_code != 0 and cannot_run(found, command) is None


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_a_real_npm_script_that_runs_no_test(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "package.json": json.dumps(
                {"name": "p", "version": "1.0.0", "scripts": {"test": "node missing.js"}}
            )
        },
    )
    git(tmp_path, "init", "-q")
    problem = cannot_run(run_tests(tmp_path, NPM, timeout=120), NPM)
    assert problem is not None and problem.kind == KIND_NO_RESULTS
    assert "Cannot find module" in problem.cause
    write(
        tmp_path,
        {
            "package.json": json.dumps(
                {"name": "p", "version": "1.0.0", "scripts": {"test": "node --test"}}
            ),
            "add.test.js": "const test = require('node:test');\n"
            "const assert = require('node:assert');\n"
            "test('adds', () => assert.strictEqual(1 + 1, 3));\n",
        },
    )
    found = run_tests(tmp_path, NPM, timeout=120)
    assert found.exit_code != 0 and cannot_run(found, NPM) is None, found.output
