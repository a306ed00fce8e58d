"""The test runners of JavaScript and TypeScript projects: node's own (``node --test``),
Jest, Vitest and Mocha. Each is started directly (not through ``npm test``) when the
project's test script is that runner alone, so swc can hand it the selected files and
ask for its machine-readable report; each test's result is read from that report."""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..sandbox.command import has_shell_syntax
from ..sandbox.results import TestResult
from .base import clip_message

NODE_TEST, JEST, VITEST, MOCHA = "node --test", "jest", "vitest", "mocha"
FRAMEWORKS = {
    NODE_TEST: "node:test (`node --test`)",
    JEST: "Jest",
    VITEST: "Vitest",
    MOCHA: "Mocha",
}
REPORTS = {NODE_TEST: "node.jsonl", JEST: "jest.json", VITEST: "vitest.json", MOCHA: "mocha.json"}
_LAUNCHERS = ("npx", "pnpm", "yarn", "bunx")
# options of node and the runners whose value is the next word (not a test path)
_VALUE_OPTIONS = frozenset(
    {
        *("--import", "--require", "-r", "--loader", "--experimental-loader", "--env-file"),
        *("--test-name-pattern", "--test-reporter", "--test-reporter-destination"),
        *("--test-concurrency", "--test-timeout", "--test-skip-pattern", "--conditions", "-C"),
        *("--config", "-c", "--testPathPattern", "--testNamePattern", "-t", "--maxWorkers"),
        *("-w", "--reporter", "-R", "--ui", "-u", "--timeout", "--spec", "--extension"),
        *("--file", "--ignore", "--dir", "--root", "--project", "--environment", "--rootDir"),
    }
)
# swc's reporter for ``node --test``: one JSON line a finished test, with its file (the
# built-in junit reporter of node 20 names no file)
NODE_REPORTER = """\
const stacks = new Map();
export default async function* swcReporter(source) {
  for await (const event of source) {
    const data = event.data || {};
    const file = data.file || "";
    if (event.type === "test:start") {
      const stack = stacks.get(file) || [];
      stack.length = data.nesting;
      stack.push(data.name);
      stacks.set(file, stack);
      continue;
    }
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const details = data.details || {};
    if (details.type === "suite") continue;
    const stack = (stacks.get(file) || []).slice(0, data.nesting);
    const error = details.error ? String(details.error.cause || details.error) : "";
    yield JSON.stringify({
      type: event.type, name: data.name, parents: stack, file,
      skip: Boolean(data.skip || data.todo), error: error.slice(0, 3000),
    }) + "\\n";
  }
}
"""


@dataclass(frozen=True)
class Runner:
    """The project's test script when it is one runner alone: which runner, its argv (the
    program, then options, then the paths it was given) and the variables it sets."""

    kind: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def paths(self) -> list[str]:
        """The files and directories the script names (its positional arguments)."""
        found: list[str] = []
        previous = ""
        for word in self.argv[1:]:
            if not word.startswith("-") and previous not in _VALUE_OPTIONS and word != "run":
                found.append(word)
            previous = word
        return found


def runner_of(script: str) -> Runner | None:
    """The runner of a test script such as ``jest --ci`` or ``NODE_ENV=test mocha``;
    None for a script that is more than one command or none swc knows."""
    env: dict[str, str] = {}
    words = script.split()
    while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    rest = " ".join(words)
    if not rest or has_shell_syntax(rest):
        return None
    argv = shlex.split(rest)
    if argv[0] in _LAUNCHERS and len(argv) > 1:
        argv = argv[1:]
    program = Path(argv[0]).name
    if program == "node" and "--test" in argv:
        return Runner(NODE_TEST, tuple(argv), env)
    if program in (JEST, VITEST, MOCHA):
        return Runner(program, tuple(argv), env)
    return None


