"""Which test command swc runs, and how it says it chose it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from swcollab.ecosystems import detect_test_command
from swcollab.errors import ConfigError
from swcollab.sandbox import TestCommand

from .helpers import write


def test_python_project_without_an_environment_uses_this_interpreters_pytest(
    tmp_path: Path,
):
    write(tmp_path, {"pyproject.toml": "[project]\nname='x'\n", "tests/test_x.py": ""})
    cmd = detect_test_command(tmp_path)
    assert cmd is not None
    assert (cmd.argv, cmd.source) == (
        (sys.executable, "-m", "pytest"),
        "detected: pytest (found tests/)",
    )
    assert cmd.python_env is not None and cmd.python_env.fallback
    assert cmd.is_pytest
    assert cmd.display == f"{sys.executable} -m pytest  (detected: pytest (found tests/))"


def test_python_test_file_outside_a_tests_dir(tmp_path: Path):
    write(tmp_path, {"pkg/core.py": "", "pkg/core_test.py": ""})
    cmd = detect_test_command(tmp_path)
    assert cmd is not None and cmd.source == "detected: pytest (found pkg/core_test.py)"


def test_tests_in_a_virtualenv_or_node_modules_do_not_count(tmp_path: Path):
    write(tmp_path, {".venv/lib/test_a.py": "", "node_modules/x/test_b.py": "", "app.py": ""})
    assert detect_test_command(tmp_path) is None


def test_npm_with_a_test_script(tmp_path: Path):
    write(tmp_path, {"package.json": json.dumps({"scripts": {"test": "jest"}})})
    cmd = detect_test_command(tmp_path)
    assert cmd is not None and cmd.argv == ("npm", "test") and "package.json" in cmd.source
    assert not cmd.is_pytest


def test_npm_placeholder_script_is_not_a_test_command(tmp_path: Path):
    script = 'echo "Error: no test specified" && exit 1'
    write(tmp_path, {"package.json": json.dumps({"scripts": {"test": script}})})
    assert detect_test_command(tmp_path) is None


def test_broken_package_json_is_ignored(tmp_path: Path):
    write(tmp_path, {"package.json": "{not json"})
    assert detect_test_command(tmp_path) is None


def test_go_and_cargo(tmp_path: Path):
    write(tmp_path, {"go/go.mod": "module x\n", "rust/Cargo.toml": "[package]\n"})
    go = detect_test_command(tmp_path / "go")
    rust = detect_test_command(tmp_path / "rust")
    assert go is not None and go.argv == ("go", "test", "./...")
    assert rust is not None and rust.argv == ("cargo", "test")
    assert go.source == "detected: go test (found go.mod)"


def test_configured_command_wins_and_names_its_source(tmp_path: Path):
    write(tmp_path, {"tests/test_x.py": ""})
    cmd = detect_test_command(tmp_path, "make test ARGS='-k fast'")
    assert cmd is not None
    assert (cmd.argv, cmd.source) == (("make", "test", "ARGS=-k fast"), "config")
    # a Python project: its environment (here, none but swc's) comes with the command
    assert cmd.python_env is not None
    flag = detect_test_command(tmp_path, "pytest -x", source="flag")
    assert flag is not None and flag.source == "flag" and flag.is_pytest


def test_blank_configured_command_falls_back_to_detection(tmp_path: Path):
    write(tmp_path, {"tests/test_x.py": ""})
    cmd = detect_test_command(tmp_path, "  ")
    assert cmd is not None and cmd.source.startswith("detected: pytest")


def test_nothing_to_detect(tmp_path: Path):
    write(tmp_path, {"README.md": "hi\n"})
    assert detect_test_command(tmp_path) is None


def test_unparsable_command_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot be parsed"):
        detect_test_command(tmp_path, "pytest 'unclosed")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("pytest",), True),
        (("/venv/bin/py.test", "-x"), True),
        (("python3", "-m", "pytest"), True),
        (("python3", "-m", "unittest"), False),
        (("tox",), False),
    ],
)
def test_is_pytest(argv: tuple[str, ...], expected: bool):
    assert TestCommand(argv, "config").is_pytest is expected
