"""Disposable worktrees: one detached ``git worktree`` per attempt, in the temp directory.

Layout: ``<tmp>/swc-XXXX/`` holds ``owner.json`` (pid and start time of the process that
made it) and the worktree itself in ``tree/``. The marker is what lets a later run tell
a worktree left by a killed process from one in use by a live one.

The user's working tree, index, branch and stash are only ever read: the dirty state is
snapshotted through a temporary index (see ``gitrepo.stage_tree``) into a commit that no ref
points at, and the worktree is checked out on that.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from types import FrameType, TracebackType

from ..errors import EnvironmentProblem, UsageError
from ..gitrepo import (
    check_worktree_link,
    commit_sha,
    commit_tree,
    git_out,
    run_git,
    stage_tree,
)
from ..interrupts import deferred_interrupts, stop_requested

HOLDER_PREFIX = "swc-"
MARKER_NAME = "owner.json"
TREE_NAME = "tree"
# Written by run_tests while a test command runs in the worktree: the process group to
# kill if swc itself is killed (SIGKILL leaves no chance to do it then).
RUNNING_NAME = "running.json"


class Worktree:
    """A detached worktree of ``repo_root`` on ``base``; a context manager that removes it.

    Created on construction. While one is active (inside ``with``), SIGTERM raises
    ``errors.Interrupted`` in the main thread, so ``__exit__`` runs and removes it.
    ``name``: the holder's name (``swc-<name>``) when it is free, so worktrees made one
    after the other sit at one path: build caches keyed by a package's directory (Go's)
    then serve them all.
    """

    def __init__(
        self,
        repo_root: Path,
        base: str = "HEAD",
        *,
        include_dirty: bool = False,
        temp_dir: Path | None = None,
        name: str | None = None,
    ) -> None:
        self.repo_root = Path(repo_root).resolve()
        self.warnings: list[str] = []
        self._holder: Path | None = None
        self._guarded = False
        self.base_sha, warnings = work_base(self.repo_root, base, include_dirty)
        self.warnings.extend(warnings)
        try:
            # Ctrl-C waits for git: a checkout killed half-way leaves a locked worktree
            # record that neither removal nor pruning clears.
            with deferred_interrupts():
                self._holder = _make_holder(self.repo_root, temp_dir, name)
                self.path = self._holder / TREE_NAME
                run_git(
                    ["worktree", "add", "--detach", "--quiet", str(self.path), self.base_sha],
                    self.repo_root,
                )
        except BaseException:
            self.remove()
            raise

    # -- context manager -------------------------------------------------------------
    def __enter__(self) -> Worktree:
        self._guarded = _SIGTERM_GUARD.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.remove()
        finally:
            if self._guarded:
                self._guarded = False
                _SIGTERM_GUARD.release()

    # -- state of the attempt --------------------------------------------------------
    def diff(self) -> str:
        """Unified diff (binary-safe) of everything changed vs the base, new files included."""
        tree = stage_tree(self.path)
        return run_git(
            ["diff", "--binary", "--no-color", "--no-ext-diff", self.base_sha, tree], self.path
        ).stdout

    def changed_files(self) -> list[str]:
        tree = stage_tree(self.path)
        out = run_git(
            [
                "-c",
                "core.quotepath=off",
                "diff",
                "--name-only",
                "--no-renames",
                "-z",
                self.base_sha,
                tree,
            ],
            self.path,
        ).stdout
        return [name for name in out.split("\0") if name]

    def reset(self) -> None:
        """Back to the base state: changes discarded, untracked and ignored files removed."""
        check_worktree_link(self.path)
        run_git(["reset", "--hard", "--quiet", self.base_sha], self.path)
        run_git(["clean", "-ffdxq"], self.path)

    def remove(self) -> None:
        """Remove the worktree and its directory; safe to call twice.

        Ctrl-C waits until it is done: a removal cut short would leave the worktree and
        its holder directory behind while the run reports them removed.
        """
        with deferred_interrupts():
            self._remove()

    def _remove(self) -> None:
        holder, self._holder = self._holder, None
        if holder is None:
            return
        tree = holder / TREE_NAME
        if tree.exists():
            done = run_git(
                ["worktree", "remove", "--force", "--force", str(tree)], self.repo_root, check=False
            )
            if done.returncode != 0:
                shutil.rmtree(tree, ignore_errors=True)
                run_git(["worktree", "prune"], self.repo_root, check=False)
        # The marker goes last: a holder without its tree but with a marker is still
        # recognised (and finished off) by prune_stale_worktrees.
        (holder / MARKER_NAME).unlink(missing_ok=True)
        shutil.rmtree(holder, ignore_errors=True)


def work_base(repo_root: Path, base: str, include_dirty: bool) -> tuple[str, list[str]]:
    """The commit an attempt starts from, and warnings for the user.

    ``base`` as committed; with ``include_dirty``, a snapshot commit (on no ref) of HEAD
    plus the uncommitted changes. The same base gives the same tree every time, so a
    branch made later from a diff lands on what the attempt saw.
    """
    sha = commit_sha(repo_root, base)
    if sha is None:
        raise UsageError(
            f"base {base!r} is not a commit of {repo_root}",
            hint="A repository needs at least one commit for swc to work on.",
        )
    dirty = _dirty_paths(repo_root)
    if not dirty:
        return sha, []
    if not include_dirty:
        return sha, [
            f"your uncommitted changes ({len(dirty)} file{'s' if len(dirty) != 1 else ''}) "
            f"are not included: swc works on {base} as committed ({sha[:10]}); "
            "pass --include-dirty to carry them into the attempt"
        ]
    head = git_out(["rev-parse", "--verify", "HEAD^{commit}"], repo_root)
    if head != sha:
        raise UsageError(
            "--include-dirty needs the base to be HEAD, where your "
            f"uncommitted changes belong (base was {base!r})"
        )
    return _snapshot_dirty(repo_root, head), []


# swc's own files at the top of the checkout (its configuration, its directory): never
# "your uncommitted changes", and never carried into an attempt by --include-dirty.
SWC_OWN_PATHS = (".swc.toml", ".swc")


def _dirty_paths(repo_root: Path) -> list[str]:
    """Paths with uncommitted changes, untracked (not ignored) files included."""
    own = [f":(top,exclude,literal){p}" for p in SWC_OWN_PATHS]
    out = run_git(
        [
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=normal",
            "--ignore-submodules=dirty",
            "--",
            ":/",
            *own,
        ],
        repo_root,
    ).stdout
    return [entry[3:] for entry in out.split("\0") if len(entry) > 3 and entry[2] == " "]


def _snapshot_dirty(repo_root: Path, head: str) -> str:
    """A commit (on no ref) of the working tree as it is: HEAD plus uncommitted changes."""
    tree = stage_tree(repo_root, exclude=SWC_OWN_PATHS)
    return commit_tree(
        repo_root,
        tree,
        head,
        "swc: uncommitted changes carried from the working tree (--include-dirty)",
    )


# -- holders, markers and pruning ------------------------------------------------------
def _process_start(pid: int) -> str | None:
    """Start time of ``pid`` in clock ticks (Linux), to tell a reused pid from the owner."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def _process_alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True
    if state in ("Z", "X"):
        return False
    return start is None or _process_start(pid) in (None, start)


