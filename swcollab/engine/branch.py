"""The branch: the last step of a run, made in one step once every worktree is gone.

Until then the accepted change is a commit on no ref (``PendingBranch``). An interrupt
before the branch leaves nothing behind; the branch and the record that it exists are
made together, so an interrupt after it reports the branch. When no branch can be made,
the accepted diff is saved under ``.git/swc/patches/`` and the run says where: a fix
that was paid for is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import SwcError
from ..interrupts import deferred_interrupts
from .types import Event, EventSink, RunResult


@dataclass(frozen=True)
class PendingBranch:
    """The accepted change as a commit on no ref yet."""

    branch: str
    commit: str | None  # None when even the commit could not be made
    diff: str = ""  # what the commit would have held, when it could not be made
    problem: str = ""  # why the commit could not be made


def make_branch(
    pending: PendingBranch,
    *,
    repo_root: Path,
    state_dir: Path,
    result: RunResult,
    on_event: EventSink,
) -> None:
    """Point the branch at the pending commit; a name git refuses (say, a branch ``swc``
    blocks ``swc/x``) falls back to ``swc-...``; failing that, save the patch."""
    from ..gitout import commit_diff, create_branch

    on_event(Event("commit", f"creating branch {pending.branch}"))
    with deferred_interrupts():
        problem = pending.problem
        if pending.commit is not None:
            for name in dict.fromkeys([pending.branch, pending.branch.replace("/", "-", 1)]):
                try:
                    result.branch = create_branch(repo_root, name, pending.commit)
                except SwcError as exc:
                    problem = exc.message
                    result.warnings.append(f"branch {name} could not be made ({problem})")
                    continue
                break
        if result.branch is None:
            diff = pending.diff
            if pending.commit is not None:
                try:
                    diff = commit_diff(repo_root, pending.commit)
                except SwcError:  # git is the trouble: the patch without its tests
                    diff = result.winner.diff if result.winner else ""
            save_patch(pending.branch, diff, state_dir=state_dir, result=result, problem=problem)
    if result.branch:
        on_event(Event("branch", f"branch {result.branch} holds the fix"))


def save_patch(branch: str, diff: str, *, state_dir: Path, result: RunResult, problem: str) -> None:
    """Keep the accepted diff in ``.git/swc/patches/<run>.diff`` and in the report."""
    folder = state_dir / "patches"
    path = folder / f"{result.run_id}.diff"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(diff, encoding="utf-8", errors="replace")
        result.patch_path = str(path)
        where = f"it is saved in {path}"
    except OSError as exc:
        where = f"saving it in {path} failed too ({exc.strerror}); the report holds it"
    result.saved_diff = diff
    base = result.base_sha[:12]
    result.error = (
        f"the accepted fix could not be put on a branch ({problem}); {where}. "
        f"Apply it with: git switch -c {branch} {base} && "
        f"git apply {path}"
    )
