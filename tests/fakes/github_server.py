"""A loopback GitHub REST API, standard library only, so swc's real httpx client runs.

It serves the few endpoints swc calls, under ``/api/v3`` like GitHub Enterprise:

- ``GET /repos/O/R`` (default branch), ``GET /repos/O/R/issues/N`` (a pull request comes
  back through the issues endpoint with a ``pull_request`` key, as on GitHub),
  ``GET /repos/O/R/issues/N/comments`` paginated with a ``Link`` header;
- ``POST /repos/O/R/pulls`` and ``POST /repos/O/R/issues/N/comments``, whose JSON bodies
  are kept in ``pulls`` and ``posted_comments`` for tests to assert on.

Failures: ``require_token`` (401 without the right bearer token), ``private`` repositories
(404 without a token, as GitHub does), ``rate_limit(reset)`` (403 with
``X-RateLimit-Remaining: 0``), and ``fail(...)`` for any status on any path. ``link_remote``
ties a repository to a bare git repository: a pull request is then refused (422) unless
its head branch was pushed there.

Use the ``fake_github`` fixture: it starts the server and points ``GITHUB_API_URL`` at it
with ``GITHUB_TOKEN``/``GH_TOKEN`` removed from the environment.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

PREFIX = "/api/v3"
WEB = "https://github.example"  # html_url host of everything this fake serves


@dataclass
class Recorded:
    method: str
    path: str  # without the /api/v3 prefix and without the query
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class _Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int | None  # None: every time


@dataclass
class FakeGitHub:
    url: str = ""  # API root, e.g. http://127.0.0.1:PORT/api/v3
    require_token: str | None = None
    requests: list[Recorded] = field(default_factory=list)
    pulls: list[dict] = field(default_factory=list)  # bodies of POST .../pulls
    posted_comments: list[dict] = field(default_factory=list)  # {"owner","repo","number","body"}
    _repos: dict[tuple[str, str], dict] = field(default_factory=dict)
    _issues: dict[tuple[str, str, int], dict] = field(default_factory=dict)
    _comments: dict[tuple[str, str, int], list[dict]] = field(default_factory=dict)
    _remotes: dict[tuple[str, str], Path] = field(default_factory=dict)
    _failures: list[_Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- scripting --------------------------------------------------------------------

    def add_repo(
        self, owner: str, repo: str, *, default_branch: str = "main", private: bool = False
    ) -> None:
        self._repos[(owner, repo)] = {
            "full_name": f"{owner}/{repo}",
            "default_branch": default_branch,
            "private": private,
            "html_url": f"{WEB}/{owner}/{repo}",
        }

    def add_issue(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        title: str = "An issue",
        body: str = "",
        labels: tuple[str, ...] = (),
        comments: list[tuple[str, str]] | tuple = (),
        pull_request: bool = False,
    ) -> None:
        """An issue (or, with ``pull_request``, a pull request) with ``(author, body)`` comments."""
        if (owner, repo) not in self._repos:
            self.add_repo(owner, repo)
        api = f"{self.url}/repos/{owner}/{repo}/issues/{number}"
        issue: dict[str, Any] = {
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "labels": [{"name": name} for name in labels],
            "comments": len(comments),
            "url": api,
            "html_url": f"{WEB}/{owner}/{repo}/issues/{number}",
            "user": {"login": "reporter"},
        }
        if pull_request:
            issue["pull_request"] = {"url": f"{self.url}/repos/{owner}/{repo}/pulls/{number}"}
            issue["html_url"] = f"{WEB}/{owner}/{repo}/pull/{number}"
        self._issues[(owner, repo, number)] = issue
        self._comments[(owner, repo, number)] = [
            {"id": i + 1, "user": {"login": author}, "body": text}
            for i, (author, text) in enumerate(comments)
        ]

    def link_remote(self, owner: str, repo: str, bare_repo: Path) -> None:
        """Pull requests into ``owner/repo`` need their head branch pushed to ``bare_repo``."""
        self._remotes[(owner, repo)] = bare_repo

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int | None = None,
    ) -> None:
        """Answer ``method`` on paths matching ``path_regex`` (no /api/v3) with ``status``."""
        self._failures.append(
            _Failure(
                method.upper(),
                re.compile(path_regex),
                status,
                body if body is not None else {"message": "failure"},
                headers or {},
                times,
            )
        )

    def rate_limit(self, reset_epoch: int) -> None:
        """Every request from now on is refused as GitHub does when the limit is spent."""
        self.fail(
            "GET",
            ".*",
            403,
            {"message": "API rate limit exceeded for 127.0.0.1."},
            headers={
                "X-RateLimit-Limit": "60",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset_epoch),
            },
        )
        self.fail(
            "POST",
            ".*",
            403,
            {"message": "API rate limit exceeded."},
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset_epoch)},
        )

    # -- serving ----------------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(raw_path)
        path = parts.path[len(PREFIX) :] if parts.path.startswith(PREFIX) else parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests.append(Recorded(method, path, query, headers, body))
            failure = self._take_failure(method, path)
        if failure is not None:
            return failure.status, failure.body, failure.headers
        token = _bearer(headers)
        if self.require_token is not None and token != self.require_token:
            return 401, {"message": "Bad credentials"}, {}
        return self._route(method, path, query, body, authenticated=token is not None)

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.method == method and failure.pattern.fullmatch(path):
                if failure.times is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any, *, authenticated: bool
    ) -> tuple[int, Any, dict[str, str]]:
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        if match is None:
            return 404, {"message": "Not Found"}, {}
        owner, repo, rest = match[1], match[2], match[3] or ""
        meta = self._repos.get((owner, repo))
        if meta is None or (meta["private"] and not authenticated):
            return 404, {"message": "Not Found"}, {}
        if method == "GET" and rest == "":
            return 200, meta, {}
        if method == "POST" and rest == "/pulls":
            return self._create_pull(owner, repo, body)
        issue = re.fullmatch(r"/issues/([0-9]+)(/comments)?", rest)
        if issue is None:
            return 404, {"message": "Not Found"}, {}
        key = (owner, repo, int(issue[1]))
        if key not in self._issues:
            return 404, {"message": "Not Found"}, {}
        if method == "GET" and not issue[2]:
            return 200, self._issues[key], {}
        if method == "GET":
            return self._comment_page(key, query)
        if method == "POST" and issue[2]:
            return self._post_comment(key, body)
        return 404, {"message": "Not Found"}, {}

    def _comment_page(
        self, key: tuple[str, str, int], query: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(query.get("per_page", "30")), 100)
        page = int(query.get("page", "1"))
        items = self._comments[key]
        start = (page - 1) * per_page
        headers: dict[str, str] = {}
        last = max(1, -(-len(items) // per_page))
        if page < last:
            base = f"{self.url}/repos/{key[0]}/{key[1]}/issues/{key[2]}/comments"
            headers["Link"] = (
                f'<{base}?per_page={per_page}&page={page + 1}>; rel="next", '
                f'<{base}?per_page={per_page}&page={last}>; rel="last"'
            )
        return 200, items[start : start + per_page], headers

    def _create_pull(self, owner: str, repo: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or not body.get("head") or not body.get("base"):
            return 422, {"message": "Validation Failed"}, {}
        bare = self._remotes.get((owner, repo))
        if bare is not None and not _has_branch(bare, body["head"]):
            return (
                422,
                {"message": "Validation Failed", "errors": [{"field": "head", "code": "invalid"}]},
                {},
            )
        if any(p["head"] == body["head"] and p["owner"] == owner for p in self.pulls):
            return (
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {"message": f"A pull request already exists for {owner}:{body['head']}."}
                    ],
                },
                {},
            )
        number = 1000 + len(self.pulls) + 1
        self.pulls.append({"owner": owner, "repo": repo, **body})
        return (
            201,
            {
                "number": number,
                "draft": bool(body.get("draft")),
                "html_url": f"{WEB}/{owner}/{repo}/pull/{number}",
            },
            {},
        )

    def _post_comment(self, key: tuple[str, str, int], body: Any) -> tuple[int, Any, dict]:
        if not isinstance(body, dict) or not body.get("body"):
            return 422, {"message": "Validation Failed"}, {}
        self.posted_comments.append(
            {"owner": key[0], "repo": key[1], "number": key[2], "body": body["body"]}
        )
        comment_id = 5000 + len(self.posted_comments)
        return (
            201,
            {
                "id": comment_id,
                "html_url": f"{WEB}/{key[0]}/{key[1]}/issues/{key[2]}#issuecomment-{comment_id}",
            },
            {},
        )


def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    for scheme in ("Bearer ", "token "):
        if value.startswith(scheme):
            return value[len(scheme) :]
    return None


def _has_branch(bare: Path, branch: str) -> bool:
    proc = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
        cwd=bare,
        capture_output=True,
    )
    return proc.returncode == 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeGitHub


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload, extra = self.server.fake.handle(method, self.path, headers, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def start_fake_github() -> tuple[FakeGitHub, _Server]:
    fake = FakeGitHub()
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{PREFIX}"
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    return fake, server


@pytest.fixture
def fake_github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """A running fake GitHub; ``GITHUB_API_URL`` points at it and no token is set."""
    fake, server = start_fake_github()
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
