"""What a test run produced: per-test results (from pytest's JUnit XML) and helpers."""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

STATUSES = ("passed", "failed", "error", "skipped")
# Worst first: when one test id appears twice (a failure, then a teardown error), the
# worse outcome stands. "skipped" ranks below "passed" so a partial skip never hides a pass.
_SEVERITY = {"error": 3, "failed": 2, "passed": 1, "skipped": 0}
_MESSAGE_LIMIT = 3000
WORKTREE_MARK = "<worktree>"
_MAX_JUNIT_BYTES = 50_000_000


@dataclass(frozen=True)
class TestResult:
    """One test (pytest node id ``path::Class::test``) or one file that failed to collect."""

    __test__ = False

    test_id: str
    status: str  # "passed" | "failed" | "error" | "skipped"
    message: str = ""
    file: str = ""

    @property
    def is_collection_error(self) -> bool:
        """The file itself failed to import or collect (the id is the file, no ``::``)."""
        return self.status == "error" and "::" not in self.test_id

    @property
    def error_kind(self) -> str | None:
        """ "syntax", "import" or "other" for errors and failures; None otherwise."""
        if self.status not in ("error", "failed"):
            return None
        if "SyntaxError" in self.message or "IndentationError" in self.message:
            return "syntax"
        if "ImportError" in self.message or "ModuleNotFoundError" in self.message:
            return "import"
        return "other"


@dataclass(frozen=True)
class LimitHit:
    """A resource limit of the sandbox that a test run hit (``limits.py``)."""

    limit: str  # "memory", "processes", "file_size", "open_files", "tmpfs"
    text: str  # "the tests hit the sandbox's memory limit (4 GB): ..."
    certain: bool = True  # counted by the kernel; False: the likely cause, from the output


@dataclass(frozen=True)
class TestRun:
    """The outcome of one run of the test command; ``results`` is empty for non-pytest."""

    __test__ = False

    exit_code: int | None  # None when killed at the time limit; 127 when it could not start
    timed_out: bool
    output: str
    duration_s: float
    results: tuple[TestResult, ...]
    command: tuple[str, ...]
    network_isolated: bool = False
    sandboxed: bool = False  # ran in the OS sandbox (bwrap / sandbox-exec)
    limit_hits: tuple[LimitHit, ...] = ()  # the sandbox's resource limits it hit

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def limit_hit(self) -> LimitHit | None:
        """The first limit the kernel says this run hit: its results cannot be trusted."""
        return next((hit for hit in self.limit_hits if hit.certain), None)

    def status_of(self, test_id_or_file: str) -> str | None:
        """Status of a test id, or the worst status among a file's (or a node's) tests.

        A test in a file that failed to collect is "error". None when nothing ran it.
        """
        key = test_id_or_file.strip()
        exact = [r for r in self.results if r.test_id == key]
        if exact:
            return _worst(r.status for r in exact)
        inside = [
            r
            for r in self.results
            if r.file == key or r.test_id.startswith((key + "::", key + "["))
        ]
        if inside:
            return _worst(r.status for r in inside)
        file = key.split("::", 1)[0]
        if file in self.collection_errors():
            return "error"
        return None

    def collection_errors(self) -> set[str]:
        """Files that failed to import or collect (syntax error, import error, ...)."""
        return {r.file or r.test_id for r in self.results if r.is_collection_error}

    def ids_with(self, status: str) -> list[str]:
        return [r.test_id for r in self.results if r.status == status]


def _worst(statuses: object) -> str:
    return max(statuses, key=lambda s: _SEVERITY.get(s, 0))  # type: ignore[call-overload]


def parse_junit(path: Path, root: Path | None = None) -> tuple[TestResult, ...]:
    """Results from a JUnit XML file written by pytest (``junit_family=xunit1`` or xunit2).

    Node ids are rebuilt from ``file`` and ``classname``: the module part of the class
    name is dropped and nested classes are joined with ``::``. Without a ``file``
    attribute (xunit2), the file is found by trying the class name's prefixes under
    ``root``. Unreadable or truncated XML yields no results. The file is written by the
    tests' own process, so it is read only if it is a regular file (not a symlink to one
    of swc's files, nor a FIFO that would block the read) of a bounded size.
    """
    tree = read_xml(path)
    if tree is None:
        return ()
    merged: dict[str, TestResult] = {}
    for case in tree.iter("testcase"):
        result = _case_result(case, root)
        old = merged.get(result.test_id)
        if old is None or _SEVERITY[result.status] > _SEVERITY[old.status]:
            merged[result.test_id] = result
    return tuple(merged.values())


def read_xml(path: Path) -> ET.ElementTree | None:
    """An XML report written by a test run: read only if it is a regular file (not a
    symlink to one of swc's files, nor a FIFO that would block the read) of a bounded
    size; None when it is not, or does not parse."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_JUNIT_BYTES:
            return None
        try:
            return ET.parse(fh)
        except (OSError, ET.ParseError):
            return None


def case_status(case: ET.Element) -> tuple[str, str]:
    """(status, message) of a JUnit ``testcase``: its failure, error or skip, else passed."""
    for child in case:
        if child.tag in ("failure", "error", "skipped"):
            status = {"failure": "failed"}.get(child.tag, child.tag)
            text, short = (child.text or "").strip(), child.get("message", "")
            # a skip's reason is its message; a failure's traceback (the text) says more
            return status, (short or text) if child.tag == "skipped" else (text or short)
    return "passed", ""


def _case_result(case: ET.Element, root: Path | None) -> TestResult:
    classname = case.get("classname", "")
    name = case.get("name", "")
    file = case.get("file") or _guess_file(classname or name, root)
    status, message = case_status(case)
    if not classname:
        test_id = file or name  # a whole file: collection error or module-level skip
    else:
        test_id = "::".join([file, *_class_parts(classname, file), name])
    if root is not None:
        # a parametrized id may hold the worktree's path (tmp_path, __file__): each attempt
        # has its own worktree, and the same test must keep the same id in all of them
        test_id = test_id.replace(str(root), WORKTREE_MARK)
    return TestResult(test_id, status, _clip_message(message), file)


def _module_of(file: str) -> str:
    return file[:-3].replace("/", ".") if file.endswith(".py") else file.replace("/", ".")


def _class_parts(classname: str, file: str) -> list[str]:
    module = _module_of(file)
    if file and classname == module:
        return []
    if file and classname.startswith(module + "."):
        return classname[len(module) + 1 :].split(".")
    return []


def _guess_file(dotted: str, root: Path | None) -> str:
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(parts[:end]) + ".py"
        if root is None or (root / candidate).is_file():
            return candidate
    return ""


def _clip_message(message: str) -> str:
    if len(message) <= _MESSAGE_LIMIT:
        return message
    return "... " + message[-_MESSAGE_LIMIT:]


def clip_output(text: str, limit: int = 4000) -> str:
    """``text`` cut to about ``limit`` characters: its head and (longer) tail, with a marker.

    The tail gets two thirds: test runners print their summary and the failures last.
    """
    if len(text) <= limit:
        return text
    head = limit // 3
    tail = limit - head
    elided = len(text) - head - tail
    return f"{text[:head]}\n... {elided} characters elided ...\n{text[-tail:]}"
