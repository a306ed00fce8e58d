"""The publishing chain swc fix uses, end to end against the fakes (no model involved):
issue ref from the remote -> issue -> push to a bare repository -> draft PR -> comment."""

from __future__ import annotations

from pathlib import Path

import pytest

from swcollab.errors import GitHubError
from swcollab.github import GitHubClient, issue_task_text, push_branch, resolve_issue_ref
from tests.fakes.github_server import FakeGitHub

from .helpers import commit, git


@pytest.fixture
def clone(make_repo, bare_remote: Path) -> Path:
    repo: Path = make_repo()
    # Fetch URL names the GitHub repository; pushes go to the local bare repository.
    git(repo, "remote", "add", "origin", "git@github.com:octo/app.git")
    git(repo, "config", "remote.origin.pushurl", str(bare_remote))
    git(repo, "switch", "-q", "-c", "swc/issue-42")
    commit(repo, "fix.py", "ok = True\n", "Fix crash on empty input\n\nFixes #42")
    git(repo, "switch", "-q", "main")
    return repo


def test_issue_to_draft_pull_request(
    fake_github: FakeGitHub, clone: Path, bare_remote: Path
) -> None:
    fake_github.add_issue(
        "octo",
        "app",
        42,
        title="Crash on empty input",
        body="`parse('')` raises IndexError",
        labels=("swc",),
        comments=[("maintainer", "Confirmed on main.")],
    )
    fake_github.link_remote("octo", "app", bare_remote)
    ref = resolve_issue_ref("42", clone)
    assert ref.api_url == fake_github.url  # GITHUB_API_URL, as in GitHub Actions
    with GitHubClient(ref.api_url, token="t") as client:
        issue = client.get_issue(ref)
        assert "`parse('')` raises IndexError" in issue_task_text(issue)
        # Opening the PR before the branch is pushed fails: the fake checks the remote.
        with pytest.raises(GitHubError, match="422"):
            client.create_pull_request(
                "octo", "app", head="swc/issue-42", base="main", title="Fix", body="report"
            )
        push_branch(clone, "swc/issue-42")
        url = client.create_pull_request(
            "octo",
            "app",
            head="swc/issue-42",
            base=client.default_branch("octo", "app"),
            title="Fix: Crash on empty input",
            body="Fixes #42\n\n## swc report",
        )
        client.comment_on_issue("octo", "app", 42, "swc opened " + url)
    assert git(bare_remote, "rev-parse", "swc/issue-42") == git(clone, "rev-parse", "swc/issue-42")
    assert fake_github.pulls[-1]["draft"] is True
    assert fake_github.pulls[-1]["body"].startswith("Fixes #42")
    assert fake_github.posted_comments[-1]["body"] == f"swc opened {url}"
