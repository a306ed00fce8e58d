"""A cgroup of each test run's own, where swc may make one: the kernel then bounds and
counts the whole run's memory (tmpfs pages and kernel memory included) and its number of
processes and threads, and says afterwards whether a limit was hit.

Where: next to swc's own cgroup, never changing the machine's cgroup setup.

- cgroup v2: the nearest cgroup, from swc's own up, that swc may write and whose
  ``cgroup.subtree_control`` already has ``memory`` and ``pids`` (a delegated subtree,
  such as a systemd user manager's ``app.slice``; any cgroup for root). swc's own cgroup
  qualifies only as the hierarchy's root: any other one holding processes cannot have
  child cgroups with controllers (the kernel's "no internal processes" rule).
- cgroup v1: a child of swc's own cgroup in the ``memory`` and ``pids`` hierarchies, when
  swc may write there (usually root only).

A run's cgroup is ``swc-<pid>-<n>``; the test process joins it before it runs anything
(``preexec``), so nothing it starts escapes it. After the run, leftovers are killed and
the cgroup removed; ones left by a swc that was killed are removed by the next swc.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

MEMORY = "memory"
PIDS = "pids"
_NAME = re.compile(r"^swc-(\d+)-\d+$")
_RUNS = itertools.count(1)
_EMPTY_WAIT = 5.0  # seconds to wait for a run's cgroup to empty before removing it


@dataclass(frozen=True)
class CgroupPlace:
    """Where this process makes its runs' cgroups, per controller (None: not possible)."""

    version: int
    memory: Path | None = None
    pids: Path | None = None

    def parent(self, controller: str) -> Path | None:
        return self.memory if controller == MEMORY else self.pids

    def describe(self, controller: str) -> str:
        return f"cgroup v{self.version} ({self.parent(controller)})"


def _mounts(text: str | None = None) -> list[tuple[str, Path, str, set[str]]]:
    """(root in the hierarchy, mount point, fs type, super options) of the cgroup mounts
    in ``text`` (``/proc/self/mountinfo``'s by default)."""
    found = []
    try:
        lines = (text or Path("/proc/self/mountinfo").read_text()).splitlines()
    except OSError:
        return []
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, after = left.split(), right.split()
        if len(fields) < 5 or len(after) < 3 or after[0] not in ("cgroup", "cgroup2"):
            continue
        root, point = fields[3], fields[4].replace("\\040", " ")
        found.append((root, Path(point), after[0], set(after[2].split(","))))
    return found


def _own_paths(text: str | None = None) -> dict[str, str]:
    """This process's cgroup per hierarchy: "" for v2, a controller's name for v1 (from
    ``text``, ``/proc/self/cgroup``'s by default)."""
    paths: dict[str, str] = {}
    try:
        lines = (text or Path("/proc/self/cgroup").read_text()).splitlines()
    except OSError:
        return paths
    for line in lines:
        _id, _, rest = line.partition(":")
        names, _, path = rest.partition(":")
        for name in names.split(",") if names else [""]:
            paths[name] = path
    return paths


def _in_mount(mount_root: str, point: Path, own: str) -> Path | None:
    """The directory of cgroup ``own`` under a mount of the hierarchy's ``mount_root``."""
    if own != mount_root and not own.startswith(mount_root.rstrip("/") + "/"):
        return None
    rest = own[len(mount_root) :].strip("/")
    return point / rest if rest else point


def _usable(parent: Path) -> bool:
    """Whether this process can make a cgroup in ``parent``, move a new process into it
    and remove it: tried once, with ``true``, so that a cgroup swc may make but not join
    (a delegation it is outside of) leaves the limits to rlimits rather than failing runs."""
    if not os.access(parent, os.W_OK | os.X_OK):
        return False
    trial = parent / f"swc-{os.getpid()}-0"
    try:
        trial.mkdir(exist_ok=True)
    except OSError:
        return False
    try:
        fd = os.open(trial / "cgroup.procs", os.O_WRONLY)

        def join() -> None:
            os.write(fd, b"0")

        try:
            joined = subprocess.run(
                [shutil.which("true") or "/bin/true"],
                preexec_fn=join,
                stdin=subprocess.DEVNULL,
                timeout=_EMPTY_WAIT,
            )
        finally:
            os.close(fd)
        return joined.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        _remove_empty(trial)


def _remove_empty(directory: Path) -> None:
    """rmdir a cgroup whose processes have ended (the kernel may take a moment)."""
    deadline = time.monotonic() + _EMPTY_WAIT
    while True:
        try:
            directory.rmdir()
            return
        except OSError as exc:
            # EBUSY while a process is still in it; anything else will not pass
            if exc.errno != errno.EBUSY or time.monotonic() > deadline:
                return
            time.sleep(0.01)


def _v2_parent(point: Path, mount_root: str, own: str) -> Path | None:
    """The nearest cgroup from swc's own up that has memory and pids for its children."""
    start = _in_mount(mount_root, point, own)
    if start is None:
        return None
    candidates = [start] if start == point else []
    candidates += [p for p in start.parents if p == point or point in p.parents]
    for parent in candidates:
        try:
            enabled = set((parent / "cgroup.subtree_control").read_text().split())
        except OSError:
            continue
        if {MEMORY, PIDS} <= enabled and _usable(parent):
            return parent
    return None


