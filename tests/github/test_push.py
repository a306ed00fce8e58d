"""Pushing to a local bare repository: the branch arrives, nothing is ever forced."""

from __future__ import annotations

from pathlib import Path

import pytest

from swcollab.errors import EXIT_ENVIRONMENT
from swcollab.github import PushFailed, push_branch

from .helpers import commit, git


@pytest.fixture
def repo_with_remote(make_repo, bare_remote: Path) -> Path:
    repo: Path = make_repo()
    git(repo, "remote", "add", "origin", str(bare_remote))
    git(repo, "branch", "swc/issue-1")
    git(repo, "checkout", "-q", "swc/issue-1")
    commit(repo, "fix.py", "fixed = True\n", "Fix #1")
    git(repo, "checkout", "-q", "main")
    return repo


def test_push_leaves_the_branch_on_the_remote(repo_with_remote: Path, bare_remote: Path) -> None:
    push_branch(repo_with_remote, "swc/issue-1")
    local = git(repo_with_remote, "rev-parse", "swc/issue-1")
    assert git(bare_remote, "rev-parse", "refs/heads/swc/issue-1") == local
    # Only that branch: main was not pushed along.
    assert git(bare_remote, "for-each-ref", "--format=%(refname)") == "refs/heads/swc/issue-1"


def test_push_to_a_named_remote(repo_with_remote: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.git"
    git(tmp_path, "init", "-q", "--bare", str(other))
    git(repo_with_remote, "remote", "add", "fork", str(other))
    push_branch(repo_with_remote, "swc/issue-1", remote="fork")
    assert git(other, "rev-parse", "refs/heads/swc/issue-1")


def test_diverged_remote_branch_is_never_overwritten(
    repo_with_remote: Path, bare_remote: Path, tmp_path: Path
) -> None:
    # Someone else pushed a different swc/issue-1 first.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare_remote), str(clone))
    git(clone, "checkout", "-q", "--orphan", "swc/issue-1")
    theirs = commit(clone, "theirs.txt", "theirs\n", "their work")
    git(clone, "push", "-q", "origin", "swc/issue-1")
    ours = git(repo_with_remote, "rev-parse", "swc/issue-1")

    with pytest.raises(PushFailed) as info:
        push_branch(repo_with_remote, "swc/issue-1")

    error = info.value
    assert error.exit_code == EXIT_ENVIRONMENT
    assert "[rejected]" in error.message
    assert "the branch is kept locally" in error.message
    assert "push it by hand with: git push origin swc/issue-1" in error.message
    assert error.command == "git push origin swc/issue-1"
    assert git(bare_remote, "rev-parse", "refs/heads/swc/issue-1") == theirs
    assert git(repo_with_remote, "rev-parse", "swc/issue-1") == ours


def test_unreachable_remote_keeps_the_branch(repo_with_remote: Path, tmp_path: Path) -> None:
    git(repo_with_remote, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    with pytest.raises(PushFailed, match="kept locally; push it by hand with: git push origin"):
        push_branch(repo_with_remote, "swc/issue-1")
    assert git(repo_with_remote, "rev-parse", "--verify", "swc/issue-1")


def test_manual_command_is_quoted_for_the_shell(repo_with_remote: Path) -> None:
    with pytest.raises(PushFailed) as info:
        push_branch(repo_with_remote, "swc/issue-1", remote="no such remote")
    assert info.value.command == "git push 'no such remote' swc/issue-1"


def test_a_push_token_is_given_to_git_for_that_push_only(make_repo) -> None:
    """The token authenticates an HTTPS push through git's environment: it replaces a
    header persisted for the host, and is never written to .git/config."""
    import base64
    import os
    import subprocess

    from swcollab.github.push import token_env

    repo: Path = make_repo()
    git(repo, "remote", "add", "origin", "https://github.com/octo/app.git")
    git(repo, "config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic OLD")
    config_before = (repo / ".git" / "config").read_text()
    env = token_env(repo, "origin", "ghs_push_token")
    seen = subprocess.run(
        ["git", "config", "--get-all", "http.https://github.com/.extraheader"],
        cwd=repo,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    expected = base64.b64encode(b"x-access-token:ghs_push_token").decode()
    # git resets the list at the empty value: only our header is sent
    assert seen[-2:] == ["", f"AUTHORIZATION: basic {expected}"]
    assert (repo / ".git" / "config").read_text() == config_before
    assert token_env(repo, "origin", None) == {}
    git(repo, "remote", "set-url", "origin", "git@github.com:octo/app.git")
    assert token_env(repo, "origin", "ghs_push_token") == {}  # SSH: the key authenticates
