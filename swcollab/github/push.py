"""Pushing a branch swc made, without ever forcing it, through the one git module."""

from __future__ import annotations

import base64
import shlex
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import EnvironmentProblem
from ..gitrepo import run_git

PUSH_TIMEOUT = 300.0
# The variable holding a token for the push alone (the GitHub Action sets it).
PUSH_TOKEN_VAR = "SWC_PUSH_TOKEN"


class PushFailed(EnvironmentProblem):
    """The push did not happen; the branch is still there locally."""

    def __init__(self, message: str, *, branch: str, remote: str, command: str) -> None:
        super().__init__(message)
        self.branch = branch
        self.remote = remote
        self.command = command


def push_command(branch: str, remote: str = "origin") -> list[str]:
    """The arguments of ``git``: a full refspec pushes exactly this branch to the branch
    of the same name, and without "+" or --force git refuses anything but a fast-forward."""
    return ["push", remote, f"refs/heads/{branch}:refs/heads/{branch}"]


def token_env(repo_root: Path, remote: str, token: str | None) -> dict[str, str]:
    """Git configuration in the environment that authenticates an HTTPS push with
    ``token`` (as actions/checkout does, but never written to ``.git/config``), replacing
    any header configured for that host. Empty without a token or for an SSH remote."""
    if not token:
        return {}
    url = run_git(
        ["remote", "get-url", "--push", "--", remote], repo_root, check=False
    ).stdout.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return {}
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    key = f"http.{parts.scheme}://{host}/.extraheader"
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": key,
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": key,
        "GIT_CONFIG_VALUE_1": f"AUTHORIZATION: basic {basic}",
    }


def push_branch(
    repo_root: Path,
    branch: str,
    remote: str = "origin",
    *,
    timeout: float = PUSH_TIMEOUT,
    token: str | None = None,
) -> None:
    """``git push REMOTE refs/heads/B:refs/heads/B``; raises ``PushFailed`` (exit 3).

    Hooks do not run (the git module turns them off), git never prompts for a password,
    and ``token``, when given, authenticates an HTTPS push for this command only.
    """
    manual = "git push " + shlex.join([remote, branch])  # for the user to run by hand
    try:
        env = token_env(repo_root, remote, token)
        proc = run_git(
            push_command(branch, remote), repo_root, env=env, check=False, timeout=timeout
        )
        reason = _reason(proc.stderr) if proc.returncode != 0 else None
    except subprocess.TimeoutExpired:
        reason = f"no answer from {remote} within {timeout:g}s"
    except EnvironmentProblem as exc:
        reason = exc.message
    if reason is None:
        return
    message = (
        f"could not push branch {branch} to {remote} ({reason}); the branch is kept "
        f"locally; push it by hand with: {manual}"
    )
    if "[rejected]" in reason:
        # The remote has another branch of that name: swc never overwrites it.
        other = "git push " + shlex.join([remote, f"{branch}:{branch}-2"])
        message += f" (or under another name: {other})"
    raise PushFailed(message, branch=branch, remote=remote, command=manual)


def _reason(stderr: str) -> str:
    """The line of git's output that says why (rejected / fatal / error), else the last."""
    lines = [" ".join(line.split()) for line in stderr.splitlines() if line.strip()]
    for marker in ("! [rejected]", "! [remote rejected]", "fatal:", "error:"):
        for line in lines:
            if line.startswith(marker):
                return line
    return lines[-1] if lines else "git push failed"
