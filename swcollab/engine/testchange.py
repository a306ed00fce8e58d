"""Fixes that change tested behaviour: when a candidate may change an existing test.

A patch may not edit the tests that judge it, unless it says so and the setting allows
its tier. It says so with a line ``TEST CHANGE: <one-line reason>`` right before the
block (its path line) that edits a test file; the prompts define the syntax. Test files
are the project's tests, ``conftest.py`` and the test runner's configuration (pytest.ini,
tox.ini, the ``[tool.pytest...]`` tables of pyproject.toml, setup.cfg's ``[tool:pytest]``,
jest/vitest/mocha configuration): a candidate could otherwise make its tests pass by
changing what they check or how they run.

A declared and allowed change is kept and listed, test by test, with the old and new
assertion lines, for the report, ``--json``, the commit trailers and the pull request;
the acceptance rule then also requires the changed tests and the rest of their file to
pass. Anything else a candidate did to a test file is reverted before the tests run.
"""

from __future__ import annotations

import ast
import configparser
import difflib
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..ecosystems import is_test_path, tests_unchanged
from .types import TestChange

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

MODES = ("none", "strong", "all")
MAX_LINES = 8
# Files that configure how tests run: changing them changes what passes.
RUNNER_CONFIG_FILES = frozenset({"pytest.ini", ".pytest.ini", "tox.ini", "conftest.py"})
_RUNNER_CONFIG_PREFIXES = ("jest.config.", "vitest.config.", ".mocharc", "karma.conf.")
# (file, how to read the section that configures pytest in it)
_SHARED_CONFIG = ("pyproject.toml", "setup.cfg")

_MARKER = re.compile(
    r"^[\s>*_#-]*TEST[ _-]CHANGE[*_]*\s*(?:\(\s*`?([^)`]+?)`?\s*\))?\s*[*_]*:[*_]*\s*"
    r"(.*?)\s*[*_]*\s*$",
    re.I | re.M,
)
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(.*)$")
# a unified diff names its file: diff --git a/x b/x, --- a/x, +++ b/x
_DIFF_HEADER = re.compile(r"^(?:diff --git a/(\S+) b/\S+|--- a/(\S+)|\+\+\+ b/(\S+))")
_ASSERTISH = re.compile(
    r"\bassert|raises|\bexpect\(|should|\.Error|\.Fatal|assert_eq!|==|!=|\bis\b|\bin\b"
)


@dataclass(frozen=True)
class Declaration:
    """A ``TEST CHANGE`` line: the reason, and the file it names (None: not found)."""

    path: str | None
    reason: str


def allowed_for(mode: str, tier: str) -> bool:
    """Whether ``tier`` may change existing tests under ``test_changes = mode``."""
    return mode == "all" or (mode == "strong" and tier == "strong")


def declarations(answer: str, files: Sequence[str] = ()) -> list[Declaration]:
    """Every ``TEST CHANGE: reason`` line in a model's answer, with the path of the
    block that follows it (or the path in ``TEST CHANGE (path): reason``)."""
    from ..edits.parse import path_in_line

    known = frozenset(files)
    lines = answer.replace("\r\n", "\n").split("\n")
    found = []
    for index, line in enumerate(lines):
        match = _MARKER.match(line)
        if not match:
            continue
        reason = match.group(2).strip()[:300] or "(no reason given)"
        path = match.group(1).strip() if match.group(1) else None
        if path is None:
            path = _path_after(lines, index + 1, known, path_in_line)
        found.append(Declaration(path.removeprefix("./") if path else None, reason))
    return found


def _path_after(lines: list[str], start: int, known: frozenset[str], path_in_line) -> str | None:
    """The first path named in the few lines after a marker: a path line, a fence's info
    string, or a path comment on the fence's first line."""
    in_fence = False
    for line in lines[start : start + 6]:
        if _MARKER.match(line):
            return None
        fence = _FENCE.match(line)
        if fence:
            if in_fence:
                return None
            in_fence = True
            for token in fence.group(2).split():
                if "." in token or "/" in token:
                    return token.strip("{}:")
            continue
        if not line.strip():
            continue
        header = _DIFF_HEADER.match(line)
        if header:
            return next(g for g in header.groups() if g)
        candidate = line.strip()
        if in_fence:
            comment = re.match(r"^(?:#|//)\s*(\S+)$", candidate)
            candidate = comment.group(1) if comment else ""
        path = path_in_line(candidate, known, prose=False) if candidate else None
        if path:
            return path
        if in_fence:
            return None
    return None


