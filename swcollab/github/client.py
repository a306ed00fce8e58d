"""A small GitHub REST client: read an issue, open a draft pull request, comment.

httpx is imported when the first request is made. Every failure becomes one
``GitHubError`` line (exit 3) that says what was being done and what to do about it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import __version__
from ..errors import ConfigError, GitHubError
from .refs import PUBLIC_API_URL, IssueRef

if TYPE_CHECKING:
    import httpx

TOKEN_VARS = ("GITHUB_TOKEN", "GH_TOKEN")
PER_PAGE = 100
MAX_COMMENT_PAGES = 20  # 2,000 comments; the prompt keeps far fewer anyway
# GitHub refuses bodies of pull requests and comments longer than 65,536 characters.
MAX_BODY_CHARS = 65_000
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Comment:
    author: str
    body: str


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    body: str
    labels: tuple[str, ...]
    comments: tuple[Comment, ...]
    url: str  # API URL
    html_url: str  # what people open


@dataclass(frozen=True)
class _Call:
    """What a request is for, so an error can say so (and what a 404/403 means here)."""

    what: str  # "reading issue o/r#5"
    not_found: str
    needs: str  # the permission a token needs for this call


class GitHubClient:
    """REST calls against ``api_url`` (default ``GITHUB_API_URL``, else api.github.com)."""

    def __init__(
        self,
        api_url: str | None = None,
        token: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        env = os.environ if environ is None else environ
        self.api_url = (api_url or env.get("GITHUB_API_URL") or PUBLIC_API_URL).rstrip("/")
        if not self.api_url.startswith(("https://", "http://")):
            raise ConfigError(
                f"the GitHub API URL must start with https:// (got "
                f"{self.api_url!r}; check GITHUB_API_URL)"
            )
        self.token_source: str | None = "the given token" if token else None
        if token is None:
            for name in TOKEN_VARS:
                if env.get(name):
                    token, self.token_source = env[name], f"the token from {name}"
                    break
        self._token = token
        self._timeout = timeout
        self._http: httpx.Client | None = None

    # -- public calls ---------------------------------------------------------------

    def get_issue(self, ref: IssueRef) -> Issue:
        """Title, body, labels and every comment (paginated) of one issue."""
        slug = f"{ref.owner}/{ref.repo}"
        call = _Call(
            what=f"reading issue {ref.slug}",
            not_found=(
                f"issue #{ref.number} not found in {slug} (a private repository needs a "
                "token that can read it: set GITHUB_TOKEN or GH_TOKEN)"
            ),
            needs="read access to the repository's issues",
        )
        data = self._json("GET", f"/repos/{slug}/issues/{ref.number}", call)
        if data.get("pull_request") is not None:
            raise GitHubError(
                f"#{ref.number} is a pull request, not an issue ({slug}); swc fixes issues"
            )
        comments: tuple[Comment, ...] = ()
        if data.get("comments"):
            comments = self._comments(f"/repos/{slug}/issues/{ref.number}/comments", call)
        return Issue(
            number=int(data.get("number", ref.number)),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            labels=tuple(_label_name(label) for label in data.get("labels") or ()),
            comments=comments,
            url=str(data.get("url") or f"{self.api_url}/repos/{slug}/issues/{ref.number}"),
            html_url=str(data.get("html_url") or ""),
        )

    def default_branch(self, owner: str, repo: str) -> str:
        call = _Call(
            what=f"reading repository {owner}/{repo}",
            not_found=f"repository {owner}/{repo} not found (or the token cannot see it)",
            needs="read access to the repository",
        )
        data = self._json("GET", f"/repos/{owner}/{repo}", call)
        branch = data.get("default_branch")
        if not branch:
            raise GitHubError(f"GitHub did not report a default branch for {owner}/{repo}")
        return str(branch)

    def create_pull_request(
        self,
        owner: str,
        repo: str,
        *,
        head: str,
        base: str,
        title: str,
        body: str,
        draft: bool = True,
    ) -> str:
        """Open a pull request from ``head`` into ``base``; returns its web URL."""
        call = _Call(
            what=f"opening a pull request {head} -> {base} in {owner}/{repo}",
            not_found=(
                f"repository {owner}/{repo} not found, or the token cannot open pull requests in it"
            ),
            needs="'pull-requests: write' (and 'contents: write' to push the branch)",
        )
        payload = {"title": title, "head": head, "base": base, "body": _clip(body), "draft": draft}
        data = self._json("POST", f"/repos/{owner}/{repo}/pulls", call, payload)
        return str(data.get("html_url") or "")

    def comment_on_issue(self, owner: str, repo: str, number: int, body: str) -> str:
        """Post a comment on an issue; returns the comment's web URL."""
        call = _Call(
            what=f"commenting on {owner}/{repo}#{number}",
            not_found=f"issue #{number} not found in {owner}/{repo} (or the token cannot see it)",
            needs="'issues: write'",
        )
        data = self._json(
            "POST", f"/repos/{owner}/{repo}/issues/{number}/comments", call, {"body": _clip(body)}
        )
        return str(data.get("html_url") or "")

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        if self._http is None:
            import httpx

            headers = {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"swc/{__version__}",
            }
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            # GitHub answers 301 for renamed repositories and transferred issues. httpx
            # drops the Authorization header when a redirect leaves the host.
            self._http = httpx.Client(headers=headers, timeout=self._timeout, follow_redirects=True)
        return self._http

    def _comments(self, path: str, call: _Call) -> tuple[Comment, ...]:
        url: str | None = f"{self.api_url}{path}?per_page={PER_PAGE}"
        found: list[Comment] = []
        for _ in range(MAX_COMMENT_PAGES):
            if url is None:
                break
            response = self._send("GET", url, call)
            page = _decode(response, self.api_url, call)
            if not isinstance(page, list):
                raise GitHubError(
                    f"unexpected answer from the GitHub API at {self.api_url} "
                    f"while {call.what} (comments)"
                )
            for item in page:
                user = item.get("user") or {}
                found.append(
                    Comment(
                        author=str(user.get("login") or "ghost"), body=str(item.get("body") or "")
                    )
                )
            url = self._next_page(response)
        return tuple(found)

    def _next_page(self, response: httpx.Response) -> str | None:
        url = response.links.get("next", {}).get("url")
        # Never follow a link to another host: the token would go with it.
        if url and urlsplit(url).netloc == urlsplit(self.api_url).netloc:
            return url
        return None

    def _json(self, method: str, path: str, call: _Call, payload: Any = None) -> dict:
        response = self._send(method, f"{self.api_url}{path}", call, payload)
        data = _decode(response, self.api_url, call)
        if not isinstance(data, dict):
            raise GitHubError(
                f"unexpected answer from the GitHub API at {self.api_url} while {call.what}"
            )
        return data

    def _send(self, method: str, url: str, call: _Call, payload: Any = None) -> httpx.Response:
        import httpx

        try:
            response = self._client().request(method, url, json=payload)
        except httpx.TimeoutException:
            raise GitHubError(
                f"the GitHub API at {self.api_url} did not answer within {self._timeout:g}s "
                f"while {call.what}; check the network or GITHUB_API_URL"
            ) from None
        except httpx.RequestError as exc:  # connection, TLS, proxy, too many redirects
            raise GitHubError(
                f"cannot reach the GitHub API at {self.api_url} while {call.what} "
                f"({type(exc).__name__}: {exc}); check the network or GITHUB_API_URL"
            ) from None
        if response.status_code >= 400:
            raise self._http_error(response, call)
        if response.status_code >= 300:  # a redirect without a usable Location
            raise GitHubError(f"GitHub API answered {response.status_code} while {call.what}")
        return response

    def _http_error(self, response: httpx.Response, call: _Call) -> GitHubError:
        status = response.status_code
        message = _error_message(response)
        if _rate_limited(response):
            return GitHubError(_rate_limit_line(response, call, self.token_source))
        if status == 401:
            if self.token_source:
                return GitHubError(
                    f"GitHub rejected {self.token_source} "
                    f"(401 {message or 'Bad credentials'}) while {call.what}; check that it "
                    "is valid and not expired"
                )
            return GitHubError(
                f"GitHub requires authentication (401) while {call.what}; "
                "set GITHUB_TOKEN or GH_TOKEN"
            )
        if status == 403:
            who = self.token_source or "anonymous access"
            return GitHubError(
                f"GitHub refused {who} (403 {message or 'Forbidden'}) while "
                f"{call.what}; it needs {call.needs}"
            )
        if status == 404:
            return GitHubError(call.not_found)
        detail = f": {message}" if message else ""
        return GitHubError(f"GitHub API error {status}{detail} while {call.what}")