@functools.lru_cache(maxsize=1)
def cgroup_place() -> CgroupPlace | None:
    """Where this machine lets swc make cgroups (looked up once per process), or None."""
    own = _own_paths()
    mounts = _mounts()
    for root, point, kind, _options in mounts:
        if kind == "cgroup2" and "" in own and (parent := _v2_parent(point, root, own[""])):
            place = CgroupPlace(2, parent, parent)
            prune_stale(place)
            return place
    found: dict[str, Path] = {}
    for root, point, kind, options in mounts:
        for controller in (MEMORY, PIDS):
            if kind == "cgroup" and controller in options and controller in own:
                where = _in_mount(root, point, own[controller])
                if where is not None and controller not in found and _usable(where):
                    found[controller] = where
    if not found:
        return None
    place = CgroupPlace(1, found.get(MEMORY), found.get(PIDS))
    prune_stale(place)
    return place


def prune_stale(place: CgroupPlace) -> int:
    """Remove the empty run cgroups of swc processes that are gone; how many."""
    removed = 0
    for parent in {p for p in (place.memory, place.pids) if p is not None}:
        with contextlib.suppress(OSError):
            for entry in parent.iterdir():
                match = _NAME.match(entry.name)
                if match and not _alive(int(match.group(1))):
                    with contextlib.suppress(OSError):
                        entry.rmdir()
                        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(path: Path, value: str, *, optional: bool = False) -> None:
    try:
        path.write_text(value)
    except FileNotFoundError:
        if not optional:
            raise


def _counter(path: Path, key: str) -> int:
    """The value of ``key`` in a flat-keyed cgroup file (``memory.events``...); 0 if absent."""
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key and value.strip().isdigit():
                return int(value)
    return 0


class RunCgroup:
    """The cgroup(s) of one run: made with their limits, joined by the test process
    before it runs anything, read for limit events, emptied and removed after."""

    def __init__(self, place: CgroupPlace, memory_bytes: int, processes: int) -> None:
        self.place = place
        name = f"swc-{os.getpid()}-{next(_RUNS)}"
        self.dirs: dict[str, Path] = {}
        if memory_bytes and place.memory is not None:
            self.dirs[MEMORY] = place.memory / name
        if processes and place.pids is not None:
            self.dirs[PIDS] = place.pids / name
        self.memory_bytes, self.processes = memory_bytes, processes
        self._fds: list[int] = []

    def bounds(self, controller: str) -> bool:
        return controller in self.dirs

    def __enter__(self) -> RunCgroup:
        try:
            for directory in set(self.dirs.values()):
                directory.mkdir()
            self._set_limits()
            self._fds = [os.open(d / "cgroup.procs", os.O_WRONLY) for d in set(self.dirs.values())]
        except BaseException:
            self._remove()
            raise
        return self

    def _set_limits(self) -> None:
        memory, pids = self.dirs.get(MEMORY), self.dirs.get(PIDS)
        if memory is not None and self.place.version == 2:
            _write(memory / "memory.max", str(self.memory_bytes))
            _write(memory / "memory.swap.max", "0", optional=True)  # no escape into swap
            _write(memory / "memory.oom.group", "1", optional=True)  # the whole run ends
        elif memory is not None:
            _write(memory / "memory.limit_in_bytes", str(self.memory_bytes))
            _write(memory / "memory.memsw.limit_in_bytes", str(self.memory_bytes), optional=True)
        if pids is not None:
            _write(pids / "pids.max", str(self.processes))

    @property
    def join_fds(self) -> tuple[int, ...]:
        """Open ``cgroup.procs`` files: writing "0" to each moves the writer in."""
        return tuple(self._fds)

    def memory_hit(self) -> bool:
        """Whether the kernel killed a process of the run for lack of memory."""
        memory = self.dirs.get(MEMORY)
        if memory is None:
            return False
        events = "memory.events" if self.place.version == 2 else "memory.oom_control"
        return _counter(memory / events, "oom_kill") > 0

    def processes_hit(self) -> bool:
        """Whether the run was refused a process or thread at the limit."""
        pids = self.dirs.get(PIDS)
        return pids is not None and _counter(pids / "pids.events", "max") > 0

    def __exit__(self, *exc: object) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        self._remove()

    def _remove(self) -> None:
        """Kill what is left in the cgroups (the PID namespace's end usually did) and
        remove them; one that will not empty in time is left for ``prune_stale``."""
        for directory in set(self.dirs.values()):
            if not directory.is_dir():
                continue
            deadline = time.monotonic() + _EMPTY_WAIT
            while _kill_members(directory) and time.monotonic() < deadline:
                time.sleep(0.01)
            _remove_empty(directory)


def _kill_members(directory: Path) -> bool:
    """SIGKILL every process in the cgroup; whether any was left."""
    kill = directory / "cgroup.kill"
    if kill.exists():
        with contextlib.suppress(OSError):
            kill.write_text("1")
    try:
        members = [int(p) for p in (directory / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return False
    for pid in members:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return bool(members)