def declared_reason(path: str, found: Sequence[Declaration]) -> str | None:
    """The reason declared for ``path`` (a short name matches its full path)."""
    for declaration in found:
        named = declaration.path
        if named and (named == path or path.endswith("/" + named.lstrip("/"))):
            return declaration.reason
    return None


def is_test_file(path: str) -> bool:
    """A test or a test runner's configuration (pyproject.toml and setup.cfg excepted:
    they count only when their pytest section changes, see ``runner_config_changed``)."""
    name = PurePosixPath(path).name
    return (
        is_test_path(path)
        or name in RUNNER_CONFIG_FILES
        or name.startswith(_RUNNER_CONFIG_PREFIXES)
    )


def runner_config_changed(path: str, old: str, new: str) -> bool:
    """Whether a shared configuration file's test-runner part differs."""
    name = PurePosixPath(path).name
    if name == "pyproject.toml":
        return _pyproject_pytest(old) != _pyproject_pytest(new)
    if name == "setup.cfg":
        return _setup_cfg_pytest(old) != _setup_cfg_pytest(new)
    return False


def _pyproject_pytest(text: str) -> object:
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return text  # unreadable: any change counts
    tool = data.get("tool", {})
    return tool.get("pytest") if isinstance(tool, dict) else None


def _setup_cfg_pytest(text: str) -> object:
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text)
    except configparser.Error:
        return text
    return {s: dict(parser.items(s)) for s in parser.sections() if "pytest" in s}


def is_config(path: str) -> bool:
    name = PurePosixPath(path).name
    return (
        name in RUNNER_CONFIG_FILES
        or name.startswith(_RUNNER_CONFIG_PREFIXES)
        or name in _SHARED_CONFIG
    )


# ---------------------------------------------------------------- what changed, test by test


def changed_tests(
    path: str, old: str | None, new: str | None, reason: str, tier: str
) -> list[TestChange]:
    """The tests ``path`` changes from ``old`` to ``new`` (None: no such file), each with
    the assertion lines it loses and gains. Python test files are compared function by
    function; other files, and configuration, as a whole."""
    if is_config(path) or not path.endswith(".py"):
        kind = "config" if is_config(path) else _file_kind(old, new)
        lost, gained = _changed_lines(old or "", new or "")
        return [TestChange(path, path, kind, reason, tier, lost, gained)]
    before, after = _tests_in(old or ""), _tests_in(new or "")
    if before is None or after is None:
        lost, gained = _changed_lines(old or "", new or "")
        return [TestChange(path, path, _file_kind(old, new), reason, tier, lost, gained)]
    changes = []
    renamed = _renames(before, after)
    for name in [*before, *(n for n in after if n not in before)]:
        was, now = before.get(name), after.get(name)
        if was == now or name in renamed.values():
            continue
        kind = "added" if was is None else "removed" if now is None else "modified"
        former = ""
        if name in renamed:  # one test given a new name (and new assertions): one change
            kind, former, now = "renamed", f"{path}::{name}", after[renamed[name]]
            name = renamed[name]
        lost, gained = _changed_lines(was or "", now or "")
        changes.append(
            TestChange(path, f"{path}::{name}", kind, reason, tier, lost, gained, former)
        )
    if not changes:  # helpers or imports only: the file as a whole
        lost, gained = _changed_lines(old or "", new or "")
        changes.append(TestChange(path, path, "modified", reason, tier, lost, gained))
    return changes


RENAME_SIMILARITY = 0.6


def _renames(before: dict[str, str], after: dict[str, str]) -> dict[str, str]:
    """Old name -> new name of removed tests that live on under a new name in the same
    class: a similar name and body, or the same body."""
    gone = [n for n in before if n not in after]
    born = [n for n in after if n not in before]
    pairs: dict[str, str] = {}
    for old in gone:
        scored = []
        for new in born:
            if new in pairs.values() or _scope(new) != _scope(old):
                continue
            body = difflib.SequenceMatcher(None, _body(before[old]), _body(after[new])).ratio()
            name = difflib.SequenceMatcher(None, _stem(old), _stem(new)).ratio()
            if body >= RENAME_SIMILARITY and (name >= RENAME_SIMILARITY or body >= 0.9):
                scored.append((body + name, new))
        if scored:
            pairs[old] = max(scored)[1]
    return pairs


def _stem(name: str) -> str:
    """A test's own name without its class and the ``test`` every name starts with."""
    return name.rsplit("::", 1)[-1].removeprefix("test").lstrip("_")


def _scope(name: str) -> str:
    return name.rsplit("::", 1)[0] if "::" in name else ""


def _body(source: str) -> str:
    return source.split("\n", 1)[-1]


