"""The ecosystems swc knows, and how a project's (or a file's) ecosystem is found.

Each ecosystem is one module behind the protocol of ``base.Ecosystem``: ``python``,
``node`` (JavaScript and TypeScript), ``go``, ``rust`` and ``jvm`` (Java with Maven or
Gradle). The engine and the sandbox ask the ecosystem of the test command, or of a file,
and never name a language or a runner. A repository may hold several projects (a Python
package with a TypeScript frontend): a file's ecosystem is its language's, and its
project is the nearest directory above it with that ecosystem's manifest.

Adding an ecosystem: one module with an ``Ecosystem`` subclass, listed in ``ECOSYSTEMS``,
and its tests (see ``docs/guide/languages.md``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..sandbox.command import TestCommand, parse_command, resolve_program
from ..sandbox.diagnose import KIND_LIMIT, KIND_NOT_FOUND, KIND_TIMEOUT, CannotRun, error_line
from ..treesitter import language_for_path
from .base import Ecosystem, Invocation, NewTest, ReadRun, nearest_project
from .go import GO
from .jvm import JVM
from .node import NODE
from .other import OTHER
from .python import PYTHON, is_python_project, pytest_command
from .rust import RUST

if TYPE_CHECKING:
    from ..sandbox.results import TestRun

# In the order a project's test command is detected: a Python project with tests first.
ECOSYSTEMS: tuple[Ecosystem, ...] = (PYTHON, NODE, GO, RUST, JVM)
_BY_NAME = {e.name: e for e in (*ECOSYSTEMS, OTHER)}
EXIT_CANNOT_EXECUTE = 126
EXIT_NOT_FOUND = 127
_CANNOT_RUN = re.compile(r"\[swc: cannot run (.+?)\]")

__all__ = [
    "ECOSYSTEMS",
    "Ecosystem",
    "Invocation",
    "NewTest",
    "ReadRun",
    "cannot_run",
    "detect_test_command",
    "ecosystem_of",
    "for_path",
    "holds_tests",
    "is_test_path",
]


def ecosystem_of(command: TestCommand | None) -> Ecosystem:
    """The ecosystem that runs ``command``: the one it was made by, else the one whose
    runner it starts (``OTHER`` for a runner none knows)."""
    if command is None:
        return OTHER
    if command.ecosystem:
        return _BY_NAME.get(command.ecosystem, OTHER)
    if command.shell:
        return OTHER
    return next((e for e in ECOSYSTEMS if e.runs(command.argv)), OTHER)


def for_path(path: str) -> Ecosystem | None:
    """The ecosystem of a file, by its language (None: a file of no ecosystem's)."""
    language = language_for_path(path)
    if language is None:
        return None
    return next((e for e in ECOSYSTEMS if language in e.languages), OTHER)


def is_test_path(path: str) -> bool:
    """Whether ``path`` holds only tests, by its ecosystem's naming rules."""
    ecosystem = for_path(path) or OTHER
    return ecosystem.is_test_path(path)


def holds_tests(root: Path, path: str) -> bool:
    """Whether the tracked file ``path`` holds tests that may guard a patch."""
    from ..repofiles import read_regular_text

    ecosystem = for_path(path)
    if ecosystem is None:
        return False
    return ecosystem.holds_tests(path, lambda: read_regular_text(root, path, 200_000))


def tests_unchanged(path: str, old: str | None, new: str | None) -> bool:
    """Whether an edit of ``path`` (a source file that also holds tests) leaves its tests
    as they were; False for a file that is all tests."""
    ecosystem = for_path(path)
    if ecosystem is None or old is None or new is None:
        return False
    before, after = ecosystem.tests_part(path, old), ecosystem.tests_part(path, new)
    return before is not None and before == after


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
    the user's checkout (default ``root``), where the project's environment and
    dependencies live and against which a relative program (``.venv/bin/python``) is
    resolved when the worktree has no such file. Detection asks each ecosystem in turn
    (``ECOSYSTEMS``); None when nothing fits.
    """
    root = Path(root)
    checkout = Path(checkout) if checkout is not None else root
    if configured is not None and configured.strip():
        command = parse_command(configured, source)
        if not command.shell:
            command = replace(command, argv=resolve_program(command.argv, root, checkout))
        return _configured_ecosystem(command, root).configure(command, root, checkout, environ)
    for ecosystem in ECOSYSTEMS:
        found = ecosystem.detect(root, checkout, environ)
        if found is not None:
            return found
    return _detect_below(root, checkout, environ)


def _detect_below(
    root: Path, checkout: Path, environ: Mapping[str, str] | None
) -> TestCommand | None:
    """With no project at the top, the first project in a directory just below it
    (``backend/go.mod``), run there; the other directories' files get their own
    project's command (``project_command``)."""
    from .base import SKIP_DIRS

    try:
        folders = sorted(p.name for p in root.iterdir() if p.is_dir())
    except OSError:
        return None
    for name in folders[:100]:
        if name in SKIP_DIRS or name.startswith("."):
            continue
        for ecosystem in ECOSYSTEMS:
            if not ecosystem.owns(root / name):
                continue
            found = ecosystem.detect(root / name, checkout / name, environ)
            if found is not None:
                return replace(found, project=name)
    return None


def _configured_ecosystem(command: TestCommand, root: Path) -> Ecosystem:
    """The ecosystem of a configured command: the one whose runner it starts, else the
    one whose project ``root`` is."""
    if not command.shell:
        runner = next((e for e in ECOSYSTEMS if e.runs(command.argv)), None)
        if runner is not None:
            return runner
    return next((e for e in ECOSYSTEMS if e.owns(root)), OTHER)


def project_ecosystem(root: Path) -> Ecosystem:
    """The ecosystem of the project at ``root``: the first whose manifest is there, else
    the one most of its tracked files belong to (``OTHER`` when none)."""
    from collections import Counter

    from ..errors import SwcError
    from ..gitrepo import tracked_files

    owner = next((e for e in ECOSYSTEMS if e.owns(root)), None)
    if owner is not None:
        return owner
    try:
        files = tracked_files(root)
    except SwcError:  # not a repository: no files to count
        files = []
    counted = Counter(e.name for e in map(for_path, files[:20_000]) if e is not None)
    return _BY_NAME[counted.most_common(1)[0][0]] if counted else OTHER


def default_test_command(root: Path, checkout: Path) -> TestCommand | None:
    """pytest for a Python project with no tests yet (its generated tests need a runner),
    with the project's environment, or swc's own where pytest is installed."""
    import importlib.util

    if not is_python_project(root):
        return None
    command = pytest_command(checkout, "default: pytest (a Python project with no tests yet)")
    python_env = command.python_env
    if python_env is not None and python_env.fallback and not importlib.util.find_spec("pytest"):
        return None
    return command


def project_command(
    root: Path, path: str, main: TestCommand, checkout: Path | None = None
) -> TestCommand:
    """The command that runs the tests of ``path``: ``main``, unless the file belongs to
    another ecosystem's project in the repository (a TypeScript frontend beside a Python
    package), whose detected command then runs in that project's directory."""
    ecosystem = for_path(path)
    if ecosystem is None or ecosystem is OTHER or ecosystem.name == main.ecosystem:
        return main
    if main.ecosystem == "" and not main.shell and not any(e.runs(main.argv) for e in ECOSYSTEMS):
        return main  # a command of the user's that no ecosystem knows runs everything
    project = nearest_project(root, path, ecosystem.manifests)
    top = checkout or root
    found = ecosystem.detect(root / project, top / project, None)
    if found is None:
        return main
    return replace(found, project=project, source=f"{found.source}, for {path}")


def cannot_run(run: TestRun, command: TestCommand) -> CannotRun | None:
    """Why ``run`` reports no test at all (None: tests ran, passing or failing).

    The command could not start, timed out or hit a sandbox limit; otherwise its
    ecosystem says (no per-test result, a runner that ran no test)."""
    if run.exit_code in (EXIT_NOT_FOUND, EXIT_CANNOT_EXECUTE) or _CANNOT_RUN.search(run.output):
        found = _CANNOT_RUN.search(run.output)
        cause = found.group(1) if found else error_line(run.output)
        return CannotRun(KIND_NOT_FOUND, f"the test command cannot start: {cause}")
    if run.timed_out:
        return CannotRun(KIND_TIMEOUT, "the test run did not finish in time")
    if run.limit_hit is not None and not run.results:
        return CannotRun(KIND_LIMIT, run.limit_hit.text)
    return ecosystem_of(command).why_no_results(run, command)


def new_test(
    root: Path, source: str | None, slug: str, tier: str, command: TestCommand
) -> tuple[Ecosystem, NewTest]:
    """Where ``tier``'s reproduction test for the file ``source`` goes: by the file's
    ecosystem (the command's when there is no file)."""
    ecosystem = for_path(source) if source else None
    if ecosystem is None or ecosystem is OTHER:
        ecosystem = ecosystem_of(command)
    if ecosystem is OTHER and command.ecosystem == "" and source is None:
        ecosystem = PYTHON  # nothing says otherwise: pytest, as swc always did
    return ecosystem, ecosystem.new_test(root, source, slug, tier)


def toolchain_dirs(env: Mapping[str, str], home: Path | None) -> list[Path]:
    """Directories of every ecosystem's toolchains (shown read-only in the sandbox)."""
    found: list[Path] = []
    for ecosystem in (*ECOSYSTEMS, OTHER):
        found += ecosystem.toolchain_dirs(env, home)
    return found


def checkout_envs() -> tuple[str, ...]:
    """Untracked directories at the top of a checkout that hold its environments."""
    return tuple(name for e in ECOSYSTEMS for name in (*e.checkout_envs, *e.project_deps))
