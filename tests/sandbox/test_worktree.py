"""Worktrees: the user's repository is never changed, and nothing is left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from swcollab.errors import Terminated, UsageError
from swcollab.gitout import branch_from_patch
from swcollab.sandbox import TestCommand, Worktree, prune_stale_worktrees, run_tests

from .helpers import git, repo_state, write

PROJECT = {
    "calc.py": "def add(a, b):\n    return a - b\n",
    "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n",
    ".gitignore": "*.log\n",
    "docs/readme.txt": "hello\n",
    "old.txt": "to be deleted\n",
}
PYTEST = TestCommand((sys.executable, "-m", "pytest", "-q"), "flag")
REPO_ROOT = Path(__file__).resolve().parents[2]


def make_dirty(root: Path) -> None:
    """Every kind of uncommitted state a user can have, and a stash entry."""
    write(root, {"docs/readme.txt": "stashed edit\n"})
    git(root, "stash", "push", "-q", "-m", "user stash")
    write(root, {"calc.py": "def add(a, b):\n    return a - b  # unstaged edit\n"})
    write(root, {"staged.py": "X = 1\n"})
    git(root, "add", "staged.py")
    write(root, {"docs/readme.txt": "staged then edited\n"})
    git(root, "add", "docs/readme.txt")
    write(root, {"docs/readme.txt": "staged then edited again\n"})
    (root / "old.txt").unlink()  # an unstaged deletion
    write(root, {"notes/untracked.txt": "mine\n", "debug.log": "ignored\n"})


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # a zombie is dead, waiting for its reaper


def wait_until_gone(pid: int, limit: float = 30.0) -> bool:
    deadline = time.monotonic() + limit
    while not pid_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return pid_gone(pid)


def holders(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.name.startswith("swc-"))


def wait_for(path: Path, proc: subprocess.Popen[str], limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"helper process ended early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("helper process never got ready")
        time.sleep(0.05)


ATTEMPT_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from swcollab.sandbox import TestCommand, Worktree, run_tests

    repo, tmp, ready = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    with Worktree(repo, include_dirty=True, temp_dir=tmp) as wt:
        (wt.path / "calc.py").write_text("half-written edit")
        ready.write_text(str(wt.path))
        # a long test run: the signal arrives while it is going on
        run_tests(wt.path, TestCommand(("sleep", "600"), "flag"), timeout=600)
""")


def start_attempt(repo: Path, tmp: Path, ready: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", ATTEMPT_SCRIPT, str(repo), str(tmp), str(ready)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(ready, proc)
    return proc


def test_dirty_repository_is_identical_after_all_kinds_of_attempts(make_repo, wt_tmp, tmp_path):
    repo = make_repo(PROJECT)
    make_dirty(repo)
    before = repo_state(repo)
    assert before["stash"] and before["status"]  # really dirty, really stashed

    # 1. a successful attempt, committed to a branch
    with Worktree(repo, temp_dir=wt_tmp) as wt:
        write(wt.path, {"calc.py": "def add(a, b):\n    return a + b\n"})
        assert run_tests(wt.path, PYTEST, timeout=120).passed
        branch_from_patch(repo, wt.base_sha, wt.diff(), branch="swc/fix-add", message="Fix add")
    # 2. a failing attempt, with the dirty changes carried in
    with Worktree(repo, include_dirty=True, temp_dir=wt_tmp) as wt:
        write(wt.path, {"calc.py": "def add(a, b):\n    return a * b + 1\n"})
        assert not run_tests(wt.path, PYTEST, timeout=120).passed
        wt.reset()
    # 3. an attempt interrupted by Ctrl-C
    with pytest.raises(KeyboardInterrupt), Worktree(repo, temp_dir=wt_tmp) as wt:
        write(wt.path, {"calc.py": "partial"})
        raise KeyboardInterrupt
    # 4. an attempt that raises an error
    with pytest.raises(RuntimeError), Worktree(repo, include_dirty=True, temp_dir=wt_tmp) as wt:
        (wt.path / "calc.py").unlink()
        raise RuntimeError("engine bug")
    # 5. a process terminated (SIGTERM) mid-attempt cleans up after itself
    proc = start_attempt(repo, wt_tmp, tmp_path / "ready-term")
    running = wt_tmp / holders(wt_tmp)[0] / "running.json"
    wait_for(running, proc)
    test_run = json.loads(running.read_text())["pgid"]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "Terminated" in err
    assert holders(wt_tmp) == []
    assert wait_until_gone(test_run), "the test run outlived the terminated swc"
    # 6. a process killed (SIGKILL) mid-attempt: the next run prunes what it left
    proc = start_attempt(repo, wt_tmp, tmp_path / "ready-kill")
    running = wt_tmp / holders(wt_tmp)[0] / "running.json"
    wait_for(running, proc)
    proc.kill()
    proc.wait()
    # the sandboxed test run dies with its swc (bwrap --die-with-parent)...
    orphan = json.loads(running.read_text())["pgid"]
    assert wait_until_gone(orphan), "the sandboxed test run outlived its killed swc"
    # ...and the next run prunes the worktree it left
    assert prune_stale_worktrees(repo, temp_dir=wt_tmp) == 1
    assert holders(wt_tmp) == []
    assert wait_until_gone(orphan), "prune did not kill the test run left by the dead swc"

    assert repo_state(repo) == before
    assert git(repo, "branch", "--list", "swc/*").split() == ["swc/fix-add"]


def test_sigterm_while_active_raises_interrupted_and_restores_handler(make_repo, wt_tmp):
    repo = make_repo(PROJECT)
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), Worktree(repo, temp_dir=wt_tmp) as wt:
        assert wt.path.is_dir()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert not wt.path.exists()
    assert signal.getsignal(signal.SIGTERM) is previous


