"""Python: pytest with the project's own interpreter (``python_env``), JUnit XML results."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..sandbox.command import TestCommand, is_pytest_argv
from ..sandbox.diagnose import (
    KIND_CONFTEST,
    KIND_NO_PYTEST,
    KIND_NO_RESULTS,
    KIND_NO_TESTS,
    KIND_USAGE,
    CannotRun,
    error_line,
    missing_module,
)
from ..sandbox.results import parse_junit
from .base import Ecosystem, Invocation, NewTest, ReadRun, walk_files
from .python_env import PythonEnv, editable_paths, env_python, find_python_env

if TYPE_CHECKING:
    from ..sandbox.results import TestRun

_TEST_DIRS = ("tests", "test", "testing")
_TEST_MARKERS = ("test_", "_test.", ".test.", ".spec.", "/tests/", "/test/", "conftest.py")
_PYTEST_FILE = re.compile(r"^(test_.*|.*_test)\.py$")
_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?(\.exe)?$")
_PACKAGING = ("pyproject.toml", "setup.py", "setup.cfg", "tox.ini", "pytest.ini")
EXIT_NO_TESTS = 5  # pytest: no test collected
EXIT_NOT_FOUND = 4  # pytest: usage error, "not found" for a selected test among them
# Python's own errors in the test code, as whole names: a project's TemplateSyntaxError
# (jinja) or YAMLSyntaxError is a fair failure of the code under test, not a broken test.
_BROKEN = re.compile(r"(?<!\w)(SyntaxError|IndentationError|ModuleNotFoundError|NameError: name)\b")
_MISSING_NAME = re.compile(r"cannot import name '(\w+)'|has no attribute '(\w+)'")
_UNRECOGNIZED = re.compile(r"error: unrecognized arguments: (.+)")
_COLLECTED = re.compile(r"(\d+) tests? collected|collected (\d+) items?")
_PER_FILE = re.compile(r"^\S+\.py: (\d+)$", re.M)
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


class Python(Ecosystem):
    name = "python"
    languages = frozenset({"python"})
    manifests = _PACKAGING
    programs = frozenset({"pytest", "py.test", "tox", "nox", "hatch", "pdm", "poetry", "uv"})
    home_toolchains = (
        ".pyenv",
        ".local/bin",
        ".local/lib",
        ".local/share/uv/python",
        ".local/share/hatch/env",
        ".local/share/virtualenvs",
        ".local/share/pdm",
        ".local/pipx",
        ".local/share/pipx",
        ".cache/pypoetry/virtualenvs",
        ".virtualenvs",
        "miniconda3",
        "anaconda3",
        "miniforge3",
        "mambaforge",
        ".conda/envs",
    )
    toolchain_vars = ("VIRTUAL_ENV", "CONDA_PREFIX", "PYENV_ROOT", "UV_PYTHON_INSTALL_DIR")
    checkout_envs = (".venv", "venv", ".tox", ".nox", "__pypackages__")
    setup_hint = "create the project's environment at the checkout root (.venv/)"
    example_test_cmd = ".venv/bin/python -m pytest"

    # ----------------------------------------------------------------- projects

    def owns(self, root: Path) -> bool:
        return is_python_project(root)

    def runs(self, argv: Sequence[str]) -> bool:
        if not argv:
            return False
        return is_pytest_argv(tuple(argv)) or bool(_PYTHON_NAME.match(Path(argv[0]).name))

    def detect(
        self, root: Path, checkout: Path, environ: Mapping[str, str] | None
    ) -> TestCommand | None:
        """pytest for a project with tests, run as ``<the project's python> -m pytest``."""
        reason = python_tests_reason(root)
        if reason is None:
            return None
        return pytest_command(checkout, f"detected: pytest ({reason})", environ)

    def configure(
        self, command: TestCommand, root: Path, checkout: Path, environ: Mapping[str, str] | None
    ) -> TestCommand:
        """A configured command with the project's environment: the interpreter it names,
        or for ``pytest``, ``make test`` and the like, the environment found."""
        command = replace(command, ecosystem=self.name)
        program = Path(command.argv[0])
        if command.shell:
            return replace(command, python_env=find_python_env(checkout, environ))
        if _PYTHON_NAME.match(program.name) and program.is_absolute():
            return replace(command, python_env=_named_python(program, checkout))
        return replace(command, python_env=find_python_env(checkout, environ))

    def reports_per_test(self, command: TestCommand) -> bool:
        return command.is_pytest

    def setup_warnings(self, command: TestCommand) -> tuple[list[str], list[str]]:
        python_env = command.python_env
        if python_env is None:
            return [], []
        warnings = []
        if python_env.fallback:
            warnings.append(
                f"tests run with swc's own interpreter {python_env.python}: no environment "
                "of the project was found (see docs/guide/test-environment.md, "
                '"Which Python runs the tests")'
            )
        return list(python_env.notes), warnings

    # ----------------------------------------------------------------- test files

    def is_test_path(self, path: str) -> bool:
        return is_test_marked(path)

    def holds_tests(self, path: str, text: object) -> bool:
        """What pytest collects by default (``test_*.py``, ``*_test.py``), not
        ``conftest.py`` nor ``tests/utils.py``."""
        return is_test_marked(path) and bool(_PYTEST_FILE.match(Path(path).name))

    def new_test(self, root: Path, source: str | None, slug: str, tier: str) -> NewTest:
        from .base import slug_name

        folder = next((d for d in ("tests", "test", "spec") if (root / d).is_dir()), "tests")
        hint = import_hint(source) if source else ""
        return NewTest(f"{folder}/test_swc_{slug_name(slug)}_{tier}.py", "pytest", "python", hint)

    def keep_only(self, code: str, path: str, kept_ids: Sequence[str]) -> str:
        return keep_only(code, kept_ids)

    def is_broken(self, status: str, message: str, task_text: str) -> bool:
        if _BROKEN.search(message):
            return True
        missing = _MISSING_NAME.search(message)
        if missing:
            # Importing a name the task asks to add is a fair failure; any other is a bad test.
            return (missing.group(1) or missing.group(2)) not in task_text
        return status == "error" and "fixture" in message and "not found" in message

    # ----------------------------------------------------------------- running

    def invocation(
        self, command: TestCommand, selection: Sequence[str], root: Path, out: Path
    ) -> Invocation:
        """pytest gets a JUnit report (written outside the worktree) for per-test results,
        keeps going past collection errors, and leaves no cache in the tree."""
        if not command.is_pytest:
            return Invocation((*command.argv, *([] if command.shell else selection)))
        argv = [*command.argv, "-p", "no:cacheprovider", "--continue-on-collection-errors"]
        if not any(a == "--rootdir" or a.startswith("--rootdir=") for a in argv):
            argv.append(f"--rootdir={root}")
        argv += ["-o", "junit_family=xunit1", f"--junitxml={out / 'junit.xml'}", *selection]
        return Invocation(tuple(argv))

    def read(
        self, command: TestCommand, output: str, out: Path, root: Path, selection: Sequence[str]
    ) -> ReadRun:
        return ReadRun(parse_junit(out / "junit.xml", root) if command.is_pytest else (), output)

    def run_env(
        self, env: dict[str, str], root: Path, command: TestCommand | None, cache: Path | None
    ) -> None:
        """The project's virtualenv first on PATH, as if activated; the worktree (its
        ``src/``, and the directories an editable install of the checkout points at,
        mapped to the worktree) first on PYTHONPATH, so the patched code is imported."""
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        python_env = command.python_env if command is not None else None
        first = [str(root / "src")] if (root / "src").is_dir() else []
        first.append(str(root))
        after: list[str] = []
        if python_env is not None:
            if python_env.prefix:
                prefix = Path(python_env.prefix)
                bin_dir = prefix / ("Scripts" if (prefix / "Scripts").is_dir() else "bin")
                env["PATH"] = os.pathsep.join(
                    [str(bin_dir), *env.get("PATH", "").split(os.pathsep)]
                )
                if (prefix / "pyvenv.cfg").is_file():
                    env["VIRTUAL_ENV"] = str(prefix)
                env.pop("PYTHONHOME", None)
            first += [str(root / rel) for rel in python_env.editable_paths]
            after += list(python_env.extra_paths)
        rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(first + after + rest))

    def readable(self, command: TestCommand) -> list[str]:
        """What the environment's .pth files put on sys.path elsewhere (a sibling project
        installed in editable mode)."""
        return list(command.python_env.site_paths) if command.python_env is not None else []

    def unknown_ids(self, output: str, root: Path, chosen: Sequence[str]) -> list[str]:
        """Selected ids that pytest reported as ``ERROR: not found: <abs path>::<name>``
        (pytest refuses the whole run for one of them)."""
        reported = {
            line[len("ERROR: not found: ") :].strip()
            for line in output.splitlines()
            if line.startswith("ERROR: not found: ")
        }
        return [s for s in chosen if s in reported or str(root / s) in reported]

    # ----------------------------------------------------------------- diagnosis

    def why_no_results(self, run: TestRun, command: TestCommand) -> CannotRun | None:
        if not command.is_pytest:
            return super().why_no_results(run, command)
        return None if run.results else pytest_without_results(run)

    def probe(self, command: TestCommand) -> TestCommand | None:
        if not command.is_pytest:
            return None
        return replace(command, argv=(*command.argv, "--collect-only", "-q"))

    def collected(self, output: str) -> int | None:
        return collected_count(output)

    def hint(self, problem: CannotRun, command: TestCommand) -> str | None:
        python = command.python_env.python if command.python_env is not None else None
        if python is None:
            return None
        elsewhere = f"{self.setup_hint}, or {self.set_test_cmd()} (a relative path is "
        elsewhere += "resolved against your checkout)."
        if problem.kind == KIND_NO_PYTEST:
            return f"Install pytest for {python} (`{python} -m pip install pytest`), or " + (
                elsewhere
            )
        if problem.module:
            return (
                f"Install the package that provides '{problem.module}' (the project's test "
                f"dependencies) for {python}, or {elsewhere}"
            )
        if problem.kind == KIND_USAGE:
            return f"Install the missing plugin for that interpreter, or {elsewhere}"
        return None


