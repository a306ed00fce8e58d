"""Which mined commits are real fixes: a static stand-in for the eval's FAIL_TO_PASS rule.

``swc eval --from-history`` keeps a commit only when one of its tests goes from failing
to passing; that needs the project's environment at every old commit. This benchmark
does not run tests, so it keeps the two shapes such a commit has, decided from the diff
alone and never from what the context showed:

- **the source change changes code**: the parsed code differs, not only comments,
  docstrings or formatting (Python: the ``ast`` of the file with docstrings dropped;
  other languages, or Python the ``ast`` cannot parse: the changed lines with comments
  and whitespace removed, as multisets);
- **the test change adds or changes a test**: the test files' top-level statements
  differ, as a multiset over the files the commit touches, after dropping imports, skip
  and xfail markers, docstrings, comments and formatting (so tests moved between files
  or re-marked to skip do not count; new test data in a ``parametrize`` list does).

Chores fall out by these rules ("Fix typos" in comments, "use ruff lint and format",
"move tests to package", a skip marker), and so does any commit whose source change is
formatting only, whatever its message says.
"""

from __future__ import annotations

import ast
import re
import subprocess
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

_LINE_COMMENT = re.compile(r"(^|\s)(#|//).*$")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, errors="replace"
    ).stdout


def is_real_fix(
    root: Path, sha: str, parent: str, sources: Iterable[str], tests: Iterable[str]
) -> bool:
    return changes_code(root, sha, parent, sources) and changes_a_test(root, sha, parent, tests)


def changes_code(root: Path, sha: str, parent: str, sources: Iterable[str]) -> bool:
    for path in sources:
        old = _git(root, "show", f"{parent}:{path}")
        new = _git(root, "show", f"{sha}:{path}")
        if old == new:
            continue
        if path.endswith(".py"):
            old_tree, new_tree = _code_of(old), _code_of(new)
            if old_tree is not None and new_tree is not None:
                if old_tree != new_tree:
                    return True
                continue
        if _code_lines(old) != _code_lines(new):
            return True
    return False


def _code_of(source: str) -> str | None:
    """The parsed module without docstrings, as text; None when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    _drop_docstrings(tree)
    return ast.dump(tree)


def _drop_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]


def _code_lines(source: str) -> Counter[str]:
    """The file's lines without comments and whitespace (a multiset: order ignored, so
    a line moved counts as unchanged, which only errs toward calling a change cosmetic)."""
    out: Counter[str] = Counter()
    for line in source.split("\n"):
        line = _LINE_COMMENT.sub("", line)
        line = "".join(line.split()).replace("'", '"')
        if line and not line.startswith(("/*", "*")):
            out[line] += 1
    return out


def changes_a_test(root: Path, sha: str, parent: str, tests: Iterable[str]) -> bool:
    """Whether the tests differ in more than imports, skip markers, docstrings, comments,
    formatting and moves between files (compared as a multiset of top-level statements)."""
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    for path in tests:
        for rev, out in ((parent, before), (sha, after)):
            source = _git(root, "show", f"{rev}:{path}")
            out.update(_test_statements(source) if path.endswith(".py") else _code_lines(source))
    return before != after


def _test_statements(source: str) -> Counter[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return _code_lines(source)
    _drop_docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            node.decorator_list = [d for d in node.decorator_list if not _is_marker(d)]
    return Counter(
        ast.dump(node) for node in tree.body if not isinstance(node, ast.Import | ast.ImportFrom)
    )


def _is_marker(decorator: ast.expr) -> bool:
    """``@pytest.mark.skipif(...)``, ``@unittest.skip``, ``@pytest.mark.xfail`` and the like:
    they say when a test runs, not what it checks."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name.startswith(("skip", "xfail", "filterwarnings", "expectedFailure"))
