"""Resource limits of every sandboxed test run, besides its time limit: processes,
memory, the size of a file, open files and the size of each tmpfs of the sandbox.

How each is held, the best this machine allows (``swc doctor`` says which):

- memory and processes: a cgroup of the run's own (``cgroups.py``) bounds the whole run
  (every process and thread, its tmpfs pages and kernel memory) and tells afterwards
  whether the limit was hit. Without one, rlimits set in the child: ``RLIMIT_DATA``
  per process, and ``RLIMIT_NPROC`` set *inside* the sandbox (its user namespace), where
  the kernel counts only the sandbox's own processes; set outside, it would count every
  process of the user. Linux exempts root from ``RLIMIT_NPROC``: root without a cgroup
  has no process limit.
- the size of one file (``RLIMIT_FSIZE``: the worktree's files, the captured output) and
  open files per process (``RLIMIT_NOFILE``): rlimits, which no cgroup offers.
- each tmpfs of the sandbox (``/tmp``, ``$HOME``, ``/dev/shm``, the hidden
  directories): bwrap's ``--size``. Its number of files is not bounded by it (bwrap
  has no option for ``nr_inodes``); a memory cgroup counts their kernel memory.

On macOS (``sandbox-exec``, untested) only the file size and open files are bounded.
A limit of 0 turns that limit off.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .cgroups import MEMORY, PIDS, CgroupPlace, RunCgroup, cgroup_place
from .results import LimitHit

MB = 1 << 20
GB = 1 << 30
DEFAULT_PROCESSES = 512
DEFAULT_MEMORY_CAP_MB = 4096  # the default memory limit: this, or half of RAM if smaller
DEFAULT_FILE_SIZE_MB = 1024
DEFAULT_OPEN_FILES = 1024
DEFAULT_TMP_MB = 1024

LIMIT_MEMORY = "memory"
LIMIT_PROCESSES = "processes"
LIMIT_FILE_SIZE = "file_size"
LIMIT_OPEN_FILES = "open_files"
LIMIT_TMP = "tmpfs"
# the setting of each limit (config_keys.py)
SETTINGS = {
    LIMIT_MEMORY: "sandbox_memory_mb",
    LIMIT_PROCESSES: "sandbox_processes",
    LIMIT_FILE_SIZE: "sandbox_file_size_mb",
    LIMIT_OPEN_FILES: "sandbox_open_files",
    LIMIT_TMP: "sandbox_tmp_mb",
}
_NAMES = {
    LIMIT_MEMORY: "memory limit",
    LIMIT_PROCESSES: "process limit",
    LIMIT_FILE_SIZE: "file size limit",
    LIMIT_OPEN_FILES: "open-file limit",
    LIMIT_TMP: "tmpfs size",
}


def size_text(size: int) -> str:
    """``4 GB``, ``1.5 GB``, ``256 MB`` (binary units, as the settings count them)."""
    if size >= GB:
        return f"{size / GB:.4g} GB"
    return f"{size / MB:.4g} MB"


def machine_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def default_memory_mb() -> int:
    """The smaller of 4 GB and half of this machine's memory."""
    half = machine_memory() // 2 // MB
    return min(DEFAULT_MEMORY_CAP_MB, half) if half > 0 else DEFAULT_MEMORY_CAP_MB


@dataclass(frozen=True)
class Limits:
    """A sandboxed run's limits (0: none); ``memory_mb`` None: ``default_memory_mb()``."""

    processes: int = DEFAULT_PROCESSES
    memory_mb: int | None = None
    file_size_mb: int = DEFAULT_FILE_SIZE_MB
    open_files: int = DEFAULT_OPEN_FILES
    tmp_mb: int = DEFAULT_TMP_MB

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(
            processes=settings.sandbox_processes,
            memory_mb=settings.sandbox_memory_mb,
            file_size_mb=settings.sandbox_file_size_mb,
            open_files=settings.sandbox_open_files,
            tmp_mb=settings.sandbox_tmp_mb,
        )

    @property
    def memory_bytes(self) -> int:
        return (default_memory_mb() if self.memory_mb is None else self.memory_mb) * MB

    def text(self, limit: str) -> str:
        """The limit as the user reads it: ``4 GB``, ``512 processes``, ``off``."""
        value = {
            LIMIT_MEMORY: self.memory_bytes,
            LIMIT_PROCESSES: self.processes,
            LIMIT_FILE_SIZE: self.file_size_mb * MB,
            LIMIT_OPEN_FILES: self.open_files,
            LIMIT_TMP: self.tmp_mb * MB,
        }[limit]
        if not value:
            return "off"
        if limit == LIMIT_PROCESSES:
            return f"{value} processes"
        if limit == LIMIT_OPEN_FILES:
            return f"{value} open files"
        return size_text(value)


