"""Issue references (``123``, ``#123``, ``owner/repo#123``, issue URLs) and git remotes.

Pure string work plus one ``git remote get-url``: no network, no GitHub client.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import UsageError
from ..gitrepo import run_git

PUBLIC_HOST = "github.com"
PUBLIC_API_URL = "https://api.github.com"

ACCEPTED_FORMS = (
    "123, #123, owner/repo#123, https://github.com/owner/repo/issues/123 "
    "or https://HOST/owner/repo/issues/123 (GitHub Enterprise)"
)

# GitHub logins: letters, digits, single hyphens; repository names also allow . and _.
_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})"
_REPO = r"[A-Za-z0-9._-]{1,100}"
_NUMBER_RE = re.compile(r"#?(?P<number>[0-9]+)")
_SHORT_RE = re.compile(rf"(?P<owner>{_OWNER})/(?P<repo>{_REPO})#(?P<number>[0-9]+)")
_URL_PATH_RE = re.compile(
    rf"/(?P<owner>{_OWNER})/(?P<repo>{_REPO})/(?P<kind>issues|pull|pulls)/(?P<number>[0-9]+)"
    r"(?:/.*)?"
)
# scp-like ssh remote: [user@]host:owner/repo(.git)
_SCP_RE = re.compile(rf"^(?:[^@/]+@)?(?P<host>[^:/]+):/?(?P<owner>{_OWNER})/(?P<repo>{_REPO})/?$")


@dataclass(frozen=True)
class IssueRef:
    """One issue of one repository, and which API serves it (None: the client's default)."""

    owner: str
    repo: str
    number: int
    api_url: str | None = None

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.repo}#{self.number}"

    def __str__(self) -> str:
        return self.slug


def api_url_for_host(host: str) -> str:
    """REST API root of a GitHub host: api.github.com, or ``https://HOST/api/v3`` (Enterprise)."""
    host = host.lower()
    if host in (PUBLIC_HOST, "www.github.com"):
        return PUBLIC_API_URL
    return f"https://{host}/api/v3"


def parse_issue_ref(
    text: str, *, default_repo: tuple[str, str] | None, api_url: str | None = None
) -> IssueRef:
    """Parse what the user typed after ``--issue``.

    ``api_url`` applies to the short forms (the repository's API, when known); an issue
    URL names its own host, so its API is derived from the URL.
    """
    value = text.strip()
    if match := _NUMBER_RE.fullmatch(value):
        number = _positive(match["number"], text)
        if default_repo is None:
            raise UsageError(
                f"cannot tell which repository issue {value} belongs to (no GitHub remote "
                "found); use owner/repo#N or the issue URL"
            )
        owner, repo = default_repo
        return IssueRef(owner, repo, number, api_url)
    if (match := _SHORT_RE.fullmatch(value)) and _valid_repo(_strip_git(match["repo"])):
        return IssueRef(
            match["owner"], _strip_git(match["repo"]), _positive(match["number"], text), api_url
        )
    if value.lower().startswith(("https://", "http://")):
        return _parse_url(value, text)
    raise _bad_ref(text)


def _parse_url(value: str, text: str) -> IssueRef:
    parts = urlsplit(value)
    match = _URL_PATH_RE.fullmatch(parts.path)
    if not parts.hostname or match is None or not _valid_repo(match["repo"]):
        raise _bad_ref(text)
    if match["kind"] != "issues":
        raise UsageError(
            f"{text} is a pull request, not an issue; swc fixes issues ({ACCEPTED_FORMS})"
        )
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    api = api_url_for_host(host)
    if parts.scheme == "http":  # an Enterprise server without TLS (test rigs, intranets)
        api = "http" + api[len("https") :]
    return IssueRef(match["owner"], match["repo"], _positive(match["number"], text), api)


def _positive(digits: str, text: str) -> int:
    number = int(digits)
    if number <= 0:
        raise _bad_ref(text)
    return number


def _bad_ref(text: str) -> UsageError:
    return UsageError(f"not an issue reference: {text!r}; accepted forms: {ACCEPTED_FORMS}")


def _strip_git(repo: str) -> str:
    return repo[: -len(".git")] if repo.endswith(".git") else repo


def _valid_repo(repo: str) -> bool:
    # "." and ".." would walk up the API path
    return bool(re.fullmatch(_REPO, repo)) and repo not in (".", "..")


def parse_remote_url(url: str) -> tuple[str, str, str] | None:
    """``(host, owner, repo)`` of a GitHub-style remote URL, or None for anything else.

    Handles ``https://host/o/r(.git)``, ``ssh://git@host[:port]/o/r.git``,
    ``git@host:o/r.git``; a local path or a bundle gives None.
    """
    url = url.strip()
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
            return None
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) != 2:
            return None
        owner, repo = segments[0], _strip_git(segments[1])
        host = parts.hostname
        if parts.scheme in ("https", "http") and parts.port is not None:
            host = f"{host}:{parts.port}"
    else:
        match = _SCP_RE.match(url)
        # "C:/x/y" is a Windows path, not host "C"
        if match is None or os.path.isabs(url) or len(match["host"]) == 1:
            return None
        host, owner, repo = match["host"], match["owner"], _strip_git(match["repo"])
    if not re.fullmatch(_OWNER, owner) or not _valid_repo(repo):
        return None
    return host.lower(), owner, repo


def repo_from_remote(repo_root: Path, remote: str = "origin") -> tuple[str, str, str] | None:
    """``(host, owner, repo)`` from the URL of ``remote``; None without such a remote."""
    if not Path(repo_root).is_dir():
        return None
    proc = run_git(["remote", "get-url", "--", remote], Path(repo_root), check=False)
    if proc.returncode != 0:
        return None
    return parse_remote_url(proc.stdout)


def resolve_issue_ref(
    text: str,
    repo_root: Path | None,
    *,
    remote: str = "origin",
    environ: Mapping[str, str] | None = None,
) -> IssueRef:
    """``parse_issue_ref`` with the repository inferred from ``remote`` (what ``--issue`` uses).

    For the short forms the API is ``GITHUB_API_URL`` when set (GitHub Actions and
    Enterprise set it), else the API of the remote's host.
    """
    env = os.environ if environ is None else environ
    found = repo_from_remote(repo_root, remote) if repo_root is not None else None
    default_repo = (found[1], found[2]) if found else None
    api_url = env.get("GITHUB_API_URL") or (api_url_for_host(found[0]) if found else None)
    return parse_issue_ref(text, default_repo=default_repo, api_url=api_url)