PYTHON = Python()


def pytest_command(
    checkout: Path, source: str, environ: Mapping[str, str] | None = None
) -> TestCommand:
    """``<the project's python> -m pytest``."""
    python_env = find_python_env(checkout, environ)
    return TestCommand((python_env.python, "-m", "pytest"), source, python_env, ecosystem="python")


def is_test_marked(path: str) -> bool:
    """A test file by its name or directory (``test_x.py``, ``x_test.py``, ``tests/``...)."""
    name = "/" + path
    return any(marker in name for marker in _TEST_MARKERS) or name.startswith("/tests/")


def is_python_project(root: Path) -> bool:
    """A Python project: packaging files, a Python file at the top, or Python tests."""
    root = Path(root)
    if any((root / name).exists() for name in _PACKAGING):
        return True
    return any(root.glob("*.py")) or python_tests_reason(root) is not None


def python_tests_reason(root: Path) -> str | None:
    for name in _TEST_DIRS:
        folder = root / name
        if folder.is_dir() and _first_python_test(folder) is not None:
            return f"found {name}/"
    found = _first_python_test(root)
    return None if found is None else f"found {found.relative_to(root).as_posix()}"


def _first_python_test(top: Path) -> Path | None:
    """The first ``test_*.py`` / ``*_test.py`` under ``top`` (bounded walk), or None."""
    found = walk_files(top, lambda name: bool(_PYTEST_FILE.match(name)))
    return found[0] if found else None