def _make_holder(repo_root: Path, temp_dir: Path | None, name: str | None = None) -> Path:
    """A new holder directory (only this user's): named ``name`` when that is free."""
    holder = None
    if name is not None:
        wanted = Path(temp_dir or tempfile.gettempdir()) / f"{HOLDER_PREFIX}{name}"
        with contextlib.suppress(OSError):
            os.mkdir(wanted, 0o700)  # fails when it exists: then a name of mkdtemp's
            holder = wanted.resolve()
    if holder is None:
        holder = Path(tempfile.mkdtemp(prefix=HOLDER_PREFIX, dir=temp_dir)).resolve()
    marker = {"pid": os.getpid(), "start": _process_start(os.getpid()), "repo": str(repo_root)}
    (holder / MARKER_NAME).write_text(json.dumps(marker), encoding="utf-8")
    return holder


def holder_of(root: Path) -> Path | None:
    """The swc holder directory of a worktree path, or None if ``root`` is not one."""
    root = Path(root)
    if root.name == TREE_NAME and (root.parent / MARKER_NAME).is_file():
        return root.parent
    return None


def record_running_group(holder: Path, pgid: int) -> None:
    record = {"pgid": pgid, "start": _process_start(pgid)}
    (holder / RUNNING_NAME).write_text(json.dumps(record), encoding="utf-8")


