"""Telling "the tests cannot run" from "the tests run and some fail".

A run that yields no per-test result (the command is missing, pytest is not installed
for the interpreter, a conftest cannot import, a plugin the configuration needs is
absent) says nothing about the code: judging a patch by it would reject every patch.
These functions read a ``TestRun`` and say why it cannot judge, as data; the engine
decides what to do with it (an exit-3 error before any model call, a discarded test).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .detect import TestCommand
from .results import TestRun

EXIT_NO_TESTS = 5  # pytest: no test collected
EXIT_CANNOT_EXECUTE = 126
EXIT_NOT_FOUND = 127

KIND_NOT_FOUND = "command not found"
KIND_NO_PYTEST = "pytest missing"
KIND_TIMEOUT = "timed out"
KIND_NO_TESTS = "no tests collected"
KIND_NO_RESULTS = "no per-test result"
KIND_CONFTEST = "conftest cannot import"
KIND_USAGE = "usage error"
KIND_COLLECTION = "cannot collect"
KIND_LIMIT = "sandbox limit"

_MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")
_UNRECOGNIZED = re.compile(r"error: unrecognized arguments: (.+)")
_CANNOT_RUN = re.compile(r"\[swc: cannot run (.+?)\]")
_ERROR_LINE = re.compile(r"^E\s{2,}(\S.*)$", re.M)
# rustc/cargo, tsc and the like: the first error says why; the last only that it failed
_COMPILER_ERROR = re.compile(r"^(error(?:\[\w+\])?: .+)$", re.M)
_SUMMARY_ERROR = re.compile(r"error: (could not compile|test failed|aborting due|Recipe)")
# Well-known options of pytest plugins, for the hint when one is missing.
PLUGIN_OPTIONS = {
    "--cov": "pytest-cov",
    "--timeout": "pytest-timeout",
    "-n": "pytest-xdist",
    "--numprocesses": "pytest-xdist",
    "--benchmark": "pytest-benchmark",
    "--reruns": "pytest-rerunfailures",
    "--mypy": "pytest-mypy",
    "--randomly": "pytest-randomly",
    "--asyncio-mode": "pytest-asyncio",
    "--doctest-glob": "",
}


@dataclass(frozen=True)
class CannotRun:
    """Why a run judges nothing: ``kind`` (one of the ``KIND_*``), the cause in one line,
    where it happened (a file being collected) and the missing module, if one is."""

    kind: str
    cause: str
    where: str = ""
    module: str | None = None

    def line(self) -> str:
        return self.cause + (f" ({self.where})" if self.where else "")


def missing_module(text: str) -> str | None:
    """The module a ``ModuleNotFoundError`` in ``text`` names."""
    found = _MISSING_MODULE.search(text)
    return found.group(1) if found else None


def error_line(text: str) -> str:
    """The line of ``text`` that says what went wrong: pytest's last ``E   ...`` line, an
    error/exception line, else the last non-blank line (at most 300 characters)."""
    errors = _ERROR_LINE.findall(text)
    if errors:
        return errors[-1].strip()[:300]
    compiler = [m for m in _COMPILER_ERROR.findall(text) if not _SUMMARY_ERROR.match(m)]
    if compiler:
        return compiler[0].strip()[:300]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("[swc:")] or lines
    for line in reversed(lines):
        if re.search(r"(Error|Exception|error:|ERROR|cannot|not found|No such)", line):
            return line[:300]
    return lines[-1][:300] if lines else "no output"


def cannot_run(run: TestRun, command: TestCommand) -> CannotRun | None:
    """Why ``run`` reports no test at all (None: tests ran, passing or failing).

    For pytest, "ran" means a per-test result in the JUnit report (a collection error
    counts: the caller looks at those). Other runners only have an exit code; their
    output is searched for a sign that a test ran (``ran_any_test``).
    """
    if run.exit_code in (EXIT_NOT_FOUND, EXIT_CANNOT_EXECUTE) or _CANNOT_RUN.search(run.output):
        found = _CANNOT_RUN.search(run.output)
        cause = found.group(1) if found else error_line(run.output)
        return CannotRun(KIND_NOT_FOUND, f"the test command cannot start: {cause}")
    if run.timed_out:
        return CannotRun(KIND_TIMEOUT, "the test run did not finish in time")
    if run.limit_hit is not None and not run.results:
        return CannotRun(KIND_LIMIT, run.limit_hit.text)
    if command.is_pytest:
        return None if run.results else _pytest_without_results(run)
    if ran_any_test(run.output, command.argv) is False and run.exit_code != 0:
        return CannotRun(
            KIND_NO_RESULTS,
            "the test command ran no test: " + error_line(run.output),
            module=missing_module(run.output),
        )
    return None


def _pytest_without_results(run: TestRun) -> CannotRun:
    output = run.output
    if "No module named pytest" in output:
        return CannotRun(
            KIND_NO_PYTEST, "pytest is not installed for this interpreter", module="pytest"
        )
    if run.exit_code == EXIT_NO_TESTS:
        return CannotRun(KIND_NO_TESTS, "pytest collected no test")
    conftest = re.search(r"ImportError while loading conftest '([^']+)'", output)
    if conftest:
        return CannotRun(
            KIND_CONFTEST,
            error_line(output),
            where=f"loading {conftest.group(1)}",
            module=missing_module(output),
        )
    unknown = _UNRECOGNIZED.search(output)
    if unknown:
        options = unknown.group(1).strip()
        plugins = sorted(
            {
                plugin
                for option, plugin in PLUGIN_OPTIONS.items()
                if plugin and re.search(rf"(^|\s){re.escape(option)}\b", options)
            }
        )
        needs = f" (a plugin missing here? {', '.join(plugins)})" if plugins else ""
        return CannotRun(KIND_USAGE, f"pytest does not know the option(s) {options}{needs}")
    return CannotRun(
        KIND_NO_RESULTS, "no per-test result: " + error_line(output), module=missing_module(output)
    )


def collection_failures(run: TestRun, files: Iterable[str]) -> list[tuple[str, str]]:
    """(file or directory, message) of each collection error that hits ``files``."""
    wanted = [f.split("::", 1)[0] for f in files]
    hits = []
    for result in run.results:
        if not result.is_collection_error:
            continue
        place = result.file or result.test_id
        if not wanted or any(w == place or w.startswith(place.rstrip("/") + "/") for w in wanted):
            hits.append((place, result.message))
    return hits


def is_dependency(module: str, root: Path, tracked: Iterable[str]) -> bool:
    """Whether a missing ``module`` is a dependency of the project rather than its own code
    (no file or directory of the checkout carries its top-level name)."""
    top = module.split(".")[0]
    for path in tracked:
        parts = Path(path).parts
        if top in parts[:-1] or Path(path).stem == top:
            return False
    return not ((root / top).exists() or (root / "src" / top).exists())


# Signs in a runner's output that at least one test ran (passing or failing).
_RAN = {
    "go": re.compile(r"^(=== RUN|--- (PASS|FAIL|SKIP)|ok\s+\S+|PASS$|FAIL\s+\S+\s+[\d.]+s$)", re.M),
    "cargo": re.compile(r"^(running \d+ tests?$|test result: )", re.M),
    "js": re.compile(
        r"(^\s*Tests?:\s+\d|Test Files\s+\d|\d+ (passing|failing)\b|"
        r"^# (tests|pass|fail) \d+|^. tests \d+|^(not )?ok \d+ )",
        re.M,
    ),
}


def ran_any_test(output: str, argv: tuple[str, ...]) -> bool | None:
    """Whether a runner without per-test reports ran a test (None: cannot tell)."""
    runner = _runner(argv)
    if runner is None:
        return None
    return bool(_RAN[runner].search(output))


def _runner(argv: tuple[str, ...]) -> str | None:
    name = Path(argv[0]).name if argv else ""
    if name == "go" and "test" in argv[1:2]:
        return "go"
    if name == "cargo" and "test" in argv[1:3]:
        return "cargo"
    if name in ("npm", "npx", "yarn", "pnpm", "jest", "vitest", "mocha", "bun"):
        return "js"
    if name == "node" and "--test" in argv:
        return "js"
    return None


def probe_argv(command: TestCommand) -> tuple[str, ...] | None:
    """A command that checks the tests can be collected (or built) without running them:
    pytest ``--collect-only``, ``go test -run '^$'``, ``cargo test --no-run``; None for a
    runner that has no such mode."""
    argv = command.argv
    if command.is_pytest:
        return (*argv, "--collect-only", "-q")
    if _runner(argv) == "go":
        at = argv.index("test") + 1
        return (*argv[:at], "-count=1", "-run", "^$", *argv[at:])
    if _runner(argv) == "cargo":
        cut = argv.index("--") if "--" in argv else len(argv)
        return (*argv[:cut], "--no-run")
    return None


_COLLECTED = re.compile(r"(\d+) tests? collected|collected (\d+) items?")
_PER_FILE = re.compile(r"^\S+\.py: (\d+)$", re.M)


def collected_count(output: str) -> int:
    """How many tests a ``--collect-only`` run found. pytest says it in a summary, or (at
    ``-q``) lists each id, or (at ``-qq`` and below) each file with its count; none of
    those means none was collected."""
    if re.search(r"\bno tests (collected|ran)\b", output):
        return 0
    counts = [int(a or b) for a, b in _COLLECTED.findall(output)]
    if counts:
        return counts[-1]
    per_file = [int(n) for n in _PER_FILE.findall(output)]
    if per_file:
        return sum(per_file)
    return sum(1 for line in output.splitlines() if "::" in line and not line.startswith(" "))