def test_worktree_is_detached_on_base_and_removed(make_repo, wt_tmp):
    repo = make_repo(PROJECT)
    head = git(repo, "rev-parse", "HEAD").strip()
    with Worktree(repo, temp_dir=wt_tmp) as wt:
        assert wt.base_sha == head
        assert wt.path.parent.name.startswith("swc-")
        assert git(wt.path, "rev-parse", "HEAD").strip() == head
        assert git(wt.path, "symbolic-ref", "-q", "HEAD", check=False) == ""  # detached
        assert (wt.path / "calc.py").read_text() == PROJECT["calc.py"]
        assert wt.warnings == []
        assert str(wt.path) in git(repo, "worktree", "list")
    assert not wt.path.exists()
    assert str(wt.path) not in git(repo, "worktree", "list")
    wt.remove()  # twice is fine


def test_named_worktrees_made_one_after_the_other_share_one_path(make_repo, wt_tmp):
    """What lets Go's build cache (keyed by a package's directory) serve every attempt."""
    repo = make_repo(PROJECT)
    with Worktree(repo, temp_dir=wt_tmp, name="run1-attempt") as first:
        assert first.path.parent == (wt_tmp / "swc-run1-attempt").resolve()
        # taken: a second one at the same time gets a path of its own
        with Worktree(repo, temp_dir=wt_tmp, name="run1-attempt") as second:
            assert second.path != first.path and second.path.parent.name.startswith("swc-")
    with Worktree(repo, temp_dir=wt_tmp, name="run1-attempt") as again:
        assert again.path == first.path and (again.path / "calc.py").is_file()
    assert not first.path.parent.exists()


def test_default_temp_dir_is_the_system_one(make_repo):
    repo = make_repo(PROJECT)
    import tempfile

    with Worktree(repo) as wt:
        assert wt.path.parent.parent == Path(tempfile.gettempdir()).resolve()
        assert (wt.path.parent / "owner.json").is_file()
    assert not wt.path.parent.exists()


def test_base_can_be_an_older_commit(make_repo, wt_tmp):
    repo = make_repo(PROJECT)
    first = git(repo, "rev-parse", "HEAD").strip()
    write(repo, {"calc.py": "changed\n"})
    git(repo, "commit", "-qam", "second")
    with Worktree(repo, base=first, temp_dir=wt_tmp) as wt:
        assert wt.base_sha == first
        assert (wt.path / "calc.py").read_text() == PROJECT["calc.py"]
    with pytest.raises(UsageError, match="not a commit"):
        Worktree(repo, base="no-such-ref", temp_dir=wt_tmp)


