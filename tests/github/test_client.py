"""The GitHub client against the loopback API: what it reads, sends, and says when it fails."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from swcollab.errors import EXIT_ENVIRONMENT, ConfigError, GitHubError
from swcollab.github import GitHubClient, IssueRef
from swcollab.github.client import MAX_BODY_CHARS
from tests.fakes.github_server import FakeGitHub

REF = IssueRef("octo", "app", 42)


def fetch_error(ref: IssueRef = REF, **client_args) -> GitHubError:
    with pytest.raises(GitHubError) as info, GitHubClient(**client_args) as client:
        client.get_issue(ref)
    assert info.value.exit_code == EXIT_ENVIRONMENT
    assert "\n" not in str(info.value)  # one line
    return info.value


def test_reads_title_body_labels_and_all_comment_pages(fake_github: FakeGitHub) -> None:
    comments = [(f"user{i}", f"comment {i}") for i in range(250)]
    fake_github.add_issue(
        "octo",
        "app",
        42,
        title="Crash on empty input",
        body="Steps:\n1. run it",
        labels=("bug", "swc"),
        comments=comments,
    )
    with GitHubClient() as client:
        issue = client.get_issue(REF)
    assert issue.number == 42
    assert issue.title == "Crash on empty input"
    assert issue.body == "Steps:\n1. run it"
    assert issue.labels == ("bug", "swc")
    assert [c.author for c in issue.comments] == [a for a, _ in comments]
    assert issue.comments[-1].body == "comment 249"
    assert issue.html_url.endswith("/octo/app/issues/42")
    pages = [r for r in fake_github.requests if r.path.endswith("/comments")]
    assert [r.query.get("page", "1") for r in pages] == ["1", "2", "3"]
    assert all(r.query["per_page"] == "100" for r in pages)


def test_issue_without_comments_makes_one_request(fake_github: FakeGitHub) -> None:
    fake_github.add_issue("octo", "app", 42, body=None)  # type: ignore[arg-type]
    with GitHubClient() as client:
        issue = client.get_issue(REF)
    assert issue.body == "" and issue.comments == ()
    assert len(fake_github.requests) == 1


def test_token_from_github_token_or_gh_token(
    fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_github.require_token = "s3cret"
    fake_github.add_issue("octo", "app", 42)
    monkeypatch.setenv("GH_TOKEN", "s3cret")
    with GitHubClient() as client:
        assert client.get_issue(REF).number == 42
    assert fake_github.requests[-1].headers["authorization"] == "Bearer s3cret"
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")  # GITHUB_TOKEN comes first
    error = fetch_error()
    assert "401" in error.message and "GITHUB_TOKEN" in error.message


def test_public_issue_sends_no_authorization(fake_github: FakeGitHub) -> None:
    fake_github.add_issue("octo", "app", 42)
    with GitHubClient() as client:
        client.get_issue(REF)
    assert "authorization" not in fake_github.requests[0].headers


def test_missing_issue_names_repository_and_token(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo", "app", private=True)
    fake_github.add_issue("octo", "app", 42)
    error = fetch_error()
    assert "issue #42 not found in octo/app" in error.message
    assert "GITHUB_TOKEN" in error.message
    # With a token the private repository's issue is readable.
    with GitHubClient(token="any") as client:
        assert client.get_issue(REF).number == 42
    assert "not found in octo/app" in fetch_error(IssueRef("octo", "app", 41)).message


def test_pull_request_number_is_refused(fake_github: FakeGitHub) -> None:
    fake_github.add_issue("octo", "app", 42, pull_request=True)
    assert fetch_error().message.startswith("#42 is a pull request, not an issue")


def test_unauthenticated_401(fake_github: FakeGitHub) -> None:
    fake_github.require_token = "needed"
    error = fetch_error()
    assert "requires authentication" in error.message and "GITHUB_TOKEN" in error.message


def test_forbidden_says_what_permission_is_needed(fake_github: FakeGitHub) -> None:
    fake_github.fail(
        "POST",
        r"/repos/octo/app/issues/42/comments",
        403,
        {"message": "Resource not accessible by integration"},
    )
    with pytest.raises(GitHubError) as info, GitHubClient(token="t") as client:
        client.comment_on_issue("octo", "app", 42, "hello")
    assert "403 Resource not accessible by integration" in info.value.message
    assert "issues: write" in info.value.message


def test_rate_limit_says_when_it_resets_in_local_time(fake_github: FakeGitHub) -> None:
    reset = int(time.time()) + 3600
    fake_github.rate_limit(reset)
    error = fetch_error()
    local = datetime.fromtimestamp(reset).astimezone().strftime("%H:%M:%S")
    assert "rate limit" in error.message
    assert f"resets at {local} local time" in error.message
    assert "set GITHUB_TOKEN" in error.message


def test_429_is_a_rate_limit_too(fake_github: FakeGitHub) -> None:
    fake_github.fail("GET", ".*", 429, {"message": "slow down"}, headers={"Retry-After": "60"})
    error = fetch_error(token="t")
    assert "rate limit" in error.message and "resets at" in error.message
    assert "GITHUB_TOKEN" not in error.message  # a token is already in use


def test_server_error_is_one_line(fake_github: FakeGitHub) -> None:
    fake_github.fail("GET", ".*", 502, {"message": "Bad Gateway"})
    assert (
        "GitHub API error 502: Bad Gateway while reading issue octo/app#42" in fetch_error().message
    )


def test_connection_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = fetch_error(api_url=f"http://127.0.0.1:{port}")
    assert f"cannot reach the GitHub API at http://127.0.0.1:{port}" in error.message


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel does) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_timeout(silent_server: str) -> None:
    error = fetch_error(api_url=silent_server, timeout=0.2)
    assert "did not answer within 0.2s" in error.message


def test_pagination_never_follows_a_link_to_another_host(fake_github: FakeGitHub) -> None:
    fake_github.add_issue("octo", "app", 42, comments=[("a", "first")])
    fake_github.fail(
        "GET",
        r"/repos/octo/app/issues/42/comments",
        200,
        [{"user": {"login": "a"}, "body": "first"}],
        headers={"Link": '<http://evil.example/steal>; rel="next"'},
    )
    with GitHubClient(token="t") as client:
        issue = client.get_issue(REF)
    assert [c.body for c in issue.comments] == ["first"]


def test_create_draft_pull_request_sends_the_report(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo", "app", default_branch="trunk")
    with GitHubClient(token="t") as client:
        base = client.default_branch("octo", "app")
        url = client.create_pull_request(
            "octo",
            "app",
            head="swc/issue-42",
            base=base,
            title="Fix crash on empty input (#42)",
            body="## swc report\nFixes #42",
        )
    assert base == "trunk"
    assert url.endswith("/octo/app/pull/1001")
    assert fake_github.pulls == [
        {
            "owner": "octo",
            "repo": "app",
            "title": "Fix crash on empty input (#42)",
            "head": "swc/issue-42",
            "base": "trunk",
            "body": "## swc report\nFixes #42",
            "draft": True,
        }
    ]


def test_existing_pull_request_is_reported(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo", "app")
    with GitHubClient(token="t") as client:
        client.create_pull_request("octo", "app", head="swc/x", base="main", title="t", body="b")
        with pytest.raises(GitHubError, match="A pull request already exists for octo:swc/x"):
            client.create_pull_request(
                "octo", "app", head="swc/x", base="main", title="t", body="b"
            )


def test_comment_on_issue(fake_github: FakeGitHub) -> None:
    fake_github.add_issue("octo", "app", 42)
    with GitHubClient(token="t") as client:
        url = client.comment_on_issue("octo", "app", 42, "swc tried 3 patches ($0.02)")
    assert "#issuecomment-" in url
    assert fake_github.posted_comments == [
        {"owner": "octo", "repo": "app", "number": 42, "body": "swc tried 3 patches ($0.02)"}
    ]


def test_long_bodies_are_clipped_to_what_github_accepts(fake_github: FakeGitHub) -> None:
    fake_github.add_issue("octo", "app", 42)
    with GitHubClient(token="t") as client:
        client.comment_on_issue("octo", "app", 42, "x" * 100_000)
    body = fake_github.posted_comments[0]["body"]
    assert len(body) < 65_536
    assert body.startswith("x" * MAX_BODY_CHARS) and "truncated" in body


def test_missing_repository_for_pull_request(fake_github: FakeGitHub) -> None:
    with (
        pytest.raises(GitHubError, match="repository octo/gone not found"),
        GitHubClient(token="t") as client,
    ):
        client.create_pull_request("octo", "gone", head="a", base="b", title="t", body="b")


def test_renamed_repository_redirect_is_followed(fake_github: FakeGitHub) -> None:
    fake_github.add_issue("octo", "new-name", 42, title="Moved along")
    target = f"{fake_github.url}/repos/octo/new-name/issues/42"
    fake_github.fail(
        "GET",
        r"/repos/octo/app/issues/42",
        301,
        {"message": "Moved Permanently", "url": target},
        headers={"Location": target},
    )
    with GitHubClient(token="t") as client:
        assert client.get_issue(REF).title == "Moved along"
    assert fake_github.requests[-1].headers["authorization"] == "Bearer t"  # same host


def test_api_url_without_scheme_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="GITHUB_API_URL"):
        GitHubClient(environ={"GITHUB_API_URL": "api.github.com"})
