"""Which command runs a project's tests: configured, given on the command line, or detected."""

from __future__ import annotations

import itertools
import json
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ConfigError
from .pyenv import PythonEnv, env_python, find_python_env

# Directories never searched for tests: dependencies, build output, environments.
_SKIP_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        "venv",
        ".venv",
        "env",
        ".tox",
        ".nox",
        "build",
        "dist",
        "site-packages",
        "__pycache__",
        "target",
        ".mypy_cache",
        ".pytest_cache",
    }
)
_TEST_DIRS = ("tests", "test", "testing")
_MAX_FILES_SCANNED = 20_000
# npm init writes this script; running it only prints an error.
_NPM_PLACEHOLDER = "no test specified"


@dataclass(frozen=True)
class TestCommand:
    """A test command and how it was chosen ("config", "flag", "detected: ...")."""

    __test__ = False  # not a pytest test class, despite the name

    argv: tuple[str, ...]
    source: str
    # the project's Python environment (None for a project that is not Python)
    python_env: PythonEnv | None = None

    @property
    def display(self) -> str:
        return f"{shlex.join(self.argv)}  ({self.source})"

    @property
    def interpreter(self) -> str:
        """Which Python runs the tests and why, for messages ("" when not Python)."""
        return self.python_env.describe() if self.python_env is not None else ""

    @property
    def is_pytest(self) -> bool:
        return is_pytest_argv(self.argv)


def is_pytest_argv(argv: tuple[str, ...]) -> bool:
    if not argv:
        return False
    if Path(argv[0]).name in ("pytest", "py.test"):
        return True
    return any(a == "-m" and b == "pytest" for a, b in itertools.pairwise(argv))


def parse_command(text: str, source: str) -> TestCommand:
    try:
        argv = tuple(shlex.split(text))
    except ValueError as exc:
        raise ConfigError(f"test command {text!r} cannot be parsed: {exc}") from None
    if not argv:
        raise ConfigError("the test command is empty")
    return TestCommand(argv, source)


def detect_test_command(
    root: Path,
    configured: str | None = None,
    *,
    source: str = "config",
    checkout: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> TestCommand | None:
    """The configured command (``source`` says where it came from), else a detected one.

    ``root`` is where the tests run (a worktree, or the checkout itself); ``checkout`` is
    the user's checkout (default ``root``), where the project's environment lives and
    against which a relative program (``.venv/bin/python``) is resolved when the worktree
    has no such file. Detection, in order: pytest for a Python project with tests (run as
    ``<the project's python> -m pytest``, see ``pyenv``), ``npm test`` when package.json
    has a real test script, ``go test ./...`` with go.mod, ``cargo test`` with
    Cargo.toml. None when nothing fits.
    """
    root = Path(root)
    checkout = Path(checkout) if checkout is not None else root
    if configured is not None and configured.strip():
        command = parse_command(configured, source)
        return _configured_env(command, root, checkout, environ)
    reason = _python_tests_reason(root)
    if reason is not None:
        python_env = find_python_env(checkout, environ)
        return TestCommand(
            (python_env.python, "-m", "pytest"), f"detected: pytest ({reason})", python_env
        )
    for detector in (_detect_npm, _detect_go, _detect_cargo):
        found = detector(root)
        if found is not None:
            return found
    return None


_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?(\.exe)?$")


def _configured_env(
    command: TestCommand, root: Path, checkout: Path, environ: Mapping[str, str] | None
) -> TestCommand:
    """A configured command with its program resolved and the project's environment."""
    argv = resolve_program(command.argv, root, checkout)
    program = Path(argv[0])
    if _PYTHON_NAME.match(program.name) and program.is_absolute():
        return replace(command, argv=argv, python_env=_named_python(program, checkout))
    if not (is_pytest_argv(argv) or _PYTHON_NAME.match(program.name) or is_python_project(root)):
        return replace(command, argv=argv)
    # ``pytest``, ``python -m pytest``, ``make test`` in a Python project: the project's
    # environment comes first on PATH, as if it were activated
    return replace(command, argv=argv, python_env=find_python_env(checkout, environ))


def resolve_program(argv: tuple[str, ...], root: Path, checkout: Path) -> tuple[str, ...]:
    """``argv`` with a relative program path (``.venv/bin/python``) made absolute: in the
    worktree when it is there (a tracked script), else in the user's checkout (an
    untracked environment); ``~`` is expanded."""
    program = os.path.expanduser(argv[0])
    if ("/" in program or os.sep in program) and not os.path.isabs(program):
        in_root, in_checkout = root / program, checkout / program
        if not os.path.lexists(in_root) and os.path.lexists(in_checkout):
            program = os.path.normpath(in_checkout)  # not resolved: a venv's python is a link
    return (program, *argv[1:])


def _named_python(program: Path, checkout: Path) -> PythonEnv:
    from .pyenv import editable_paths

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


def is_python_project(root: Path) -> bool:
    """A Python project: packaging files, a Python file at the top, or Python tests."""
    root = Path(root)
    if any(
        (root / name).exists()
        for name in ("pyproject.toml", "setup.py", "setup.cfg", "tox.ini", "pytest.ini")
    ):
        return True
    return any(root.glob("*.py")) or _python_tests_reason(root) is not None


def _python_tests_reason(root: Path) -> str | None:
    for name in _TEST_DIRS:
        folder = root / name
        if folder.is_dir() and _first_python_test(folder) is not None:
            return f"found {name}/"
    found = _first_python_test(root)
    return None if found is None else f"found {found.relative_to(root).as_posix()}"


def _first_python_test(top: Path) -> Path | None:
    """The first ``test_*.py`` / ``*_test.py`` under ``top`` (bounded walk), or None."""
    scanned = 0
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
                return Path(dirpath) / name
        scanned += len(filenames)
        if scanned > _MAX_FILES_SCANNED:
            return None
    return None


def _detect_npm(root: Path) -> TestCommand | None:
    package = root / "package.json"
    if not package.is_file():
        return None
    try:
        data = json.loads(package.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    scripts = data.get("scripts") if isinstance(data, dict) else None
    script = scripts.get("test") if isinstance(scripts, dict) else None
    if not isinstance(script, str) or not script.strip() or _NPM_PLACEHOLDER in script:
        return None
    return TestCommand(("npm", "test"), "detected: npm test (package.json has a test script)")


def _detect_go(root: Path) -> TestCommand | None:
    if not (root / "go.mod").is_file():
        return None
    return TestCommand(("go", "test", "./..."), "detected: go test (found go.mod)")


def _detect_cargo(root: Path) -> TestCommand | None:
    if not (root / "Cargo.toml").is_file():
        return None
    return TestCommand(("cargo", "test"), "detected: cargo test (found Cargo.toml)")
