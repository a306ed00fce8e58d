"""The accepted patch lands on a new branch; the user's checkout is not touched."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from swcollab.errors import SwcError, UsageError
from swcollab.gitout import branch_from_patch, slugify, unique_branch_name
from swcollab.sandbox import Worktree


def git(cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    )
    if check and proc.returncode != 0:
        raise AssertionError(proc.stderr)
    return proc.stdout


@pytest.fixture(autouse=True)
def _no_global_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)


def make_repo(root: Path, *, identity: bool = True) -> Path:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    if identity:
        git(root, "config", "user.name", "Repo Owner")
        git(root, "config", "user.email", "owner@example.com")
    (root / "app.py").write_text("def answer():\n    return 41\n")
    (root / "README.md").write_text("readme\n")
    ident = ["-c", "user.name=Init", "-c", "user.email=init@example.com"]
    git(root, "add", "-A")
    git(root, *ident, "commit", "-q", "-m", "initial")
    return root


def checkout_state(root: Path) -> dict[str, object]:
    files = {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }
    return {
        "status": git(root, "status", "--porcelain", "--untracked-files=all"),
        "index": hashlib.sha256((root / ".git/index").read_bytes()).hexdigest(),
        "head": git(root, "rev-parse", "HEAD"),
        "branch": git(root, "symbolic-ref", "HEAD"),
        "files": files,
    }


PATCH = """\
diff --git a/app.py b/app.py
--- a/app.py
+++ b/app.py
@@ -1,2 +1,2 @@
 def answer():
-    return 41
+    return 42
"""


def test_commit_lands_on_a_new_branch_and_checkout_is_untouched(tmp_path: Path):
    repo = make_repo(tmp_path / "repo")
    (repo / "app.py").write_text("def answer():\n    return 41  # user's own edit\n")
    (repo / "scratch.txt").write_text("untracked\n")
    before = checkout_state(repo)
    base = git(repo, "rev-parse", "HEAD").strip()
    name, diff = branch_from_patch(
        repo,
        base,
        PATCH,
        {"tests/test_app.py": "def test_answer():\n    pass\n"},
        branch="swc/fix-answer",
        message="Fix answer\n\nbody",
    )
    assert name == "swc/fix-answer"
    assert checkout_state(repo) == before
    assert git(repo, "rev-parse", f"{name}^").strip() == base
    assert git(repo, "show", f"{name}:app.py") == "def answer():\n    return 42\n"
    assert git(repo, "diff", "--name-only", base, name).split() == ["app.py", "tests/test_app.py"]
    # what is returned is what `git diff base branch` prints, byte for byte
    assert diff == git(repo, "diff", base, name)
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", name).strip() == (
        "Repo Owner <owner@example.com>|Repo Owner <owner@example.com>|Fix answer\n\nbody"
    )


def test_the_branch_holds_the_diff_and_nothing_a_worktree_holds(tmp_path: Path):
    """Files a test run left in the worktree do not reach the branch: it is built from the
    diff alone."""
    repo = make_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    with Worktree(repo, temp_dir=tmp_path) as wt:
        (wt.path / "app.py").write_text("def answer():\n    return 42\n")
        patch = wt.diff()
        (wt.path / "left_by_a_test.py").write_text("import os\n")
        (wt.path / "README.md").write_text("rewritten by a test\n")
        name, diff = branch_from_patch(repo, base, patch, branch="swc/only", message="m")
    assert git(repo, "diff", "--name-only", base, name).split() == ["app.py"]
    assert diff == git(repo, "diff", base, name)


def test_existing_branches_are_never_overwritten(tmp_path: Path):
    repo = make_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    for taken in ("swc/fix", "swc/fix-2"):
        git(repo, "branch", taken)
    taken = {b: git(repo, "rev-parse", b).strip() for b in ("swc/fix", "swc/fix-2")}
    assert unique_branch_name(repo, "swc/fix") == "swc/fix-3"
    assert unique_branch_name(repo, "swc/other") == "swc/other"
    first, _ = branch_from_patch(repo, base, PATCH, branch="swc/fix", message="one")
    second, _ = branch_from_patch(repo, base, PATCH, branch="swc/fix", message="two")
    assert (first, second) == ("swc/fix-3", "swc/fix-4")
    assert {b: git(repo, "rev-parse", b).strip() for b in taken} == taken


def test_fallback_identity_when_git_has_none(tmp_path: Path):
    repo = make_repo(tmp_path / "repo", identity=False)
    base = git(repo, "rev-parse", "HEAD").strip()
    name, _ = branch_from_patch(repo, base, PATCH, branch="swc/anon", message="m")
    assert git(repo, "log", "-1", "--format=%an <%ae> %cn <%ce>", name).strip() == (
        "swc <swc@localhost> swc <swc@localhost>"
    )


def test_nothing_to_commit_bad_names_and_bad_patches_are_errors(tmp_path: Path):
    repo = make_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    with pytest.raises(SwcError, match="nothing to commit"):
        branch_from_patch(repo, base, "", branch="swc/empty", message="m")
    with pytest.raises(UsageError, match="not a valid branch name"):
        branch_from_patch(repo, base, PATCH, branch="swc/bad..name", message="m")
    with pytest.raises(SwcError, match="does not apply"):
        branch_from_patch(
            repo, base, PATCH.replace("return 41", "return 40"), branch="swc/stale", message="m"
        )
    with pytest.raises(SwcError):
        branch_from_patch(
            repo, base, PATCH, {".git/hooks/pre-commit": "evil"}, branch="swc/hook", message="m"
        )
    assert git(repo, "branch", "--list", "swc/*") == ""


def test_a_name_that_cannot_exist_fails_instead_of_looping(tmp_path: Path):
    repo = make_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "branch", "swc")  # then swc/<anything> cannot be created
    with pytest.raises(SwcError, match="cannot create branch"):
        branch_from_patch(repo, base, PATCH, branch="swc/x", message="m")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fix crash when config file is empty", "fix-crash-when-config-file-is-empty"),
        ("Ünïcödé: naïve café — résumé!", "unicode-naive-cafe-resume"),
        ("  ../..//.lock @{evil} ~^:?*[ \\ ", "lock-evil"),
        ("", "fix"),
        ("日本語だけ", "fix"),
        ("a" * 100, "a" * 40),
        (
            "TypeError in parse_args() when --verbose is given twice (regression since 2.0)",
            "typeerror-in-parse-args-when-verbose-is",
        ),
    ],
)
def test_slugify(tmp_path: Path, text: str, expected: str):
    slug = slugify(text)
    assert slug == expected
    assert len(slug) <= 40
    proc = subprocess.run(["git", "check-ref-format", f"refs/heads/swc/{slug}"])
    assert proc.returncode == 0