NO_LIMITS = Limits(processes=0, memory_mb=0, file_size_mb=0, open_files=0, tmp_mb=0)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass(frozen=True)
class Mechanisms:
    """How each limit is held on this machine: "cgroup v2 (<dir>)", "rlimit ...", or
    why it is not."""

    memory: str
    processes: str
    file_size: str
    open_files: str
    tmp: str

    def summary(self) -> str:
        """``cgroup v2 and rlimits`` or ``rlimits``: what ``swc doctor`` leads with."""
        for how in (self.memory, self.processes):
            if how.startswith("cgroup"):
                return how.split(" (")[0] + " and rlimits"
        return "rlimits"


def _tmpfs_mechanism(sandbox_kind: str, program: str | None) -> str:
    if sandbox_kind != "bwrap":
        return "no tmpfs: the run's files are on disk"
    from .bwrap import sizes_tmpfs

    if program and sizes_tmpfs(program):
        return "bwrap --size, per tmpfs"
    return "not bounded: this bwrap has no --size (bwrap 0.7+, not setuid)"


def mechanisms(limits: Limits, sandbox_kind: str, program: str | None = None) -> Mechanisms:
    """How ``limits`` are held for a run in ``sandbox_kind`` ("bwrap" or "sandbox-exec")
    with the sandbox's ``program``."""
    place = cgroup_place() if sandbox_kind == "bwrap" else None
    linux = sandbox_kind == "bwrap"

    def how(controller: str, rlimit: str, unbounded: str) -> str:
        if place is not None and place.parent(controller) is not None:
            return place.describe(controller)
        return rlimit if linux else unbounded

    processes = how(
        PIDS,
        "RLIMIT_NPROC in the sandbox's user namespace"
        if not _is_root()
        else "not bounded (root, no cgroup swc may make: Linux exempts root from RLIMIT_NPROC)",
        "not bounded on macOS",
    )
    return Mechanisms(
        memory=how(MEMORY, "RLIMIT_DATA, per process", "not bounded on macOS"),
        processes=processes,
        file_size="RLIMIT_FSIZE, per file",
        open_files="RLIMIT_NOFILE, per process",
        tmp=_tmpfs_mechanism(sandbox_kind, program),
    )


def limits_overview(
    limits: Limits, sandbox_kind: str, program: str | None = None
) -> tuple[str, dict[str, Any], bool]:
    """(one line, details, whether every limit that is on is held) for ``swc doctor``:
    ``memory 4 GB (cgroup v2), 512 processes (cgroup v2), files 1 GB (rlimit), ...``."""
    how = mechanisms(limits, sandbox_kind, program)
    by_limit = {
        LIMIT_MEMORY: how.memory,
        LIMIT_PROCESSES: how.processes,
        LIMIT_FILE_SIZE: how.file_size,
        LIMIT_OPEN_FILES: how.open_files,
        LIMIT_TMP: how.tmp,
    }
    labels = {
        LIMIT_MEMORY: "memory {}",
        LIMIT_PROCESSES: "{}",
        LIMIT_FILE_SIZE: "files up to {}",
        LIMIT_OPEN_FILES: "{} per process",
        LIMIT_TMP: "tmpfs {} each",
    }
    parts, details, held = [], {"mechanism": how.summary()}, True
    for limit, mechanism in by_limit.items():
        amount = limits.text(limit)
        if amount == "off":
            mechanism = f"off ({SETTINGS[limit]} = 0)"
            parts.append(f"{_NAMES[limit]} off")
        elif mechanism.startswith(("not bounded", "no tmpfs")):
            held = False
            parts.append(f"{_NAMES[limit]} {mechanism}")
        else:
            short = mechanism.split(" (")[0].split(",")[0].replace("RLIMIT_", "rlimit ")
            parts.append(labels[limit].format(amount) + f" ({short})")
        details[limit] = {"limit": amount, "how": mechanism, "setting": SETTINGS[limit]}
    return ", ".join(parts), details, held