def test_dirty_tree_without_option_warns_and_leaves_changes_out(make_repo, wt_tmp):
    repo = make_repo(PROJECT)
    make_dirty(repo)
    with Worktree(repo, temp_dir=wt_tmp) as wt:
        assert len(wt.warnings) == 1
        assert "uncommitted changes" in wt.warnings[0]
        assert "not included" in wt.warnings[0]
        assert "--include-dirty" in wt.warnings[0]
        assert (wt.path / "calc.py").read_text() == PROJECT["calc.py"]
        assert not (wt.path / "staged.py").exists()
        assert not (wt.path / "notes/untracked.txt").exists()


def test_include_dirty_carries_staged_unstaged_and_untracked(make_repo, wt_tmp):
    repo = make_repo(PROJECT)
    make_dirty(repo)
    with Worktree(repo, include_dirty=True, temp_dir=wt_tmp) as wt:
        assert wt.warnings == []
        assert "unstaged edit" in (wt.path / "calc.py").read_text()
        assert (wt.path / "staged.py").read_text() == "X = 1\n"
        assert (wt.path / "docs/readme.txt").read_text() == "staged then edited again\n"
        assert not (wt.path / "old.txt").exists()
        assert (wt.path / "notes/untracked.txt").read_text() == "mine\n"
        assert not (wt.path / "debug.log").exists()  # ignored files stay behind
        # the carried changes are the base: the attempt's own diff starts empty
        assert wt.diff() == "" and wt.changed_files() == []
        write(wt.path, {"calc.py": "new\n"})
        assert wt.changed_files() == ["calc.py"]
        wt.reset()
        assert "unstaged edit" in (wt.path / "calc.py").read_text()


def test_diff_changed_files_and_reset(make_repo, wt_tmp):
    repo = make_repo(PROJECT)
    with Worktree(repo, temp_dir=wt_tmp) as wt:
        write(
            wt.path,
            {
                "calc.py": "def add(a, b):\n    return a + b\n",
                "new/mod.py": "Y = 2\n",
                "run.log": "ignored\n",
                "pkg/__pycache__/x.cpython-311.pyc": "junk",
            },
        )
        (wt.path / "docs/readme.txt").unlink()
        assert wt.changed_files() == ["calc.py", "docs/readme.txt", "new/mod.py"]
        diff = wt.diff()
        assert "+    return a + b" in diff
        assert "new file mode" in diff and "+Y = 2" in diff
        assert "deleted file mode" in diff
        assert "run.log" not in diff and "__pycache__" not in diff
        assert git(wt.path, "status", "--porcelain") != ""  # the worktree's index untouched
        wt.reset()
        assert wt.changed_files() == [] and wt.diff() == ""
        assert not (wt.path / "new").exists() and not (wt.path / "run.log").exists()
        assert (wt.path / "docs/readme.txt").exists()


def test_include_dirty_needs_head_as_base(make_repo, wt_tmp):
    repo = make_repo(PROJECT)
    first = git(repo, "rev-parse", "HEAD").strip()
    write(repo, {"calc.py": "x\n"})
    git(repo, "commit", "-qam", "second")
    write(repo, {"calc.py": "dirty\n"})
    with pytest.raises(UsageError, match="include-dirty"):
        Worktree(repo, base=first, include_dirty=True, temp_dir=wt_tmp)


def test_prune_leaves_live_owners_and_foreign_dirs_alone(make_repo, wt_tmp):
    repo = make_repo(PROJECT)
    (wt_tmp / "swc-not-ours").mkdir()  # no marker: never touched
    with Worktree(repo, temp_dir=wt_tmp) as wt:
        assert prune_stale_worktrees(repo, temp_dir=wt_tmp) == 0
        assert wt.path.is_dir()
    assert (wt_tmp / "swc-not-ours").is_dir()
    (wt_tmp / "swc-not-ours").rmdir()


def test_prune_recognises_a_reused_pid(make_repo, wt_tmp):
    """A marker naming a live pid with another start time is stale (pid reuse)."""
    repo = make_repo(PROJECT)
    wt = Worktree(repo, temp_dir=wt_tmp)
    marker = wt.path.parent / "owner.json"
    data = json.loads(marker.read_text())
    data["start"] = "1"  # our pid, but "started" at another time
    marker.write_text(json.dumps(data))
    assert prune_stale_worktrees(repo, temp_dir=wt_tmp) == 1
    assert not wt.path.exists()
    assert str(wt.path) not in git(repo, "worktree", "list")
    wt.remove()