def _named_python(program: Path, checkout: Path) -> PythonEnv:
    prefix = program.parent.parent if program.parent.name in ("bin", "Scripts") else None
    is_env = prefix is not None and (
        (prefix / "pyvenv.cfg").is_file() or (prefix / "conda-meta").is_dir()
    )
    if not is_env or prefix is None or env_python(prefix) is None:
        return PythonEnv(str(program), "test_cmd", "named in test_cmd")
    return PythonEnv(
        str(program),
        "test_cmd",
        "named in test_cmd",
        prefix=str(prefix),
        editable_paths=editable_paths(prefix, checkout),
    )


def import_hint(path: str) -> str:
    """``src/pkg/mod.py`` -> ``from pkg.mod import ...`` (what a test would write)."""
    if not path.endswith(".py"):
        return ""
    parts = list(Path(path).with_suffix("").parts)
    if parts and parts[0] in ("src", "lib"):
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return f"from {'.'.join(parts)} import ..." if parts else ""


def keep_only(text: str, kept_ids: Sequence[str]) -> str:
    """Drop the discarded test functions from a Python test file, so only judges remain."""
    kept_names = {test_id.split("::")[-1].split("[")[0] for test_id in kept_ids}
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(keepends=True)
    drop: list[tuple[int, int]] = []
    for node in tree.body:
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.name.startswith("test")
            and node.name not in kept_names
        ):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
            drop.append((start, node.end_lineno or node.lineno))
    for start, end in reversed(drop):
        del lines[start:end]
    return "".join(lines)


def pytest_without_results(run: TestRun) -> CannotRun:
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
