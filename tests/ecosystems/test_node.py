"""JavaScript and TypeScript: the runner behind ``npm test``, its reports, where a new
test goes (so that the project's own command runs it) and how it imports the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swcollab.ecosystems import detect_test_command
from swcollab.ecosystems.node import NODE
from swcollab.ecosystems.node_runners import read_report, runner_argv, runner_of

from .conftest import git


def project(root: Path, files: dict[str, str], script: str | None = None, **package) -> Path:
    data = {"name": "p", **package, "scripts": {"test": script} if script else {}}
    files = {"package.json": json.dumps(data), **files}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    return root


@pytest.mark.parametrize(
    ("script", "kind", "paths", "env"),
    [
        ("node --test test/", "node --test", ["test/"], {}),
        ("node --import tsx --test src/**/*.test.ts", "node --test", ["src/**/*.test.ts"], {}),
        ("jest --ci", "jest", [], {}),
        ("npx vitest run tests", "vitest", ["tests"], {}),
        ("NODE_ENV=test mocha --exit spec/", "mocha", ["spec/"], {"NODE_ENV": "test"}),
    ],
)
def test_a_script_that_is_one_runner_alone(script, kind, paths, env) -> None:
    runner = runner_of(script)
    assert runner is not None and runner.kind == kind
    assert runner.paths == paths and runner.env == env


@pytest.mark.parametrize("script", ["npm run build && jest", "tsc; node --test", "make test", ""])
def test_any_other_script_runs_as_npm_test(script: str) -> None:
    assert runner_of(script) is None


def test_npm_test_with_a_pretest_step_runs_through_npm(tmp_path: Path) -> None:
    root = project(tmp_path, {}, "jest")
    (root / "package.json").write_text(json.dumps({"scripts": {"test": "jest", "pretest": "tsc"}}))
    command = detect_test_command(root)
    assert command is not None and command.runner == "" and not NODE.reports_per_test(command)
    run = NODE.invocation(command, ["test/a.test.js"], root, tmp_path / "out")
    assert run.argv == ("npm", "test")


def test_each_runner_is_given_the_selected_files_and_its_report(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    node = runner_argv(runner_of("node --test test/"), ["test/a.test.js"], out)
    assert node[:2] == ("node", "--test") and node[-1] == "test/a.test.js"
    assert f"--test-reporter-destination={out / 'node.jsonl'}" in node
    assert (out / "swc-reporter.mjs").is_file()
    jest = runner_argv(runner_of("jest --ci"), ["a.test.js"], out)
    assert jest == (
        "jest",
        "--ci",
        "--json",
        f"--outputFile={out / 'jest.json'}",
        "--runTestsByPath",
        "a.test.js",
    )
    vitest = runner_argv(runner_of("vitest"), [], out)
    assert vitest[:2] == ("vitest", "run") and f"--outputFile.json={out / 'vitest.json'}" in vitest
    mocha = runner_argv(runner_of("mocha test/"), ["test/x.js"], out)
    assert mocha[-1] == "test/x.js" and "test/" not in mocha


def test_reports_become_per_test_results(tmp_path: Path) -> None:
    root, out = tmp_path / "w", tmp_path / "out"
    out.mkdir()
    lines = [
        {"type": "test:pass", "name": "adds zero", "parents": [], "file": f"{root}/test/a.test.js"},
        {
            "type": "test:fail",
            "name": "inner",
            "parents": ["group"],
            "file": f"{root}/test/a.test.js",
            "error": "boom",
        },
        {
            "type": "test:fail",
            "name": f"{root}/test/bad.test.js",
            "parents": [],
            "file": f"{root}/test/bad.test.js",
            "error": "SyntaxError",
        },
    ]
    (out / "node.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    results, _ = read_report(runner_of("node --test"), out, root)
    assert [(r.test_id, r.status) for r in results] == [
        ("test/a.test.js::adds zero", "passed"),
        ("test/a.test.js::group > inner", "failed"),
        ("test/bad.test.js", "error"),  # the file did not load: a broken test, not a failure
    ]
    jest = {
        "testResults": [
            {
                "name": f"{root}/a.test.js",
                "status": "failed",
                "assertionResults": [
                    {
                        "ancestorTitles": ["calc"],
                        "title": "adds",
                        "status": "failed",
                        "failureMessages": ["Expected 5"],
                    },
                    {
                        "ancestorTitles": [],
                        "title": "later",
                        "status": "pending",
                        "failureMessages": [],
                    },
                ],
            },
            {
                "name": f"{root}/b.test.js",
                "status": "failed",
                "message": "Test suite failed to run",
                "assertionResults": [],
            },
        ]
    }
    (out / "vitest.json").write_text(json.dumps(jest))
    results, _ = read_report(runner_of("vitest"), out, root)
    assert [(r.test_id, r.status) for r in results] == [
        ("a.test.js::calc > adds", "failed"),
        ("a.test.js::later", "skipped"),
        ("b.test.js", "error"),
    ]
    mocha = {
        "passes": [],
        "pending": [],
        "failures": [
            {"fullTitle": "calc adds", "file": f"{root}/t.js", "err": {"stack": "AssertionError"}}
        ],
    }
    (out / "mocha.json").write_text(json.dumps(mocha))
    results, shown = read_report(runner_of("mocha"), out, root)
    assert [(r.test_id, r.status) for r in results] == [("t.js::calc adds", "failed")]
    assert "FAILED t.js: calc adds" in shown


def test_a_new_test_goes_where_the_projects_tests_are_named_as_they_are(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {"src/calc.ts": "", "src/__tests__/calc.spec.ts": "import { add } from '../calc';\n"},
        "jest",
    )
    place = NODE.new_test(root, "src/calc.ts", "Add is wrong", "weak")
    assert place.path == "src/__tests__/swc-add-is-wrong-weak.spec.ts"
    assert place.language == "typescript" and "Jest" in place.framework
    assert place.import_hint == "import { ... } from '../calc';"
    assert place.example_path == "src/__tests__/calc.spec.ts"


def test_tests_beside_their_sources_stay_beside_them(tmp_path: Path) -> None:
    root = project(tmp_path, {"lib/a.mjs": "", "lib/a.test.mjs": ""}, "node --test", type="module")
    place = NODE.new_test(root, "lib/a.mjs", "x", "strong")
    assert place.path == "lib/swc-x-strong.test.mjs"
    assert place.import_hint == "import { ... } from './a.mjs';"


def test_without_tests_yet_the_scripts_folder_is_used(tmp_path: Path) -> None:
    root = project(tmp_path, {"src/a.js": "", "spec/.keep": ""}, "mocha spec/")
    place = NODE.new_test(root, "src/a.js", "x", "weak")
    assert place.path == "spec/swc-x-weak.js"  # mocha runs every file of its folder
    assert place.import_hint == "const { ... } = require('../src/a.js');"


@pytest.mark.parametrize(
    ("path", "is_test"),
    [
        ("test/a.js", True),
        ("a.spec.ts", True),
        ("src/__tests__/x.tsx", True),
        ("src/a.js", False),
        ("test/fixture.json", False),
    ],
)
def test_which_files_are_tests(path: str, is_test: bool) -> None:
    assert NODE.is_test_path(path) is is_test


def test_npm_run_of_another_script_starts_its_runner(tmp_path: Path) -> None:
    root = project(tmp_path, {}, "echo no")
    (root / "package.json").write_text(json.dumps({"scripts": {"test:unit": "vitest run"}}))
    command = detect_test_command(root, "npm run test:unit")
    assert command is not None and command.ecosystem == "node" and command.runner == "vitest"
