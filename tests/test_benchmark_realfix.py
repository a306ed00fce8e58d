"""The context benchmark's real-fix rule (``benchmarks/realfix.py``): a commit counts when
its source change changes code and its test change adds or changes a test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from realfix import is_real_fix

CODE = "def area(w, h):\n    return w * h\n"
TEST = (
    "import pytest\n\nfrom shapes import area\n\n\n"
    "@pytest.mark.parametrize(('w', 'h', 'out'), [(2, 3, 6)])\n"
    "def test_area(w, h, out):\n    assert area(w, h) == out\n"
)


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "shapes.py").write_text(CODE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_shapes.py").write_text(TEST)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "initial")
    return tmp_path


def change(root: Path, code: str, test: str) -> bool:
    parent = git(root, "rev-parse", "HEAD")
    (root / "shapes.py").write_text(code)
    (root / "tests" / "test_shapes.py").write_text(test)
    git(root, "commit", "-qam", "change")
    return is_real_fix(
        root, git(root, "rev-parse", "HEAD"), parent, ["shapes.py"], ["tests/test_shapes.py"]
    )


def test_a_code_change_with_a_new_test_case_is_a_real_fix(repo):
    assert change(
        repo,
        CODE.replace("w * h", "abs(w * h)"),
        TEST.replace("[(2, 3, 6)]", "[(2, 3, 6), (-2, 3, 6)]"),
    )


def test_reformatting_and_comments_are_no_fix(repo):
    code = '# shapes\ndef area(w,h):\n    """The area."""\n    return (w * h)  # product\n'
    assert not change(repo, code, TEST.replace("[(2, 3, 6)]", "[(2, 3, 6), (4, 1, 4)]"))


def test_a_skip_marker_or_a_moved_import_is_no_test_change(repo):
    test = "import sys\n" + TEST.replace(
        "def test_area", "@pytest.mark.skipif(sys.platform == 'win32', reason='x')\ndef test_area"
    )
    assert not change(repo, CODE.replace("w * h", "h * w"), test)
