"""apply_answer on real git repositories: paths, the diff, failures as values, feedback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from swcollab.edits import apply_answer
from swcollab.edits.feedback import render_feedback
from swcollab.edits.paths import check_path
from swcollab.errors import ConfigError

SR = "{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


def sr(path: str, search: str, replace: str) -> str:
    return SR.format(path=path, search=search, replace=replace)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("def f():\n    return 1\n")
    (root / "blob.bin").write_bytes(b"\xff\xfe\x00binary")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


def test_check_path_refusals(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    (root / "inner").mkdir(parents=True)
    os.symlink(outside, root / "out")
    os.symlink(root / "inner", root / "alias")
    assert check_path(root, "../x.py")[0] is None
    assert check_path(root, "a/../../x.py")[0] is None
    assert check_path(root, "/etc/passwd")[0] is None
    assert check_path(root, "C:\\x.py")[0] is None
    assert check_path(root, "~/x.py")[0] is None
    assert check_path(root, ".git/config")[0] is None
    assert "symbolic link" in check_path(root, "out/x.py")[1]
    assert check_path(root, "alias/x.py")[0] == (root / "inner" / "x.py").resolve()
    assert check_path(root, "./inner\\y.py")[0] == (root / "inner" / "y.py").resolve()


def test_new_and_changed_files_are_in_the_diff_and_it_applies(repo: Path, tmp_path: Path) -> None:
    answer = sr("pkg/mod.py", "    return 1\n", "    return 2\n") + sr("pkg/new.py", "", "X = 1\n")
    result = apply_answer(repo, answer)
    assert result.ok and result.feedback() == ""
    assert result.changed_files == ("pkg/mod.py", "pkg/new.py")
    assert "new file mode 100644" in result.diff and "+++ b/pkg/new.py" in result.diff
    assert "-    return 1\n+    return 2\n" in result.diff
    assert git(repo, "status", "--porcelain") == " M pkg/mod.py\n?? pkg/new.py\n"
    git(repo, "stash", "-u", "-q")  # back to the base, then replay the diff
    subprocess.run(["git", "apply", "-"], cwd=repo, input=result.diff, text=True, check=True)
    assert (repo / "pkg" / "mod.py").read_text() == "def f():\n    return 2\n"
    assert (repo / "pkg" / "new.py").read_text() == "X = 1\n"


def test_works_in_a_detached_worktree(repo: Path, tmp_path: Path) -> None:
    tree = tmp_path / "wt"
    git(repo, "worktree", "add", "--detach", "-q", str(tree))
    result = apply_answer(tree, sr("pkg/mod.py", "    return 1\n", "    return 3\n"))
    assert result.ok and "+    return 3" in result.diff
    assert (repo / "pkg" / "mod.py").read_text() == "def f():\n    return 1\n"


def test_answer_without_edit_is_a_failed_result(repo: Path) -> None:
    result = apply_answer(repo, "I think you should return 2 instead.")
    assert not result.ok and result.applied == () and result.diff == ""
    (failure,) = result.failed
    assert failure.block.index == 0 and "holds no edit" in failure.reason
    assert "Your answer could not be used" in result.feedback()
    assert "empty" in apply_answer(repo, "  \n").failed[0].reason


def test_failed_answer_writes_nothing(repo: Path) -> None:
    result = apply_answer(repo, sr("pkg/mod.py", "    return 7\n", "    return 2\n"))
    assert not result.ok and result.changed_files == () and result.diff == ""
    assert git(repo, "status", "--porcelain") == ""


def test_symlinked_file_pointing_out_is_refused(repo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("keep\n")
    os.symlink(secret, repo / "link.txt")
    result = apply_answer(repo, sr("link.txt", "keep\n", "gone\n"))
    assert not result.ok and "outside the repository" in result.failed[0].reason
    assert secret.read_text() == "keep\n"


def test_binary_file_is_a_failure_not_a_crash(repo: Path) -> None:
    result = apply_answer(repo, sr("blob.bin", "binary\n", "text\n"))
    assert "not UTF-8" in result.failed[0].reason


def test_unchanged_only_answer_fails_as_already_applied(repo: Path) -> None:
    result = apply_answer(repo, "pkg/mod.py\n```python\ndef f():\n    return 1\n```\n")
    assert not result.ok and result.failed[0].already_applied
    assert "already in the file" in result.feedback()


def test_whole_format_block_without_path_needs_files(repo: Path) -> None:
    answer = "```python\ndef f():\n    return 5\n```\n"
    assert "names no file" in apply_answer(repo, answer, edit_format="whole").failed[0].reason
    result = apply_answer(repo, answer, edit_format="whole", files=["pkg/mod.py"])
    assert result.ok and result.applied[0].block.path == "pkg/mod.py"
    assert (repo / "pkg" / "mod.py").read_text() == "def f():\n    return 5\n"


def test_feedback_lists_failed_and_applied_blocks(repo: Path) -> None:
    answer = sr("pkg/mod.py", "    return 1\n", "    return 2\n") + sr(
        "pkg/mod.py", "    return 9\n", "    return 8\n"
    )
    result = apply_answer(repo, answer)
    text = result.feedback()
    assert not result.ok
    assert "1 of the 2 edit blocks in your answer failed to apply." in text
    assert "## Block 2 (pkg/mod.py)" in text
    assert "- block 1 (pkg/mod.py): exact" in text
    assert "<<<<<<< SEARCH" in text  # the search-replace reminder
    reset = result.feedback(applied_kept=False)
    assert "send them again with the corrected ones" in reset


def test_a_refused_block_is_left_out_and_the_rest_stands(repo: Path) -> None:
    """A refused block (a path outside) does not make the answer unusable: the rest is
    applied, and the feedback says the refused change must not come back."""
    answer = sr("pkg/mod.py", "    return 1\n", "    return 2\n") + sr("../x.py", "", "y\n")
    result = apply_answer(repo, answer)
    assert result.ok and [o.block.path for o in result.refused] == ["../x.py"]
    text = result.feedback()
    assert "## Block 2 (../x.py)" in text and "leads outside the repository" in text
    assert "This change is refused" in text and "The other blocks stand" in text
    assert "<<<<<<< SEARCH" not in text
    alone = apply_answer(repo, sr("../x.py", "", "y\n"))
    assert not alone.ok and "Send a change that leaves that file alone" in alone.feedback()


def test_feedback_template_is_strict(repo: Path, tmp_path: Path) -> None:
    result = apply_answer(repo, "no edit here")
    custom = tmp_path / "prompts"
    custom.mkdir()
    (custom / "edit_feedback.j2").write_text("{{ failed | length }} {{ not_a_variable }}")
    with pytest.raises(ConfigError, match="not_a_variable"):
        render_feedback(result, prompts_dir=custom)
    (custom / "edit_feedback.j2").write_text("{{ failed | length }} failed")
    assert render_feedback(result, prompts_dir=custom) == "1 failed\n"


def test_importing_edits_stays_light() -> None:
    code = (
        "import sys, swcollab.edits\n"
        "bad = [m for m in sys.modules if m.startswith(('tree_sitter', 'jinja2', 'git'))]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_pathless_block_without_shown_files_searches_tracked_files(repo: Path) -> None:
    answer = "```\n<<<<<<< SEARCH\n    return 1\n=======\n    return 9\n>>>>>>> REPLACE\n```\n"
    result = apply_answer(repo, answer)
    assert result.ok and result.changed_files == ("pkg/mod.py",)
    missing = answer.replace("return 1", "return 4")
    assert "none of the repository" in apply_answer(repo, missing).failed[0].reason


def test_path_through_a_file_is_a_failure(repo: Path) -> None:
    result = apply_answer(repo, sr("pkg/mod.py/inner.py", "", "x = 1\n"))
    assert "is a file, not a directory" in result.failed[0].reason