def runner_argv(runner: Runner, files: Sequence[str], out: Path) -> tuple[str, ...]:
    """The runner's argv with its machine-readable report in ``out`` and, when ``files``
    (relative to the project) are given, those in place of the paths the script names."""
    report = out / REPORTS[runner.kind]
    options = [a for a in runner.argv if a not in runner.paths]
    paths = list(files) or runner.paths
    if runner.kind == NODE_TEST:
        (out / "swc-reporter.mjs").write_text(NODE_REPORTER, encoding="utf-8")
        reporters = [
            f"--test-reporter={out / 'swc-reporter.mjs'}",
            f"--test-reporter-destination={report}",
            "--test-reporter=spec",
            "--test-reporter-destination=stdout",
        ]
        return (*options, *reporters, *paths)
    if runner.kind == JEST:
        selected = ["--runTestsByPath", *files] if files else runner.paths
        return (*options, "--json", f"--outputFile={report}", *selected)
    if runner.kind == VITEST:
        if len(options) < 2 or options[1] != "run":
            options.insert(1, "run")
        reporters = ["--reporter=default", "--reporter=json", f"--outputFile.json={report}"]
        return (*options, *reporters, *paths)
    return (*options, "--reporter", "json", "--reporter-option", f"output={report}", *paths)


def read_report(runner: Runner, out: Path, root: Path) -> tuple[list[TestResult], str]:
    """(each test's result, a summary to show when the runner printed none) from the
    report in ``out``; paths made relative to the worktree ``root``."""
    report = out / REPORTS[runner.kind]
    if not report.is_file():
        return [], ""
    text = report.read_text(encoding="utf-8", errors="replace")
    if runner.kind == NODE_TEST:
        return _node_results(text, root), ""
    try:
        data = json.loads(text)
    except ValueError:
        return [], ""
    if runner.kind == MOCHA:
        return _mocha_results(data, root)
    return _jest_results(data, root), ""


def _relative(file: str, root: Path) -> str:
    if not file:
        return ""
    path = file.removeprefix("file://")
    return os.path.relpath(path, root) if os.path.isabs(path) else path


def _result(file: str, names: Sequence[str], status: str, message: str = "") -> TestResult:
    test_id = f"{file}::{' > '.join(n for n in names if n)}"
    return TestResult(test_id, status, clip_message(message), file)


def _node_results(text: str, root: Path) -> list[TestResult]:
    results = []
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        file = _relative(str(event.get("file", "")), root)
        name, error = str(event.get("name", "")), str(event.get("error", ""))
        if event.get("type") == "test:fail" and _relative(name, root) == file:
            results.append(TestResult(file, "error", clip_message(error), file))  # did not load
            continue
        status = (
            "skipped"
            if event.get("skip")
            else ("passed" if event.get("type") == "test:pass" else "failed")
        )
        results.append(_result(file, [*event.get("parents", []), name], status, error))
    return results


_JEST_STATUS = {"passed": "passed", "failed": "failed"}


def _jest_results(data: dict, root: Path) -> list[TestResult]:
    """Jest's and Vitest's ``--json`` report (the same shape)."""
    results = []
    for suite in data.get("testResults") or []:
        file = _relative(str(suite.get("name", "")), root)
        cases = suite.get("assertionResults") or []
        if not cases and suite.get("status") == "failed":
            results.append(TestResult(file, "error", clip_message(str(suite.get("message"))), file))
        for case in cases:
            names = [*case.get("ancestorTitles", []), case.get("title", "")]
            status = _JEST_STATUS.get(str(case.get("status")), "skipped")
            message = "\n".join(str(m) for m in case.get("failureMessages") or [])
            results.append(_result(file, names, status, message))
    return results


def _mocha_results(data: dict, root: Path) -> tuple[list[TestResult], str]:
    """Mocha's JSON report; it replaces mocha's own output, so the failures are shown."""
    results = []
    shown = []
    for key, status in (("passes", "passed"), ("failures", "failed"), ("pending", "skipped")):
        for case in data.get(key) or []:
            file = _relative(str(case.get("file", "")), root)
            error = case.get("err") or {}
            message = str(error.get("stack") or error.get("message") or "")
            results.append(_result(file, [str(case.get("fullTitle", ""))], status, message))
            if status == "failed":
                shown.append(f"FAILED {file}: {case.get('fullTitle')}\n{message}\n")
    return results, "".join(shown)