def _kill_recorded_group(holder: Path) -> None:
    """Kill the test run a dead swc left behind, if it is still the same process group.

    While any member of a group lives, its id cannot be reused; so when the leader is
    gone the group is killed as is, and when a process with that pid exists it must have
    the recorded start time (otherwise the id was reused and nothing is killed).
    """
    try:
        record = json.loads((holder / RUNNING_NAME).read_text(encoding="utf-8"))
        pgid = int(record["pgid"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    current = _process_start(pgid)
    if pgid <= 1 or (current is not None and current != record.get("start")):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _stale(holder: Path) -> bool:
    try:
        marker = json.loads((holder / MARKER_NAME).read_text(encoding="utf-8"))
        pid = int(marker["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False  # not ours, or being created right now: leave it alone
    return not _process_alive(pid, marker.get("start"))


def prune_stale_worktrees(repo_root: Path, temp_dir: Path | None = None) -> int:
    """Remove worktrees left by swc processes that died; returns how many of this repo.

    Every ``swc-*`` holder in the temp directory whose owner is dead is deleted (whatever
    repository it belonged to), then ``git worktree prune`` drops this repository's
    records of worktrees whose directory is gone.
    """
    top = Path(temp_dir) if temp_dir is not None else Path(tempfile.gettempdir())
    try:
        candidates = [p for p in top.iterdir() if p.name.startswith(HOLDER_PREFIX) and p.is_dir()]
    except OSError as exc:
        raise EnvironmentProblem(f"cannot list {top}: {exc.strerror}") from None
    for holder in candidates:
        if _stale(holder):
            _kill_recorded_group(holder)
            shutil.rmtree(holder / TREE_NAME, ignore_errors=True)
            (holder / MARKER_NAME).unlink(missing_ok=True)
            shutil.rmtree(holder, ignore_errors=True)
    out = run_git(["worktree", "prune", "--verbose"], Path(repo_root), check=False)
    return sum(1 for line in (out.stdout + out.stderr).splitlines() if line.strip())


# -- SIGTERM while a worktree is active --------------------------------------------------
class _SigtermGuard:
    """Makes SIGTERM raise ``Terminated`` (a KeyboardInterrupt) while a worktree is active.

    Signal handlers are process-wide by nature, so this one object counts the active
    worktrees and restores the previous handler when the last one ends. Outside the main
    thread handlers cannot be set; cleanup then relies on ``prune_stale_worktrees``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._previous: object = None

    def acquire(self) -> bool:
        if threading.current_thread() is not threading.main_thread():
            return False
        with self._lock:
            if self._active == 0:
                self._previous = signal.signal(signal.SIGTERM, _raise_interrupted)
            self._active += 1
        return True

    def release(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0:
                previous = self._previous if self._previous is not None else signal.SIG_DFL
                signal.signal(signal.SIGTERM, previous)  # type: ignore[arg-type]
                self._previous = None


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    stop_requested(signum, frame)  # noted, so a swallowed raise still stops the command


_SIGTERM_GUARD = _SigtermGuard()