def _decode(response: httpx.Response, api_url: str, call: _Call) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubError(
            f"the GitHub API at {api_url} did not answer with JSON while "
            f"{call.what}; check GITHUB_API_URL"
        ) from None


def _label_name(label: Any) -> str:
    return str(label.get("name", "")) if isinstance(label, dict) else str(label)


def _clip(text: str) -> str:
    if len(text) <= MAX_BODY_CHARS:
        return text
    return text[:MAX_BODY_CHARS] + "\n\n… (truncated: GitHub limits bodies to 65,536 characters)"


def _error_message(response: httpx.Response) -> str:
    """GitHub's ``message`` plus any ``errors[].message`` (422 validation details)."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str(data.get("message") or "")]
    for item in data.get("errors") or ():
        if isinstance(item, dict) and item.get("message"):
            parts.append(str(item["message"]))
    return "; ".join(p for p in parts if p)


def _rate_limited(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    if response.headers.get("x-ratelimit-remaining") == "0":
        return True
    # secondary rate limits: 403 with Retry-After and a message saying so
    return "rate limit" in _error_message(response).lower()


def _rate_limit_line(response: httpx.Response, call: _Call, token_source: str | None) -> str:
    when = _reset_time(response)
    line = f"GitHub API rate limit reached while {call.what}"
    if when is not None:
        line += f"; it resets at {when.strftime('%H:%M:%S')} local time"
        if when.date() != datetime.now().astimezone().date():
            line += f" on {when.strftime('%Y-%m-%d')}"
    if token_source is None:
        line += "; set GITHUB_TOKEN (or GH_TOKEN) for a much higher limit"
    return line


def _reset_time(response: httpx.Response) -> datetime | None:
    reset = response.headers.get("x-ratelimit-reset")
    retry_after = response.headers.get("retry-after")
    try:
        if reset is not None:
            return datetime.fromtimestamp(int(reset)).astimezone()
        if retry_after is not None:
            return datetime.now().astimezone() + timedelta(seconds=int(retry_after))
    except (ValueError, OverflowError, OSError):
        return None
    return None
