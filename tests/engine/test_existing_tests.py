"""Which existing test files guard a run: the ones that match the task's code best.

The layout mirrors markupsafe's (clone of /work/shared/repos/markupsafe.bundle), where
the old rule (test files naming the stems of the top-ranked files, ``__init__`` left
out) guarded ``tests/test_ext_init.py`` for a fix of ``escape`` and not
``tests/test_escape.py``.
"""

from __future__ import annotations

from pathlib import Path

from swcollab.engine.context import build_context
from swcollab.engine.existing_tests import MAX_EXISTING_TEST_FILES, select_existing_tests
from swcollab.models.fake import FakeModel
from swcollab.task import task_from_prompt
from tests.engine.conftest import commit_project, git
from tests.engine.seam import fix

PACKAGE = '''"""Markup that is safe to put in HTML."""

from ._native import _escape_inner


def escape(s):
    """Replace & < > ' and " in the string with HTML-safe sequences."""
    if hasattr(s, "__html__"):
        return Markup(s.__html__())
    return Markup(_escape_inner(str(s)))


def soft_str(s):
    return s if isinstance(s, str) else str(s)


class Markup(str):
    def striptags(self):
        return Markup(" ".join(self.split()))

    def unescape(self):
        return str(self)
'''

NATIVE = """def _escape_inner(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
"""

TESTS = {
    "tests/test_escape.py": """from pkgsafe import escape, Markup


def test_escape():
    assert escape("<") == Markup("&lt;")


def test_escape_amp():
    assert escape("&") == "&amp;"
""",
    "tests/test_ext_init.py": """import pkgsafe
from pkgsafe import _native


def test_ext_init():
    assert pkgsafe._escape_inner is _native._escape_inner
""",
    "tests/test_markup.py": """from pkgsafe import Markup


def test_striptags():
    assert Markup("a  b").striptags() == "a b"
""",
    "tests/test_unrelated.py": """def test_numbers():
    assert 1 + 1 == 2
""",
    "tests/conftest.py": """import pkgsafe  # escape escape escape
""",
    "tests/helpers.py": """from pkgsafe import escape  # a helper, not a test file
""",
}

TASK = "escape() calls __html__ on str subclasses: escaping a str subclass gives wrong Markup"


def markup_project(tmp_path: Path) -> Path:
    files = {"pkgsafe/__init__.py": PACKAGE, "pkgsafe/_native.py": NATIVE, **TESTS}
    return commit_project(tmp_path / "pkgsafe", files)


def guarded(root: Path, task: str, context_tokens: int = 16000) -> list[str]:
    context, _ = build_context(
        root,
        task_from_prompt(task),
        map_tokens=1024,
        context_tokens=context_tokens,
        state_dir=None,
    )
    return select_existing_tests(root, context, task)


def test_a_fix_in_a_package_init_is_guarded_by_the_tests_of_what_it_changes(
    tmp_path: Path,
) -> None:
    root = markup_project(tmp_path)
    for context_tokens in (16000, 300):  # the whole file shown, or spans of it
        chosen = guarded(root, TASK, context_tokens)
        assert chosen[0] == "tests/test_escape.py", (context_tokens, chosen)
        assert "tests/test_unrelated.py" not in chosen
        # helpers and configuration are not test files: the command would collect none
        assert not {"tests/conftest.py", "tests/helpers.py"} & set(chosen)


def test_the_task_decides_between_the_package_tests(tmp_path: Path) -> None:
    root = markup_project(tmp_path)
    chosen = guarded(root, "Markup.striptags() keeps double spaces between words")
    assert chosen[0] == "tests/test_markup.py", chosen


def test_the_choice_is_the_best_few_and_the_same_every_time(tmp_path: Path) -> None:
    source = "def parse_date(text):\n    return text\n\n\ndef other():\n    return 1\n"
    files = {"app/dates.py": source}
    for i in range(12):  # more files that use the function than the cap allows
        uses = "\n".join(f"    assert parse_date('{n}')" for n in range(i + 1))
        files[f"tests/test_case{i:02}.py"] = (
            f"from app.dates import parse_date\n\n\ndef test_it():\n{uses}\n"
        )
    files["tests/test_parse_date.py"] = (
        "from app.dates import parse_date\n\n\ndef test_it():\n    assert parse_date('x')\n"
    )
    root = commit_project(tmp_path / "dates", files)
    task = "parse_date('2024-02-30') should raise ValueError"
    first = guarded(root, task)
    assert first == guarded(root, task)
    assert len(first) == MAX_EXISTING_TEST_FILES
    assert first[0] == "tests/test_parse_date.py"  # named after the function
    # then the files that use it most
    assert first[1:3] == ["tests/test_case11.py", "tests/test_case10.py"]


def test_a_run_guards_the_chosen_tests(tmp_path: Path) -> None:
    """Through the engine: the run's result names the guarded files, best first."""
    root = markup_project(tmp_path)
    (root / "pyproject.toml").write_text('[project]\nname = "pkgsafe"\nversion = "0"\n')
    git(root, "add", "-A")
    git(root, "commit", "-qm", "pyproject")
    result = fix(root, FakeModel({"tests": "no test here", "patch": "no patch"}), task=TASK)
    assert result.existing_tests[0] == "tests/test_escape.py"
    assert "tests/test_unrelated.py" not in result.existing_tests
