"""``swc doctor`` on the test command: none found, or one that cannot start, blocks
``swc fix`` (exit 3) and says what to set or install in the project's own terms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from swcollab.cli import cli
from swcollab.config import Settings
from swcollab.doctor import gather

from .conftest import git


def repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    return root


def fact_on_tests(root: Path, **settings: object) -> dict:
    report = gather(root, Settings(**settings)).as_dict()  # type: ignore[arg-type]
    return next(f for f in report["facts"] if f["name"] == "tests")


def test_no_test_command_blocks_and_names_one_in_the_projects_terms(tmp_path: Path) -> None:
    root = repo(tmp_path, {"src/main/java/com/x/Calc.java": "package com.x;\nclass Calc {}\n"})
    fact = fact_on_tests(root)
    assert fact["blocking"] and fact["value"] == "no test command found"
    assert 'test_cmd = "mvn -o -B test"' in fact["hint"]
    result = CliRunner().invoke(cli, ["--repo", str(root), "doctor"])
    assert result.exit_code == 3
    assert "!! tests: no test command found" in result.output


def test_a_runner_missing_from_node_modules_blocks(tmp_path: Path) -> None:
    package = {"scripts": {"test": "vitest"}, "devDependencies": {"vitest": "^1"}}
    root = repo(tmp_path, {"package.json": json.dumps(package), "src/a.ts": ""})
    fact = fact_on_tests(root)
    assert fact["blocking"]
    assert "dependencies are not installed (node_modules is missing)" in fact["value"]
    assert "npm ci" in fact["hint"] and 'test_cmd = "npm test"' in fact["hint"]
    bin_dir = root / "node_modules" / ".bin"
    bin_dir.mkdir(parents=True)
    assert "vitest is not installed in node_modules" in fact_on_tests(root)["value"]
    (bin_dir / "vitest").write_text("#!/bin/sh\n")
    fact = fact_on_tests(root)
    assert fact["ok"] and fact["value"].endswith("runs vitest")


def test_a_toolchain_not_installed_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo(tmp_path / "p", {"go.mod": "module x\n", "x.go": "package x\n"})
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    fact = fact_on_tests(root)
    assert fact["blocking"] and "go test ./..." in fact["value"]
    assert fact["value"].endswith("cannot start: go: not found")
    assert "go mod download" in fact["hint"]


def test_a_test_cmd_with_shell_syntax_runs_through_sh(tmp_path: Path) -> None:
    root = repo(tmp_path, {"package.json": json.dumps({"scripts": {"test": "node --test"}})})
    fact = fact_on_tests(root, test_cmd="npm ci && npm test")
    assert fact["ok"] and fact["value"].startswith("npm ci && npm test  (config, through sh -c)")
