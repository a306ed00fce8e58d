"""Pushing a branch swc made, without ever forcing it."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from ..errors import EnvironmentProblem

PUSH_TIMEOUT = 300.0


class PushFailed(EnvironmentProblem):
    """The push did not happen; the branch is still there locally."""

    def __init__(self, message: str, *, branch: str, remote: str, command: str) -> None:
        super().__init__(message)
        self.branch = branch
        self.remote = remote
        self.command = command


def push_command(branch: str, remote: str = "origin") -> list[str]:
    # A full refspec: pushes exactly this branch to the branch of the same name, and
    # without "+" or --force git refuses anything but a fast-forward.
    return ["git", "push", remote, f"refs/heads/{branch}:refs/heads/{branch}"]


def push_branch(repo_root: Path, branch: str, remote: str = "origin",
                *, timeout: float = PUSH_TIMEOUT) -> None:
    """``git push REMOTE refs/heads/B:refs/heads/B``; raises ``PushFailed`` (exit 3)."""
    argv = push_command(branch, remote)
    manual = shlex.join(["git", "push", remote, branch])
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")  # fail instead of asking for a password
    try:
        proc = subprocess.run(argv, cwd=repo_root, capture_output=True, text=True,
                              errors="replace", env=env, timeout=timeout, stdin=subprocess.DEVNULL)
        reason = _reason(proc.stderr) if proc.returncode != 0 else None
    except subprocess.TimeoutExpired:
        reason = f"no answer from {remote} within {timeout:g}s"
    except FileNotFoundError:
        reason = "git is not installed or not on PATH"
    if reason is None:
        return
    message = (f"could not push branch {branch} to {remote} ({reason}); the branch is kept "
               f"locally; push it by hand with: {manual}")
    if "[rejected]" in reason:
        # The remote has another branch of that name: swc never overwrites it.
        other = shlex.join(["git", "push", remote, f"{branch}:{branch}-2"])
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
