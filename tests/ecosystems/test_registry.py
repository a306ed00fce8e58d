"""The ecosystems' registry: a command's and a file's ecosystem, mixed repositories,
commands with shell syntax."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swcollab.ecosystems import (
    ECOSYSTEMS,
    detect_test_command,
    ecosystem_of,
    for_path,
    is_test_path,
    project_command,
)
from swcollab.sandbox import TestCommand
from swcollab.sandbox.command import has_shell_syntax, parse_command


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.mark.parametrize(
    ("path", "ecosystem"),
    [
        ("pkg/mod.py", "python"),
        ("web/src/app.ts", "node"),
        ("web/src/App.tsx", "node"),
        ("lib/x.mjs", "node"),
        ("calc/calc.go", "go"),
        ("src/lib.rs", "rust"),
        ("src/main/java/com/x/Calc.java", "jvm"),
        ("lib/x.rb", ""),
    ],
)
def test_a_files_ecosystem_is_its_languages(path: str, ecosystem: str) -> None:
    found = for_path(path)
    assert found is not None and found.name == ecosystem


def test_a_file_of_no_language_has_no_ecosystem() -> None:
    assert for_path("README.md") is None and for_path("Makefile") is None


@pytest.mark.parametrize(
    ("path", "is_test"),
    [
        ("tests/test_ops.py", True),
        ("calc/ops.py", False),
        ("calc/calc_test.go", True),
        ("calc/calc.go", False),
        ("test/calc.test.js", True),
        ("src/calc.js", False),
        ("src/__tests__/calc.ts", True),
        ("tests/it.rs", True),
        ("src/lib.rs", False),
        ("src/test/java/com/x/CalcTest.java", True),
        ("src/main/java/com/x/Calc.java", False),
    ],
)
def test_test_files_by_each_ecosystems_rules(path: str, is_test: bool) -> None:
    assert is_test_path(path) is is_test


@pytest.mark.parametrize(
    ("argv", "ecosystem"),
    [
        (("python3", "-m", "pytest"), "python"),
        (("pytest", "-x"), "python"),
        (("npm", "test"), "node"),
        (("node", "--test", "test/"), "node"),
        (("go", "test", "./..."), "go"),
        (("cargo", "test"), "rust"),
        (("mvn", "-o", "test"), "jvm"),
        (("./gradlew", "test"), "jvm"),
        (("make", "test"), ""),
    ],
)
def test_a_commands_ecosystem_is_its_runners(argv: tuple[str, ...], ecosystem: str) -> None:
    assert ecosystem_of(TestCommand(argv, "config")).name == ecosystem


def test_every_ecosystem_has_a_distinct_name_and_languages() -> None:
    names = [e.name for e in ECOSYSTEMS]
    assert len(set(names)) == len(names) and all(names)
    languages = [lang for e in ECOSYSTEMS for lang in e.languages]
    assert len(set(languages)) == len(languages)


@pytest.mark.parametrize(
    "text",
    ["npm ci && npm test", "go vet ./... ; go test ./...", "CI=1 npm test", "make test | tee x"],
)
def test_a_command_with_shell_syntax_runs_through_sh(text: str) -> None:
    assert has_shell_syntax(text)
    command = parse_command(text, "config")
    assert command.argv == ("sh", "-c", text) and command.shell
    assert command.display.startswith(text) and "through sh -c" in command.display


@pytest.mark.parametrize("text", ["pytest -k 'a and b'", "cargo test -- --nocapture", "go test"])
def test_a_plain_command_is_split_into_arguments(text: str) -> None:
    assert not has_shell_syntax(text)
    assert not parse_command(text, "config").shell


def test_a_configured_shell_command_keeps_its_projects_ecosystem(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": json.dumps({"scripts": {"test": "node --test"}})})
    command = detect_test_command(tmp_path, "npm ci && npm test")
    assert command is not None and command.shell and command.ecosystem == "node"


def test_a_mixed_repository_runs_each_files_tests_with_its_projects_command(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'app'\n",
            "tests/test_app.py": "def test_a():\n    pass\n",
            "web/package.json": json.dumps({"scripts": {"test": "node --test test/"}}),
            "web/src/app.js": "module.exports = {};\n",
        },
    )
    main = detect_test_command(tmp_path)
    assert main is not None and main.ecosystem == "python"
    assert project_command(tmp_path, "tests/test_app.py", main) is main
    web = project_command(tmp_path, "web/test/swc-x-weak.test.js", main)
    assert web.ecosystem == "node" and web.project == "web"
    assert "in web/" in web.display


class RecordingRunner:
    """Records each run's command and selection; every selected test passes."""

    def __init__(self) -> None:
        self.runs: list[tuple[TestCommand, tuple[str, ...]]] = []

    def run(self, root, command, *, timeout, selection=(), isolation=None):
        from swcollab.sandbox import TestResult, TestRun

        self.runs.append((command, tuple(selection)))
        results = tuple(TestResult(f"{s}::t", "passed", "", s) for s in selection)
        return TestRun(0, False, f"ran {' '.join(selection)}\n", 0.1, results, command.argv)


def test_a_suite_runs_each_projects_files_with_that_projects_command(tmp_path: Path) -> None:
    from swcollab.engine.testsuite import TestSuite
    from swcollab.sandbox import UNSANDBOXED

    write(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'app'\n",
            "tests/test_app.py": "",
            "web/package.json": json.dumps({"scripts": {"test": "node --test test/"}}),
        },
    )
    main = detect_test_command(tmp_path)
    assert main is not None
    runner = RecordingRunner()
    suite = TestSuite(main, 60.0, UNSANDBOXED, runner=runner)
    run = suite.run(tmp_path, ["tests/test_app.py", "web/test/swc-x-weak.test.js"])
    assert [(c.ecosystem, c.project, s) for c, s in runner.runs] == [
        ("python", "", ("tests/test_app.py",)),
        ("node", "web", ("web/test/swc-x-weak.test.js",)),
    ]
    assert run.status_of("tests/test_app.py") == "passed"
    assert run.status_of("web/test/swc-x-weak.test.js") == "passed"
    assert "ran tests/test_app.py" in run.output and "ran web/test/" in run.output


def test_a_project_in_a_directory_below_the_top_is_found_and_run_there(tmp_path: Path) -> None:
    write(tmp_path, {"README.md": "", "backend/go.mod": "module x\n", "docs/index.md": ""})
    command = detect_test_command(tmp_path)
    assert command is not None and command.ecosystem == "go" and command.project == "backend"
    assert command.display.endswith("in backend/)")
