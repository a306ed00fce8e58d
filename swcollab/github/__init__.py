"""GitHub: issue references, the REST client, untrusted issue text, pushing branches.

Light to import: httpx is loaded by the client on its first request.
"""

from __future__ import annotations

from .client import Comment, GitHubClient, Issue
from .push import PushFailed, push_branch, push_command
from .refs import (
    ACCEPTED_FORMS,
    IssueRef,
    api_url_for_host,
    parse_issue_ref,
    parse_remote_url,
    repo_from_remote,
    resolve_issue_ref,
)
from .untrusted import issue_task_text

__all__ = [
    "ACCEPTED_FORMS",
    "Comment",
    "GitHubClient",
    "Issue",
    "IssueRef",
    "PushFailed",
    "api_url_for_host",
    "issue_task_text",
    "parse_issue_ref",
    "parse_remote_url",
    "push_branch",
    "push_command",
    "repo_from_remote",
    "resolve_issue_ref",
]
