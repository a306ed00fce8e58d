"""``swc fix --issue N --push --pr --comment`` against the loopback GitHub and model servers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.conftest import WRONG_PATCH, git
from swcollab.cli import cli
from tests.fakes.github_server import FakeGitHub, fake_github  # noqa: F401  (fixture)


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return path


@pytest.fixture
def published(project: Path, bare: Path, fake_github: FakeGitHub) -> Path:  # noqa: F811
    git(project, "remote", "add", "origin", "git@github.com:octo/calc.git")
    git(project, "config", "remote.origin.pushurl", str(bare))
    git(project, "push", "-q", str(bare), "main")
    fake_github.add_issue(
        "octo",
        "calc",
        42,
        title="add() returns the wrong sum",
        body="add(2, 3) returns -1 instead of 5.",
        comments=[("maintainer", "Confirmed on main.")],
    )
    fake_github.link_remote("octo", "calc", bare)
    return project


def run(project: Path, *args: str) -> tuple[int, dict, str]:
    result = CliRunner().invoke(
        cli, ["--repo", str(project), "fix", "--json", *args], catch_exceptions=False
    )
    return (
        result.exit_code,
        (json.loads(result.stdout) if result.stdout.strip() else {}),
        result.stderr,
    )


def test_issue_fixed_pushed_and_draft_pr(
    published,
    bare,
    models,
    fake_github,  # noqa: F811
    fake_llm,
):
    models()
    code, doc, _ = run(published, "--issue", "42", "--push", "--pr", "--comment")
    assert code == 0, doc
    assert doc["branch"] == "swc/issue-42"
    assert git(bare, "rev-parse", "swc/issue-42") == git(published, "rev-parse", "swc/issue-42")
    assert "Fixes #42" in git(published, "log", "-1", "--format=%B", "swc/issue-42")
    pull = fake_github.pulls[-1]
    assert pull["draft"] is True and pull["head"] == "swc/issue-42" and pull["base"] == "main"
    assert pull["body"].startswith("Fixes #42") and "## Attempts" in pull["body"]
    assert doc["pr_url"]
    comment = fake_github.posted_comments[-1]
    assert comment["number"] == 42 and "fixed" in comment["body"]
    # the issue text reached the model as delimited data, comments included
    prompt = fake_llm.prompts()[0]
    assert "<issue>" in prompt and "Confirmed on main." in prompt


def test_issue_not_fixed_comment_but_no_fixes_line(published, models, fake_github):  # noqa: F811
    models(weak_patches=[WRONG_PATCH], strong_patches=[WRONG_PATCH])
    code, doc, _ = run(published, "--issue", "42", "--comment", "--keep-failed")
    assert code == 1
    assert doc["branch"] == "swc/issue-42-unverified"
    assert "Fixes #42" not in git(published, "log", "-1", "--format=%B", doc["branch"])
    body = fake_github.posted_comments[-1]["body"]
    assert "not fixed" in body and "Cost:" in body


def test_push_failure_keeps_local_branch(published, bare, models):
    models()
    # a diverged branch of the same name on the remote: pushing without force must fail
    git(published, "switch", "-q", "-c", "swc/issue-42")
    (published / "other.txt").write_text("x\n")
    git(published, "add", "other.txt")
    git(published, "commit", "-qm", "other")
    git(published, "push", "-q", str(bare), "swc/issue-42")
    git(published, "switch", "-q", "main")
    git(published, "branch", "-D", "swc/issue-42")
    code, doc, err = run(published, "--issue", "42", "--push")
    assert code == 0
    assert doc["branch"] == "swc/issue-42"  # the local branch name was free again
    assert any("git push" in w for w in doc["warnings"]) or "git push" in err


def test_pull_request_number_is_refused(published, models, fake_github):  # noqa: F811
    models()
    fake_github.add_issue("octo", "calc", 7, title="a PR", pull_request=True)
    code, _doc, err = run(published, "--issue", "7")
    assert code == 3
    assert "pull request" in err
