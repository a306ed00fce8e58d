"""Steps that must not be cut in half wait for Ctrl-C to take effect until they are done."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from swcollab.errors import Terminated
from swcollab.interrupts import checkpoint, deferred_interrupts, watching_interrupts


def test_a_signal_inside_the_block_arrives_after_it():
    done = []
    with pytest.raises(KeyboardInterrupt), deferred_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        done.append("finished")
    assert done == ["finished"]


def test_a_signal_another_thread_receives_also_waits():
    """The kernel may hand a signal blocked in the main thread to any other thread (litellm
    starts some): it must still not interrupt the block."""
    import threading

    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    helper.start()  # started before the block: SIGINT is not blocked in it
    done = []
    try:
        with pytest.raises(KeyboardInterrupt), deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(50):
                time.sleep(0.002)  # bytecode boundaries where Python runs handlers
            done.append("finished")
    finally:
        stop.set()
    assert done == ["finished"]


def test_sigterm_waits_too_and_then_does_what_it_would_have():
    seen = []
    previous = signal.signal(signal.SIGTERM, lambda signum, _f: seen.append(signum))
    try:
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.02)
            assert seen == []
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, previous)


def _repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "a@b"],
        ["config", "user.name", "A"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    (root / "f.txt").write_text("x\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "one"], cwd=root, check=True)
    return root


@pytest.mark.parametrize("during", ["create", "remove"])
def test_ctrl_c_during_a_worktree_step_leaves_nothing(tmp_path, monkeypatch, during):
    """The issue: Ctrl-C while a worktree was being removed left it and its holder."""
    import swcollab.sandbox.worktree as worktree_mod

    root = _repo(tmp_path)
    temp = tmp_path / "tmp"
    temp.mkdir()
    real = worktree_mod.run_git

    def interrupted_git(args, cwd, **kwargs):  # Ctrl-C lands while git works
        if args[:2] == ["worktree", "add" if during == "create" else "remove"]:
            os.kill(os.getpid(), signal.SIGINT)
        return real(args, cwd, **kwargs)

    monkeypatch.setattr(worktree_mod, "run_git", interrupted_git)
    with pytest.raises(KeyboardInterrupt), worktree_mod.Worktree(root, "HEAD", temp_dir=temp):
        time.sleep(0.05)
    assert [p.name for p in temp.iterdir()] == []
    listed = subprocess.run(
        ["git", "worktree", "list", "--porcelain"],
        cwd=root,
        text=True,
        capture_output=True,
        check=True,
    ).stdout
    assert listed.count("worktree ") == 1


def _swallowed(signum: int = signal.SIGINT) -> None:
    """A stop signal whose raise a finalizer or a library's broad ``except`` ate."""
    try:
        os.kill(os.getpid(), signum)
        for _ in range(50):
            time.sleep(0.002)  # bytecode boundaries where Python runs handlers
    except KeyboardInterrupt:
        return
    raise AssertionError("the signal did not raise")


def test_a_swallowed_ctrl_c_stops_at_the_next_checkpoint():
    steps = []
    with pytest.raises(KeyboardInterrupt), watching_interrupts():
        checkpoint()  # nothing asked yet: goes on
        steps.append("before")
        _swallowed()
        steps.append("after the swallowed raise")  # what used to go on to the end
        checkpoint()
        steps.append("never")
    assert steps == ["before", "after the swallowed raise"]
    checkpoint()  # the request ended with the command: the next one starts clean


def test_a_swallowed_stop_ends_the_command_even_without_a_checkpoint():
    with pytest.raises(Terminated), watching_interrupts():
        _swallowed(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_checkpoint_lets_a_deferred_block_finish():
    done = []
    with pytest.raises(KeyboardInterrupt), watching_interrupts():
        _swallowed()
        with deferred_interrupts():
            checkpoint()  # the block is atomic: it is not cut here
            done.append("block finished")
    assert done == ["block finished"]


def test_a_checkpoint_in_a_worker_thread_stops_it_too():
    import threading

    seen: list[BaseException] = []

    def work() -> None:
        try:
            checkpoint()
        except KeyboardInterrupt as exc:
            seen.append(exc)

    with pytest.raises(KeyboardInterrupt), watching_interrupts():
        _swallowed()
        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("body", "code", "stderr"),
    [
        ("pass", 0, ""),
        ("sys.exit(3)", 3, ""),
        ("sys.exit('bad input')", 1, "bad input"),
        ("raise KeyboardInterrupt", 130, "interrupted"),
    ],
)
def test_swc_ends_with_the_commands_code_after_the_exit_handlers(body, code, stderr):
    """``run_to_exit`` (swc's entry) skips the interpreter's teardown, not what matters:
    exit handlers (they stop local model servers), buffered output, the exit code."""
    import sys

    program = (
        "import atexit, sys\n"
        "from swcollab.interrupts import run_to_exit\n"
        "atexit.register(lambda: print('exit handler ran'))\n"
        "def main():\n"
        "    sys.stdout.write('buffered, not flushed\\n')\n"
        f"    {body}\n"
        "run_to_exit(main)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == code
    assert done.stdout.splitlines() == ["buffered, not flushed", "exit handler ran"]
    assert done.stderr.strip() == stderr
