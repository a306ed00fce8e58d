"""Telling "the tests cannot run" from "the tests run and some fail": the vocabulary.

A run that yields no per-test result (the command is missing, pytest is not installed
for the interpreter, a conftest cannot import, a plugin the configuration needs is
absent) says nothing about the code: judging a patch by it would reject every patch.
``CannotRun`` says why, as data; the ecosystems find it (``ecosystems.cannot_run``) and
the engine decides what to do with it (an exit-3 error before any model call, a
discarded test).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .results import TestRun

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
_ERROR_LINE = re.compile(r"^E\s{2,}(\S.*)$", re.M)
# rustc/cargo, tsc and the like: the first error says why; the last only that it failed
_COMPILER_ERROR = re.compile(r"^(error(?:\[\w+\])?: .+)$", re.M)
_SUMMARY_ERROR = re.compile(r"error: (could not compile|test failed|aborting due|Recipe)")


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
