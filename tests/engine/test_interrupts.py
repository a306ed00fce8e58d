"""Ctrl-C at every stage boundary of a real ``swc fix`` process: atomic at the branch.

The run is paused at one stage (``SWC_TEST_PAUSE_AT``, read only by the test seam in
``swcollab/interrupts.py``) and gets SIGINT or SIGTERM there. Before the branch exists,
nothing may be left: no branch, no worktree, no holder directory. After it, the branch
is reported.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.conftest import git
from engine.test_fix import PROMPT, branches, ops_on, worktrees

BEFORE_BRANCH = [
    "plan",
    "context",
    "baseline",
    "tests#1",
    "tests#2",
    "draft",
    "test",
    "attempt",
    "commit",
]


def start(project: Path, tmp_path: Path, stage: str) -> tuple[subprocess.Popen, Path, Path]:
    temp = tmp_path / "tmp"
    temp.mkdir()
    marker = tmp_path / "paused"
    env = {
        **os.environ,
        "TMPDIR": str(temp),
        "SWC_TEST_PAUSE_AT": stage,
        "SWC_TEST_PAUSE_FILE": str(marker),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "swcollab", "--repo", str(project), "fix", "--prompt", PROMPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, marker, temp


def wait_for(proc: subprocess.Popen, marker: Path) -> None:
    deadline = time.monotonic() + 90
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"swc ended before the pause: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("swc never reached the pause")
        time.sleep(0.02)


def interrupt(project, tmp_path, stage, signum=signal.SIGINT) -> tuple[int, str, Path]:
    proc, marker, temp = start(project, tmp_path, stage)
    wait_for(proc, marker)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=90)
    assert "Traceback" not in out + err, err
    return proc.returncode, err, temp


def holders(temp: Path) -> list[str]:
    return [p.name for p in temp.iterdir() if p.name.startswith("swc-")]


@pytest.mark.parametrize("stage", BEFORE_BRANCH)
def test_interrupt_before_the_branch_leaves_nothing(project, models, tmp_path, stage):
    models()
    code, err, temp = interrupt(project, tmp_path, stage)
    assert code == 130, err
    assert "no branch was made" in err
    assert not [b for b in branches(project) if b != "main"]
    assert len(worktrees(project)) == 1
    assert holders(temp) == []
    assert "return a - b" in (project / "calc" / "ops.py").read_text()


@pytest.mark.parametrize("stage", ["attempt", "commit"])
def test_sigterm_before_the_branch_leaves_nothing(project, models, tmp_path, stage):
    models()
    code, err, temp = interrupt(project, tmp_path, stage, signal.SIGTERM)
    assert code == 130, err
    assert not [b for b in branches(project) if b != "main"]
    assert len(worktrees(project)) == 1 and holders(temp) == []


def test_interrupt_after_the_branch_reports_it(project, models, tmp_path):
    models()
    code, err, temp = interrupt(project, tmp_path, "branch")
    made = [b for b in branches(project) if b != "main"]
    assert len(made) == 1
    assert code == 130, err
    assert made[0] in err and "holds it" in err
    assert "return a + b" in ops_on(project, made[0])
    assert len(worktrees(project)) == 1 and holders(temp) == []
    runs = git(project, "log", "-1", "--format=%s", made[0])
    assert runs.startswith("Fix:")


def test_a_run_left_alone_finishes_with_its_branch(project, models, tmp_path):
    """The seam pauses only where asked: paused at a stage that never comes, it just runs."""
    models()
    proc, _marker, temp = start(project, tmp_path, "no-such-stage")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "branch: swc/" in out
    assert holders(temp) == []