def _file_kind(old: str | None, new: str | None) -> str:
    return "added" if old is None else "removed" if new is None else "modified"


def _tests_in(text: str) -> dict[str, str] | None:
    """``Class::test`` / ``test`` -> source of each test function (None: not Python)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    lines = text.splitlines()
    found: dict[str, str] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}::")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
                "test"
            ):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
                found[prefix + node.name] = "\n".join(lines[start : node.end_lineno])

    visit(tree.body, "")
    return found


def _changed_lines(old: str, new: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(lines only in ``old``, lines only in ``new``), assertion lines preferred."""
    lost, gained = [], []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        text = line[2:].strip()
        if not text:
            continue
        if line.startswith("- "):
            lost.append(text)
        elif line.startswith("+ "):
            gained.append(text)
    asserted = (
        [x for x in lost if _ASSERTISH.search(x)],
        [x for x in gained if _ASSERTISH.search(x)],
    )
    if asserted[0] or asserted[1]:
        lost, gained = asserted
    return tuple(lost[:MAX_LINES]), tuple(gained[:MAX_LINES])


def touches(changes: Sequence[TestChange], test_ids: Sequence[str]) -> list[str]:
    """The ids among ``test_ids`` (the user's tests) that ``changes`` modify or remove."""
    hit = []
    for test_id in test_ids:
        for change in changes:
            whole = change.test == change.path
            file_only = "::" not in test_id
            former = change.renamed_from
            if (
                change.test == test_id
                or test_id.startswith(change.test + "[")
                or (former and (former == test_id or test_id.startswith(former + "[")))
                or (whole and test_id.split("::")[0] == change.path)
                or (file_only and change.path == test_id)
            ):
                hit.append(test_id)
                break
    return hit


def read_text(root: Path, rel: str) -> str | None:
    """``rel`` as the worktree has it now, never read through a symlink."""
    from ..repofiles import read_regular_text

    return read_regular_text(root, rel)


def base_text(root: Path, rel: str) -> str | None:
    """``rel`` as the worktree's base commit has it (None: not there)."""
    from ..gitrepo import run_git

    proc = run_git(["show", f"HEAD:{rel}"], root, check=False)
    return proc.stdout if proc.returncode == 0 else None


@dataclass(frozen=True)
class TestRules:
    """What a candidate may do to the tests: who may change them (``mode``), and the
    tests that may never change (the generated ones, the user's)."""

    __test__ = False

    mode: str
    generated: tuple[str, ...]
    user_tests: tuple[str, ...]
    guarded: tuple[str, ...]  # existing test files that judge the patch
    can_judge: bool  # a reproduction test failing on the base exists


def review_test_edits(
    root: Path,
    changed: Sequence[str],
    answer: str,
    files: Sequence[str],
    tier: str,
    rules: TestRules,
) -> tuple[list[TestChange], list[str], list[str]]:
    """Sort a candidate's edits of test files: (kept changes, why each other edit is
    reverted, the paths to revert)."""
    found = declarations(answer, files)
    user_files = {t.split("::")[0] for t in rules.user_tests}
    kept: list[TestChange] = []
    reverted: list[str] = []
    restore: list[str] = []
    for path in changed:
        old, new = base_text(root, path), read_text(root, path)
        shared = PurePosixPath(path).name in _SHARED_CONFIG and runner_config_changed(
            path, old or "", new or ""
        )
        if not (
            is_test_file(path)
            or shared
            or path in rules.guarded
            or path in user_files
            or path in rules.generated
        ):
            continue
        if path not in rules.generated and tests_unchanged(path, old, new):
            continue  # a source file that holds tests (Rust): its code changed, not them
        why = _refusal(path, declared_reason(path, found), tier, rules)
        if why is None:
            changes = changed_tests(path, old, new, declared_reason(path, found) or "", tier)
            hit = touches(changes, rules.user_tests)
            if not hit:
                kept.extend(changes)
                continue
            why = f"it changes {hit[0]}, a test you named"
        restore.append(path)
        reverted.append(f"{path}: reverted, {why}")
    return kept, reverted, restore


def _refusal(path: str, reason: str | None, tier: str, rules: TestRules) -> str | None:
    if path in rules.generated:
        return "a reproduction test written for this run judges the patch"
    if reason is None:
        return "a test may change only with a TEST CHANGE line saying why"
    if not allowed_for(rules.mode, tier):
        who = {"none": "no tier", "strong": "only the strong tier"}.get(rules.mode, "")
        return f'test_changes = "{rules.mode}": {who} may change existing tests'
    if not rules.can_judge:
        return "no reproduction test that fails on the base could judge a changed test"
    return None
