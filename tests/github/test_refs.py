"""What ``--issue`` accepts, and which repository a remote URL names."""

from __future__ import annotations

from pathlib import Path

import pytest

from swcollab.errors import EXIT_USAGE, UsageError
from swcollab.github import (
    IssueRef,
    parse_issue_ref,
    parse_remote_url,
    repo_from_remote,
    resolve_issue_ref,
)

from .helpers import git

DEFAULT = ("octo", "app")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123", IssueRef("octo", "app", 123, None)),
        ("#123", IssueRef("octo", "app", 123, None)),
        ("  #7 ", IssueRef("octo", "app", 7, None)),
        ("pallets/click#2790", IssueRef("pallets", "click", 2790, None)),
        ("my-org/my.repo_x#1", IssueRef("my-org", "my.repo_x", 1, None)),
        (
            "https://github.com/pallets/click/issues/2790",
            IssueRef("pallets", "click", 2790, "https://api.github.com"),
        ),
        (
            "https://github.com/pallets/click/issues/2790#issuecomment-1",
            IssueRef("pallets", "click", 2790, "https://api.github.com"),
        ),
        (
            "https://github.com/pallets/click/issues/5/",
            IssueRef("pallets", "click", 5, "https://api.github.com"),
        ),
        (
            "https://ghe.example.com/owner/repo/issues/5",
            IssueRef("owner", "repo", 5, "https://ghe.example.com/api/v3"),
        ),
        (
            "http://127.0.0.1:8080/owner/repo/issues/9",
            IssueRef("owner", "repo", 9, "http://127.0.0.1:8080/api/v3"),
        ),
    ],
)
def test_accepted_forms(text: str, expected: IssueRef) -> None:
    assert parse_issue_ref(text, default_repo=DEFAULT) == expected


def test_short_forms_use_the_given_api() -> None:
    ref = parse_issue_ref("#4", default_repo=DEFAULT, api_url="https://ghe.local/api/v3")
    assert ref.api_url == "https://ghe.local/api/v3"
    assert str(ref) == "octo/app#4"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "#",
        "#-1",
        "0",
        "#0",
        "owner/repo",
        "owner/repo#",
        "owner#12",
        "a/b/c#1",
        "../..#1",
        "owner/..#1",
        "https://github.com/owner/repo",
        "https://github.com/owner/repo/issues/abc",
        "ftp://github.com/o/r/issues/1",
        "https://github.com/owner/repo/commit/1",
    ],
)
def test_bad_references_are_usage_errors_listing_the_forms(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_issue_ref(text, default_repo=DEFAULT)
    assert info.value.exit_code == EXIT_USAGE
    assert "owner/repo#123" in info.value.message
    assert "https://github.com/owner/repo/issues/123" in info.value.message


def test_pull_request_url_is_refused() -> None:
    with pytest.raises(UsageError, match="is a pull request, not an issue"):
        parse_issue_ref("https://github.com/o/r/pull/12", default_repo=None)


def test_number_without_a_repository_says_what_to_type() -> None:
    with pytest.raises(UsageError, match="owner/repo#N"):
        parse_issue_ref("12", default_repo=None)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/octo/app.git", ("github.com", "octo", "app")),
        ("https://github.com/octo/app", ("github.com", "octo", "app")),
        ("https://github.com/octo/app/", ("github.com", "octo", "app")),
        ("https://user:secret@github.com/octo/app.git", ("github.com", "octo", "app")),
        ("https://GHE.example.com:8443/team/tool.git", ("ghe.example.com:8443", "team", "tool")),
        ("git@github.com:octo/app.git", ("github.com", "octo", "app")),
        ("git@github.com:octo/app", ("github.com", "octo", "app")),
        ("github.com:octo/app.git", ("github.com", "octo", "app")),
        ("ssh://git@github.com/octo/app.git", ("github.com", "octo", "app")),
        ("ssh://git@ghe.example.com:2222/team/tool.git", ("ghe.example.com", "team", "tool")),
        ("git://github.com/octo/app.git", ("github.com", "octo", "app")),
    ],
)
def test_remote_url_forms(url: str, expected: tuple[str, str, str]) -> None:
    assert parse_remote_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "/srv/git/app.git",
        "../app.git",
        "file:///srv/git/app.git",
        "https://gitlab.example.com/group/sub/app.git",
        "C:/repos/app",
    ],
)
def test_remote_urls_that_name_no_github_repository(url: str) -> None:
    assert parse_remote_url(url) is None


def test_repo_from_remote_reads_the_named_remote(make_repo) -> None:
    repo: Path = make_repo()
    assert repo_from_remote(repo) is None  # no remote yet
    git(repo, "remote", "add", "origin", "git@github.com:octo/app.git")
    git(repo, "remote", "add", "upstream", "https://ghe.example.com/team/tool")
    assert repo_from_remote(repo) == ("github.com", "octo", "app")
    assert repo_from_remote(repo, "upstream") == ("ghe.example.com", "team", "tool")
    assert repo_from_remote(repo, "missing") is None


def test_resolve_infers_repository_and_api(make_repo) -> None:
    repo: Path = make_repo()
    git(repo, "remote", "add", "origin", "https://ghe.example.com/team/tool.git")
    assert resolve_issue_ref("#3", repo, environ={}) == IssueRef(
        "team", "tool", 3, "https://ghe.example.com/api/v3"
    )
    # GitHub Actions sets GITHUB_API_URL: it wins for the short forms.
    env = {"GITHUB_API_URL": "http://127.0.0.1:1/api/v3"}
    assert resolve_issue_ref("3", repo, environ=env).api_url == "http://127.0.0.1:1/api/v3"
    # A URL names its own host.
    url = "https://github.com/octo/app/issues/8"
    assert resolve_issue_ref(url, repo, environ=env) == IssueRef(
        "octo", "app", 8, "https://api.github.com"
    )
    with pytest.raises(UsageError):
        resolve_issue_ref("3", repo, remote="nope", environ={})
