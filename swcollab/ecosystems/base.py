"""The protocol every ecosystem answers, with the answers most of them share.

An ecosystem (Python, Node, Go, Rust, the JVM) is one module holding everything swc
knows about its projects: how to tell one, its test command, which files are tests,
where a new test goes so that the project's own command runs it, how to run a selection
of tests and read each test's result from the runner's machine-readable output, what the
sandbox must show and keep for it, and what to tell the user when its tests cannot run.
The engine and the sandbox ask these questions of an ``Ecosystem`` and never name one.
"""

from __future__ import annotations

import abc
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..sandbox.command import TestCommand
from ..sandbox.diagnose import KIND_NO_RESULTS, CannotRun, error_line, missing_module

if TYPE_CHECKING:
    from ..sandbox.results import TestResult, TestRun

# Directories never searched for a project's files: dependencies, build output, envs.
SKIP_DIRS = frozenset(
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
        "vendor",
        ".gradle",
    }
)
MAX_FILES_SCANNED = 20_000


@dataclass(frozen=True)
class Invocation:
    """How one run is started: its argv, variables added to its environment, and the
    directory (relative to the worktree) it starts in."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str = ""


@dataclass(frozen=True)
class NewTest:
    """Where a generated test goes and what its prompt says about it.

    ``path`` is relative to the repository; ``framework`` and ``language`` name the test
    framework and the code fence; ``notes`` are instructions in the project's terms (the
    package clause, how to import the code); ``example`` is an existing test of the
    project (``example_path``), so the model writes the same kind; ``attach`` are lines
    (file, line) that must be in a file for the test to be compiled (Rust: ``mod x;``)."""

    path: str
    framework: str
    language: str
    import_hint: str = ""
    notes: str = ""
    example: str = ""
    example_path: str = ""
    attach: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ReadRun:
    """What a run's output and reports say: each test's result, and the output to show
    (a machine-readable stream turned back into what the runner prints for people)."""

    results: tuple[TestResult, ...]
    output: str


class Ecosystem(abc.ABC):
    """One ecosystem's answers; subclasses say where a new test goes and override what
    differs from these defaults."""

    name = ""
    # tree-sitter language names of its source files (``treesitter.EXTENSION_LANGUAGES``)
    languages: frozenset[str] = frozenset()
    # files that mark a project's root directory
    manifests: tuple[str, ...] = ()
    # programs of its test commands, to tell which ecosystem a configured command runs
    programs: frozenset[str] = frozenset()
    # toolchains under $HOME and variables naming toolchain directories: shown read-only
    home_toolchains: tuple[str, ...] = ()
    toolchain_vars: tuple[str, ...] = ()
    # untracked directories of a project in the user's checkout that its tests need in
    # the worktree (node_modules): shown there read-only
    project_deps: tuple[str, ...] = ()
    # untracked directories at the top of the checkout holding its environments
    checkout_envs: tuple[str, ...] = ()
    # what to tell the user to do when the tests cannot run, in the project's terms
    setup_hint = ""
    example_test_cmd = "make test"

    # ----------------------------------------------------------------- projects

    def owns(self, root: Path) -> bool:
        """Whether ``root`` is the top of one of its projects."""
        return any((root / name).is_file() for name in self.manifests)

    def detect(
        self, root: Path, checkout: Path, environ: Mapping[str, str] | None
    ) -> TestCommand | None:
        """The test command of the project at ``root`` (None: none found)."""
        return None

    def configure(
        self, command: TestCommand, root: Path, checkout: Path, environ: Mapping[str, str] | None
    ) -> TestCommand:
        """A command the user configured, made this ecosystem's."""
        return replace(command, ecosystem=self.name)

    def runs(self, argv: Sequence[str]) -> bool:
        """Whether ``argv`` starts one of its test runners."""
        return bool(argv) and Path(argv[0]).name in self.programs

    def toolchain_dirs(self, env: Mapping[str, str], home: Path | None) -> list[Path]:
        """Its toolchains' directories (shown read-only in the sandbox when hidden)."""
        found = [home / rel for rel in self.home_toolchains] if home is not None else []
        return found + [p for p in (resolved(env.get(v)) for v in self.toolchain_vars) if p]

    def reports_per_test(self, command: TestCommand) -> bool:
        """Whether a run of ``command`` reports each test's result (else its exit code
        is all it says)."""
        return not command.shell

    def setup_warnings(self, command: TestCommand) -> tuple[list[str], list[str]]:
        """(notes, warnings) about the run's test environment, for the report."""
        return [], []

    # ----------------------------------------------------------------- test files

    def is_test_path(self, path: str) -> bool:
        """Whether ``path`` holds only tests (judged by its name)."""
        return False

    def holds_tests(self, path: str, text: Callable[[], str | None]) -> bool:
        """Whether ``path`` holds tests that guard a patch (``text`` reads it: Rust's
        ``#[cfg(test)]`` modules live in source files)."""
        return self.is_test_path(path)

    def tests_part(self, path: str, text: str) -> str | None:
        """The part of a source file that holds its tests (Rust's ``#[cfg(test)]``
        module); None when the file is all tests."""
        return None

    @abc.abstractmethod
    def new_test(self, root: Path, source: str | None, slug: str, tier: str) -> NewTest:
        """Where ``tier``'s reproduction test for ``source`` goes, and how to write it."""

    def prepare_test(self, code: str, path: str, root: Path, tier: str) -> str:
        """A generated test's code made to fit its place (a class named as its file,
        names that no other test file of its package declares)."""
        return code

    def keep_only(self, code: str, path: str, kept_ids: Sequence[str]) -> str:
        """The generated file with the tests that were not kept removed, where possible."""
        return code

    def is_broken(self, status: str, message: str, task_text: str) -> bool:
        """Whether a generated test failed because it is itself broken (not the code)."""
        return False

    # ----------------------------------------------------------------- running

    def invocation(
        self, command: TestCommand, selection: Sequence[str], root: Path, out: Path
    ) -> Invocation:
        """The run of ``command`` on ``selection`` (files or test ids, relative to the
        repository) in the worktree ``root``; ``out`` is a writable directory for its
        reports, outside the worktree."""
        return Invocation((*command.argv, *selection), cwd=command.project)

    def read(
        self,
        command: TestCommand,
        output: str,
        out: Path,
        root: Path,
        selection: Sequence[str],
    ) -> ReadRun:
        """Per-test results of a finished run, from its reports in ``out`` or its output."""
        return ReadRun((), output)

    def run_env(
        self, env: dict[str, str], root: Path, command: TestCommand | None, cache: Path | None
    ) -> None:
        """Add what its tests need to the run's environment ``env`` (the project's
        interpreter, the run's caches in ``cache``, machine-readable output)."""
        return None

    def readable(self, command: TestCommand) -> list[str]:
        """Directories outside the usual places its tests import from (shown read-only)."""
        return []

    def before_run(self, root: Path, command: TestCommand, cache: Path | None) -> None:
        """Prepare the worktree ``root`` for a run that shares ``cache`` with the run's
        other worktrees."""
        return None

    def missing_from(self, root: Path, chosen: Sequence[str]) -> tuple[list[str], list[str]]:
        """(present, missing) among selected files and ids: a generated file a later step
        removed must not turn the run into a run of every test."""
        present, missing = [], []
        for entry in chosen:
            file = entry.split("::", 1)[0]
            (present if (root / file).exists() else missing).append(entry)
        return present, missing

    def unknown_ids(self, output: str, root: Path, chosen: Sequence[str]) -> list[str]:
        """Selected ids the runner refused as unknown (the run is retried without them)."""
        return []

    # ----------------------------------------------------------------- diagnosis

    def ran_any_test(self, output: str, command: TestCommand) -> bool | None:
        """Whether the output shows a test ran (None: cannot tell)."""
        return None

    def cannot_start(self, root: Path, command: TestCommand, path: str) -> str | None:
        """Why ``command`` cannot start in the project at ``root`` with the run's ``PATH``
        (None: it can, as far as can be told without running it)."""
        import shutil

        program = command.argv[0]
        if shutil.which(program, path=path) is None:
            return f"{program}: not found"
        return None

    def why_no_results(self, run: TestRun, command: TestCommand) -> CannotRun | None:
        """Why a run that started, finished and hit no limit judges nothing (None: it
        judges)."""
        if run.results:
            return None
        if self.ran_any_test(run.output, command) is False and run.exit_code != 0:
            return CannotRun(
                KIND_NO_RESULTS,
                "the test command ran no test: " + error_line(run.output),
                module=missing_module(run.output),
            )
        return None

    def probe(self, command: TestCommand) -> TestCommand | None:
        """A command that builds or collects the tests without running them (None: the
        runner has no such mode)."""
        return None

    def collected(self, output: str) -> int | None:
        """How many tests a probe found (None: it does not say)."""
        return None

    def hint(self, problem: CannotRun, command: TestCommand) -> str | None:
        """The fix for ``problem`` in the project's terms (None: the general advice)."""
        return None

    def set_test_cmd(self) -> str:
        """The advice to name the test command, with an example in the project's terms."""
        return (
            "set test_cmd in .swc.toml (or --test-cmd) to the command that runs your tests, "
            f'e.g. test_cmd = "{self.example_test_cmd}"'
        )


