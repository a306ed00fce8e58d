"""Finding where swc may make a run's cgroup, and what it writes there, on a cgroup v2
tree laid out in a temporary directory (this machine's own cgroups are exercised by
tests/sandbox/test_limits.py; the kernel's v2 files cannot be mounted here when v1 holds
the controllers, so their names and values are checked as text, like the macOS profile).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from swcollab.sandbox import cgroups
from swcollab.sandbox.cgroups import CgroupPlace, RunCgroup, _in_mount, _mounts, _own_paths

MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 /docker/abc /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
"""
PROC_CGROUP = """\
8:pids:/docker/abc/inner
4:memory:/user.slice
0::/user.slice/user-1000.slice/user@1000.service/app.slice/vte.scope
"""


def test_mounts_and_own_cgroups_are_read():
    mounts = _mounts(MOUNTINFO)
    assert [(root, str(point), kind) for root, point, kind, _ in mounts] == [
        ("/", "/sys/fs/cgroup/memory", "cgroup"),
        ("/docker/abc", "/sys/fs/cgroup/pids", "cgroup"),
        ("/", "/sys/fs/cgroup/unified", "cgroup2"),
    ]
    assert "pids" in mounts[1][3]
    own = _own_paths(PROC_CGROUP)
    assert own["pids"] == "/docker/abc/inner" and own["memory"] == "/user.slice"
    assert own[""].endswith("/app.slice/vte.scope")
    # a mount of a sub-hierarchy (a container's view) maps the cgroup below its root
    assert _in_mount("/docker/abc", Path("/m"), "/docker/abc/inner") == Path("/m/inner")
    assert _in_mount("/docker/abc", Path("/m"), "/elsewhere") is None
    assert _in_mount("/", Path("/m"), "/") == Path("/m")


def v2_tree(top: Path, enabled: dict[str, str]) -> None:
    """Directories with a ``cgroup.subtree_control`` each (relative path -> its text)."""
    for rel, controllers in enabled.items():
        (top / rel).mkdir(parents=True, exist_ok=True)
        (top / rel / "cgroup.subtree_control").write_text(controllers)


@pytest.fixture
def joinable(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Trying a cgroup: a plain directory can be made but not joined; say it can."""
    tried: list[Path] = []
    monkeypatch.setattr(cgroups, "_usable", lambda parent: tried.append(parent) or True)
    return tried


def test_v2_the_nearest_delegated_ancestor_with_memory_and_pids_is_chosen(tmp_path, joinable):
    v2_tree(
        tmp_path,
        {
            "": "cpu memory pids",
            "user.slice": "memory pids",
            "user.slice/app.slice": "memory pids",
            "user.slice/app.slice/vte.scope": "",
        },
    )
    chosen = cgroups._v2_parent(tmp_path, "/", "/user.slice/app.slice/vte.scope")
    # never swc's own cgroup (it holds processes), its parent first
    assert chosen == tmp_path / "user.slice" / "app.slice"


def test_v2_a_parent_without_both_controllers_is_passed_over(tmp_path, joinable):
    v2_tree(tmp_path, {"": "memory pids", "a": "memory", "a/b": ""})
    assert cgroups._v2_parent(tmp_path, "/", "/a/b") == tmp_path
    # swc in the hierarchy's root: the root itself (no rule against its processes)
    assert cgroups._v2_parent(tmp_path, "/", "/") == tmp_path
    v2_tree(tmp_path, {"": "cpu"})
    assert cgroups._v2_parent(tmp_path, "/", "/a/b") is None


@pytest.fixture
def fake_procs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel makes ``cgroup.procs`` in a new cgroup: here, opening it makes it."""
    real_open = os.open

    def open_creating(path, flags, *args):
        if str(path).startswith(str(tmp_path)):
            flags |= os.O_CREAT
        return real_open(path, flags, *args)

    monkeypatch.setattr(cgroups.os, "open", open_creating)


def test_v2_run_cgroup_gets_the_limits_and_reports_the_kernels_counts(tmp_path, fake_procs):
    place = CgroupPlace(2, tmp_path, tmp_path)
    with RunCgroup(place, 256 << 20, 64) as run:
        (directory,) = set(run.dirs.values())
        assert (directory / "memory.max").read_text() == str(256 << 20)
        assert (directory / "memory.swap.max").read_text() == "0"
        assert (directory / "memory.oom.group").read_text() == "1"
        assert (directory / "pids.max").read_text() == "64"
        assert len(run.join_fds) == 1  # one cgroup for both controllers
        assert not run.memory_hit() and not run.processes_hit()
        (directory / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n")
        (directory / "pids.events").write_text("max 3\n")
        assert run.memory_hit() and run.processes_hit()


def test_v1_run_cgroups_are_one_per_controller(tmp_path, fake_procs):
    memory, pids = tmp_path / "memory", tmp_path / "pids"
    memory.mkdir()
    pids.mkdir()
    with RunCgroup(CgroupPlace(1, memory, pids), 1 << 30, 0) as run:
        assert run.bounds("memory") and not run.bounds("pids")  # 0: no process limit
        (directory,) = run.dirs.values()
        assert directory.parent == memory
        assert (directory / "memory.limit_in_bytes").read_text() == str(1 << 30)
        (directory / "memory.oom_control").write_text("oom_kill_disable 0\noom_kill 2\n")
        assert run.memory_hit()
