"""Which command runs a project's tests: configured, given on the command line, or detected."""

from __future__ import annotations

import itertools
import json
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

# Directories never searched for tests: dependencies, build output, environments.
_SKIP_DIRS = frozenset({
    ".git", "node_modules", "venv", ".venv", "env", ".tox", ".nox", "build", "dist",
    "site-packages", "__pycache__", "target", ".mypy_cache", ".pytest_cache",
})
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

    @property
    def display(self) -> str:
        return f"{shlex.join(self.argv)}  ({self.source})"

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
    root: Path, configured: str | None = None, *, source: str = "config"
) -> TestCommand | None:
    """The configured command (``source`` says where it came from), else a detected one.

    Detection, in order: pytest for a Python project with tests (run as
    ``<this python> -m pytest`` so the virtualenv swc runs in is used), ``npm test`` when
    package.json has a real test script, ``go test ./...`` with go.mod, ``cargo test``
    with Cargo.toml. None when nothing fits.
    """
    if configured is not None and configured.strip():
        return parse_command(configured, source)
    root = Path(root)
    for detector in (_detect_pytest, _detect_npm, _detect_go, _detect_cargo):
        found = detector(root)
        if found is not None:
            return found
    return None


def _detect_pytest(root: Path) -> TestCommand | None:
    reason = _python_tests_reason(root)
    if reason is None:
        return None
    return TestCommand((sys.executable, "-m", "pytest"), f"detected: pytest ({reason})")


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