# ---------------------------------------------------------------- helpers the ecosystems share


def resolved(path: str | Path | None) -> Path | None:
    """An absolute path with links resolved (None for nothing, or a relative path)."""
    if not path:
        return None
    try:
        candidate = Path(path).expanduser()
        return candidate.resolve() if candidate.is_absolute() else None
    except (OSError, RuntimeError):
        return None


def walk_files(top: Path, wanted: Callable[[str], bool], limit: int = 1) -> list[Path]:
    """Up to ``limit`` files under ``top`` whose name is ``wanted`` (a bounded walk that
    skips dependencies and build output), in a stable order."""
    found: list[Path] = []
    scanned = 0
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if wanted(name):
                found.append(Path(dirpath) / name)
                if len(found) >= limit:
                    return found
        scanned += len(filenames)
        if scanned > MAX_FILES_SCANNED:
            break
    return found


def slug_name(slug: str, limit: int = 40) -> str:
    """A task's slug as a name part: lower case letters, digits and underscores."""
    return re.sub(r"[^a-z0-9]+", "_", slug.lower()).strip("_")[:limit] or "task"


def camel(text: str) -> str:
    """``add_wrong`` -> ``AddWrong``: a name part for languages that want CamelCase."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def nearest_project(root: Path, path: str, manifests: Sequence[str]) -> str:
    """The deepest directory holding ``path`` (relative to ``root``) with one of the
    ``manifests``; "" for the top (also when none has one)."""
    parent = Path(path).parent
    for folder in [parent, *parent.parents]:
        rel = folder.as_posix()
        rel = "" if rel == "." else rel
        if any((root / rel / name).is_file() for name in manifests):
            return rel
    return ""


def read_head(root: Path, rel: str, lines: int = 40) -> str:
    """The first ``lines`` lines of a file of the repository, never through a symlink."""
    from ..repofiles import read_regular_text

    text = read_regular_text(root, rel, 20_000)
    if text is None:
        return ""
    return "\n".join(text.splitlines()[:lines]) + "\n"


def under(project: str, rel: str) -> str:
    """``rel`` (relative to a project) as a path relative to the repository."""
    return f"{project}/{rel}" if project else rel


def within(project: str, path: str) -> str:
    """A repository path made relative to ``project`` (unchanged when outside it)."""
    if project and path.startswith(project + "/"):
        return path[len(project) + 1 :]
    return path


def clip_message(message: str, limit: int = 3000) -> str:
    return message if len(message) <= limit else "... " + message[-limit:]