# The child sets RLIMIT_NPROC inside the user namespace, then becomes the test command.
_NPROC_WRAPPER = (
    "import os, resource, sys\n"
    "n = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_NPROC, (n, n))\n"
    "try:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "except OSError as exc:\n"
    "    print(f'[swc: cannot run {sys.argv[2]}: {exc.strerror}]', file=sys.stderr)\n"
    "    sys.exit(127)\n"
)


def _capped(which: int, value: int) -> tuple[int, int, int]:
    """(resource, soft, hard) lowering ``which`` to ``value``, never above its hard limit."""
    import resource  # POSIX only: imported where a sandbox runs

    _soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    return which, value, value


class RunBounds:
    """The limits of one sandboxed run: what the command line gets (tmpfs sizes, the
    process limit inside), what the child sets before it execs (its cgroups, rlimits),
    and, afterwards, which limit the run hit."""

    def __init__(self, limits: Limits, sandbox_kind: str) -> None:
        self.limits = limits
        self.linux = sandbox_kind == "bwrap"
        place: CgroupPlace | None = cgroup_place() if self.linux else None
        self.cgroup = (
            RunCgroup(place, limits.memory_bytes, limits.processes) if place is not None else None
        )
        self._rlimits: list[tuple[int, int, int]] = []

    def __enter__(self) -> RunBounds:
        if self.cgroup is not None:
            self.cgroup.__enter__()
        self._rlimits = self._plan_rlimits()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.cgroup is not None:
            self.cgroup.__exit__(*exc)

    def _by_cgroup(self, controller: str) -> bool:
        return self.cgroup is not None and self.cgroup.bounds(controller)

    def _plan_rlimits(self) -> list[tuple[int, int, int]]:
        import resource

        planned = []
        if self.limits.file_size_mb:
            planned.append(_capped(resource.RLIMIT_FSIZE, self.limits.file_size_mb * MB))
        if self.limits.open_files:
            planned.append(_capped(resource.RLIMIT_NOFILE, self.limits.open_files))
        if self.linux and self.limits.memory_bytes and not self._by_cgroup(MEMORY):
            planned.append(_capped(resource.RLIMIT_DATA, self.limits.memory_bytes))
        return planned

    @property
    def join_fds(self) -> tuple[int, ...]:
        return self.cgroup.join_fds if self.cgroup is not None else ()

    def preexec(self) -> Callable[[], None] | None:
        """What the child runs before exec: join the cgroups, lower the rlimits. Only
        system calls (no import, no lock): other threads may hold locks at the fork."""
        from resource import setrlimit

        fds, rlimits, write = self.join_fds, tuple(self._rlimits), os.write
        if not fds and not rlimits:
            return None

        def enter_limits() -> None:
            for fd in fds:
                write(fd, b"0")
            for which, soft, hard in rlimits:
                setrlimit(which, (soft, hard))

        return enter_limits

    def tmpfs_bytes(self) -> int:
        return self.limits.tmp_mb * MB if self.linux else 0

    def inner_argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` as run inside bwrap: behind the RLIMIT_NPROC wrapper when the process
        limit cannot be a cgroup's (and is not root's, which the kernel ignores)."""
        if not self.linux or not self.limits.processes or self._by_cgroup(PIDS) or _is_root():
            return list(argv)
        wrapper = [sys.executable, "-I", "-S", "-c", _NPROC_WRAPPER, str(self.limits.processes)]
        return [*wrapper, *argv]

    def hits(self, exit_code: int | None, output: str) -> tuple[LimitHit, ...]:
        """The limits this run hit: counted by the kernel (certain), or read from what
        the run printed or how it ended (``certain`` False: the likely cause)."""
        found: list[LimitHit] = []
        if self.cgroup is not None and self.cgroup.memory_hit():
            found.append(self._hit(LIMIT_MEMORY, "a process was killed for lack of memory"))
        if self.cgroup is not None and self.cgroup.processes_hit():
            found.append(self._hit(LIMIT_PROCESSES, "a new process or thread was refused"))
        if exit_code in (128 + signal.SIGXFSZ, -signal.SIGXFSZ) and self.limits.file_size_mb:
            found.append(self._hit(LIMIT_FILE_SIZE, "a process was killed writing past it"))
        if exit_code != 0:
            found += self._likely(output, {hit.limit for hit in found})
        return tuple(found)

    def _likely(self, output: str, known: set[str]) -> list[LimitHit]:
        """Limits the output points at (an error a test may also print for itself)."""
        found = []
        for limit, pattern, also, seen in _SIGNS:
            if limit in known or not self._held_here(limit):
                continue
            if re.search(pattern, output) and (also is None or re.search(also, output)):
                found.append(self._hit(limit, f"the output shows {seen}", certain=False))
                known.add(limit)
        return found

    def _held_here(self, limit: str) -> bool:
        """Whether swc set this limit for the run (only those can be named as the cause)."""
        if limit == LIMIT_MEMORY:
            return bool(self.limits.memory_bytes) and self.linux
        if limit == LIMIT_PROCESSES:
            return bool(self.limits.processes) and self.linux
        if limit == LIMIT_FILE_SIZE:
            return bool(self.limits.file_size_mb)
        if limit == LIMIT_OPEN_FILES:
            return bool(self.limits.open_files)
        return bool(self.limits.tmp_mb) and self.linux

    def _hit(self, limit: str, why: str, *, certain: bool = True) -> LimitHit:
        amount = self.limits.text(limit)
        if limit == LIMIT_TMP:
            what = (
                f"the sandbox's tmpfs size ({amount} each for /tmp, $HOME and /dev/shm, "
                f"{SETTINGS[limit]}), or the disk"
            )
        else:
            per_process = limit == LIMIT_OPEN_FILES or (
                limit == LIMIT_MEMORY and not self._by_cgroup(MEMORY)
            )
            per = " per process" if per_process else ""
            what = f"the sandbox's {_NAMES[limit]} ({amount}{per}, {SETTINGS[limit]})"
        verb = "hit" if certain else "probably hit"
        return LimitHit(limit, f"the tests {verb} {what}: {why}", certain)


# (limit, a pattern the output shows when a run hits it, one more it must show too, in
# words): errno texts and the messages of common runtimes. ENOSPC may also be the disk's.
_SIGNS = (
    (
        LIMIT_MEMORY,
        r"MemoryError|Cannot allocate memory|std::bad_alloc|runtime: out of memory"
        r"|memory allocation of \d+ bytes failed",
        None,
        "an allocation failing",
    ),
    (
        LIMIT_PROCESSES,
        r"can't start new thread|fork: retry|failed to create new OS thread"
        r"|unable to create (new )?native thread",
        None,
        "a new process or thread refused",
    ),
    (
        LIMIT_PROCESSES,
        r"(?i)resource temporarily unavailable|\[Errno 11\]|\bEAGAIN\b",
        r"(?i)\bfork|_fork_exec|spawn|\bclone\b|popen|new (os )?thread|native thread",
        "a fork or thread refused (EAGAIN)",
    ),
    (LIMIT_FILE_SIZE, r"File too large|\[Errno 27\]", None, "'File too large' (EFBIG)"),
    (
        LIMIT_OPEN_FILES,
        r"Too many open files|\[Errno 24\]",
        None,
        "'Too many open files' (EMFILE)",
    ),
    (
        LIMIT_TMP,
        r"No space left on device|\[Errno 28\]",
        None,
        "'No space left on device' (ENOSPC)",
    ),
)
