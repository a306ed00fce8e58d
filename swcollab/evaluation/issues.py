"""The issue a fix commit names (``Fixes #12``), read through swc's GitHub issue reader.

Only the title and the body are used: comments are often written after the fix (and may
quote it), and the model must not see anything from at or after the fix.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

ISSUE_RE = re.compile(r"(?:^|[\s(])#(?P<number>[0-9]{1,7})\b")
MAX_ISSUE_CHARS = 8000

IssueReader = Callable[[str], str | None]


def issue_numbers(message: str) -> list[int]:
    return list(dict.fromkeys(int(m["number"]) for m in ISSUE_RE.finditer(message)))


def github_issue_reader(root: Path) -> IssueReader:
    """A reader for the ``origin`` remote's GitHub repository; no remote: reads nothing."""
    from ..errors import SwcError
    from ..github import GitHubClient, resolve_issue_ref
    from ..github.untrusted import clip, neutralise

    clients: dict[str | None, GitHubClient] = {}

    def read(message: str) -> str | None:
        numbers = issue_numbers(message)
        if not numbers:
            return None
        try:
            ref = resolve_issue_ref(str(numbers[0]), root)
            client = clients.setdefault(ref.api_url, GitHubClient(ref.api_url))
            issue = client.get_issue(ref)
        except SwcError:
            return None  # not a GitHub repository, no such issue, no network: the message stays
        body = clip(neutralise(issue.body), MAX_ISSUE_CHARS).strip() or "(no description)"
        return f"Issue #{issue.number}: {neutralise(issue.title)}\n\n{body}"

    return read
