"""The branch: the last step of a run, made in one step once every worktree is gone.

Until then the accepted change is a commit on no ref (``PendingBranch``). An interrupt
before the branch leaves nothing behind; the branch and the record that it exists are
made together, so an interrupt after it reports the branch. When no branch can be made,
the accepted diff is saved under ``.git/swc/patches/`` and the run says where: a fix
that was paid for is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import SwcError
from .types import Event, EventSink


@dataclass(frozen=True)
class PendingBranch:
    """The accepted change as a commit on no ref yet."""

    branch: str
    commit: str | None  # None when even the commit could not be made
    diff: str = ""  # what the commit would have held, when it could not be made
    problem: str = ""  # why the commit could not be made
    winner_diff: str = ""  # the accepted attempt's own diff (without the tests)


@dataclass(frozen=True)
class BranchOutcome:
    """Where the accepted change ended up: on ``branch``, or saved in ``patch_path``."""

    branch: str | None
    warnings: tuple[str, ...] = ()
    patch_path: str | None = None  # the saved diff, when no branch could hold it
    saved_diff: str = ""
    error: str | None = None  # why there is no branch, and how to apply the saved diff


def make_branch(
    pending: PendingBranch,
    *,
    repo_root: Path,
    state_dir: Path,
    run_id: str,
    base_sha: str,
    on_event: EventSink,
) -> BranchOutcome:
    """Point the branch at the pending commit; a name git refuses (say, a branch ``swc``
    blocks ``swc/x``) falls back to ``swc-...``; failing that, save the patch.

    Call it inside ``deferred_interrupts`` and keep what it returns before the block
    ends (announce it before: the block holds Ctrl-C back): an interrupt must find the
    branch recorded once it exists."""
    from ..gitout import commit_diff, create_branch

    problem = pending.problem
    warnings: list[str] = []
    if pending.commit is not None:
        for name in dict.fromkeys([pending.branch, pending.branch.replace("/", "-", 1)]):
            try:
                branch = create_branch(repo_root, name, pending.commit)
            except SwcError as exc:
                problem = exc.message
                warnings.append(f"branch {name} could not be made ({problem})")
                continue
            on_event(Event("branch", f"branch {branch} holds the fix"))
            return BranchOutcome(branch, tuple(warnings))
    diff = pending.diff
    if pending.commit is not None:
        try:
            diff = commit_diff(repo_root, pending.commit)
        except SwcError:  # git is the trouble: the patch without its tests
            diff = pending.winner_diff
    saved = save_patch(
        pending.branch, diff, state_dir=state_dir, run_id=run_id, base_sha=base_sha, problem=problem
    )
    return replace(saved, warnings=tuple(warnings))


def save_patch(
    branch: str, diff: str, *, state_dir: Path, run_id: str, base_sha: str, problem: str
) -> BranchOutcome:
    """Keep the accepted diff in ``.git/swc/patches/<run>.diff`` and in the report."""
    folder = state_dir / "patches"
    path = folder / f"{run_id}.diff"
    patch_path = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(diff, encoding="utf-8", errors="replace")
        patch_path = str(path)
        where = f"it is saved in {path}"
    except OSError as exc:
        where = f"saving it in {path} failed too ({exc.strerror}); the report holds it"
    error = (
        f"the accepted fix could not be put on a branch ({problem}); {where}. "
        f"Apply it with: git switch -c {branch} {base_sha[:12]} && "
        f"git apply {path}"
    )
    return BranchOutcome(None, patch_path=patch_path, saved_diff=diff, error=error)
