"""The sandbox's resource limits, through the real sandbox: small limits set by each test,
a script that tries to go past one, and what the run reports, what is left and what the
host sees afterwards.

Each limit is tried through the mechanism this machine gives it (a cgroup where swc may
make one) and through rlimits (the cgroup lookup turned off), and a control run without
limits shows that the same script does get past them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from swcollab.config import ConfigError, Settings, load_settings
from swcollab.sandbox import Isolation, TestCommand, probe_sandbox, run_tests
from swcollab.sandbox import limits as limits_module
from swcollab.sandbox.cgroups import MEMORY, PIDS, cgroup_place, prune_stale
from swcollab.sandbox.limits import NO_LIMITS, Limits, default_memory_mb, mechanisms

from .helpers import marked_processes, wait_until_gone, write

REPO_ROOT = Path(__file__).resolve().parents[2]
SMALL = Limits(processes=64, memory_mb=256, file_size_mb=8, open_files=64, tmp_mb=16)
IS_ROOT = os.geteuid() == 0

FORK_BOMB = textwrap.dedent("""
    import os, sys, time
    made = 0
    for _ in range(1000):
        try:
            pid = os.fork()
        except OSError as exc:
            print("FORK REFUSED after", made, exc, flush=True)
            sys.exit(1)
        if pid == 0:
            os.execvp(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)",
                                       MARKER])
        made += 1
    print("ALL FORKED", made, flush=True)
""")

MEMORY_HOG = textwrap.dedent("""
    chunks = []
    for _ in range(64):
        chunks.append(b"\\x01" * (16 << 20))  # 1 GB in all, every page written
    print("ALLOCATED", len(chunks) * 16, "MB", flush=True)
""")


def run_script(
    root: Path, script: str, limits: Limits, marker: str = "", timeout: float = 120
) -> object:
    write(root, {"hog.py": f"MARKER = {marker!r}\n" + script})
    command = TestCommand((sys.executable, "hog.py"), "flag")
    return run_tests(root, command, timeout=timeout, isolation=Isolation(limits=limits))


def by_limit(run: object) -> dict[str, bool]:
    """limit -> whether it was certain, of the limits a run says it hit."""
    return {hit.limit: hit.certain for hit in run.limit_hits}


def run_cgroups_left() -> list[str]:
    """This process's run cgroups still on the machine (each run removes its own)."""
    place = cgroup_place()
    if place is None:
        return []
    mine = f"swc-{os.getpid()}-"
    parents = {p for p in (place.memory, place.pids) if p is not None}
    return sorted(str(e) for p in parents for e in p.iterdir() if e.name.startswith(mine))


@pytest.fixture(params=["cgroup", "rlimits"])
def mechanism(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each limit through a cgroup (where swc may make one here) and through rlimits."""
    if request.param == "rlimits":
        monkeypatch.setattr(limits_module, "cgroup_place", lambda: None)
    elif cgroup_place() is None:
        pytest.skip("swc may make no cgroup on this machine (the rlimits case covers it)")
    return request.param


def test_defaults_are_the_settings_defaults_and_memory_is_at_most_half_of_ram():
    assert Limits.from_settings(Settings()) == Limits()
    assert Limits().processes == 512 and Limits().tmp_mb == 1024
    half = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2 // (1 << 20)
    assert default_memory_mb() == min(4096, half)
    assert Limits().memory_bytes == default_memory_mb() << 20


def test_limit_settings_come_from_the_environment_and_are_checked(tmp_path: Path):
    env = {"XDG_CONFIG_HOME": str(tmp_path), "SWC_SANDBOX_MEMORY_MB": "300"}
    settings = load_settings(None, environ=env)
    assert Limits.from_settings(settings).memory_bytes == 300 << 20
    with pytest.raises(ConfigError, match="sandbox_processes"):
        load_settings(None, environ={**env, "SWC_SANDBOX_PROCESSES": "-1"})
    # too few to start the sandbox at all: refused with the range, 0 turns it off
    with pytest.raises(ConfigError, match=r"must be 0 \(off\), or >= 16 and <= 1048576, got 3"):
        load_settings(None, environ={**env, "SWC_SANDBOX_OPEN_FILES": "3"})
    off = load_settings(None, environ={**env, "SWC_SANDBOX_OPEN_FILES": "0"})
    assert Limits.from_settings(off).open_files == 0


def test_memory_hog_is_stopped_at_the_memory_limit(tmp_path: Path, mechanism: str):
    run = run_script(tmp_path, MEMORY_HOG, SMALL)
    assert "ALLOCATED" not in run.output and not run.passed and not run.timed_out
    hits = by_limit(run)
    assert "memory" in hits, run.output[-2000:]
    # a cgroup's count is the kernel's; an rlimit's hit is read from the MemoryError
    assert hits["memory"] is (mechanism == "cgroup")
    assert "sandbox's memory limit (256 MB" in run.output
    assert run_cgroups_left() == []


def test_fork_bomb_is_stopped_at_the_process_limit_and_nothing_of_it_lives_on(
    tmp_path: Path, mechanism: str
):
    if mechanism == "rlimits" and IS_ROOT:
        pytest.skip("Linux exempts root from RLIMIT_NPROC (the nobody case covers rlimits)")
    marker = f"swc-limits-fork-{os.getpid()}-{time.monotonic_ns()}"
    run = run_script(tmp_path, FORK_BOMB, SMALL, marker)
    assert "FORK REFUSED" in run.output and "ALL FORKED" not in run.output, run.output[-2000:]
    assert not run.timed_out
    assert "processes" in by_limit(run)
    assert "sandbox's process limit (64 processes" in run.output
    assert wait_until_gone(marker), f"still running: {len(marked_processes(marker))}"
    assert run_cgroups_left() == []


def test_file_size_open_files_and_tmpfs_are_bounded(tmp_path: Path):
    script = textwrap.dedent("""
        import os
        for name, place in (("tmp", "/tmp"), ("home", os.environ["HOME"]), ("shm", "/dev/shm")):
            stats = os.statvfs(place)
            print("SIZE", name, stats.f_blocks * stats.f_frsize)
        try:
            open("/dev/planted", "w")
        except OSError as exc:
            print("DEV REFUSED", exc)
        try:
            with open("big.bin", "wb") as fh:
                fh.write(b"x" * (20 << 20))
        except OSError as exc:
            print("WRITE REFUSED", exc)
        files = []
        try:
            for _ in range(200):
                files.append(open(os.devnull))
        except OSError as exc:
            print("OPEN REFUSED", exc)
        raise SystemExit(1)
    """)
    run = run_script(tmp_path, script, SMALL)
    for tmpfs in ("tmp", "home", "shm"):
        assert f"SIZE {tmpfs} {16 << 20}" in run.output, run.output
    # bwrap's /dev is a tmpfs too: read-only, its device nodes still work
    assert "DEV REFUSED [Errno 30] Read-only file system" in run.output
    assert "WRITE REFUSED [Errno 27]" in run.output and "OPEN REFUSED [Errno 24]" in run.output
    assert (tmp_path / "big.bin").stat().st_size <= 8 << 20  # no more reached the disk
    assert {"file_size", "open_files"} <= set(by_limit(run))
    assert "sandbox's file size limit (8 MB, sandbox_file_size_mb)" in run.output
    assert "sandbox's open-file limit (64 open files per process" in run.output


def test_a_full_tmpfs_is_named(tmp_path: Path):
    script = "open('/tmp/fill', 'wb').write(b'x' * (64 << 20))\n"
    limits = Limits(processes=64, memory_mb=512, file_size_mb=128, open_files=64, tmp_mb=16)
    run = run_script(tmp_path, script, limits)
    assert "No space left on device" in run.output
    assert by_limit(run) == {"tmpfs": False}
    assert "tmpfs size (16 MB each for /tmp, $HOME and /dev/shm" in run.output


def test_without_limits_the_same_scripts_get_through(tmp_path: Path):
    """The control: what stops the scripts above is the limits (0 turns each off)."""
    marker = f"swc-limits-control-{os.getpid()}-{time.monotonic_ns()}"
    small_bomb = FORK_BOMB.replace("range(1000)", "range(100)")
    run = run_script(tmp_path, small_bomb, NO_LIMITS, marker)
    assert "ALL FORKED 100" in run.output and run.limit_hits == ()
    assert wait_until_gone(marker)
    run = run_script(tmp_path, MEMORY_HOG, NO_LIMITS)
    assert "ALLOCATED 1024 MB" in run.output and run.passed


def test_stale_run_cgroups_of_a_dead_swc_are_removed():
    place = cgroup_place()
    if place is None:
        pytest.skip("swc may make no cgroup on this machine")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    parent = place.memory or place.pids
    stale, live = parent / f"swc-{dead.stdout.strip()}-7", parent / f"swc-{os.getpid()}-999999"
    stale.mkdir()
    live.mkdir()
    try:
        assert prune_stale(place) >= 1
        assert not stale.exists() and live.exists()
    finally:
        for path in (stale, live):
            if path.exists():
                path.rmdir()


def test_doctor_says_when_a_limit_is_not_held(monkeypatch):
    from swcollab.doctor import limits_fact

    monkeypatch.setattr(limits_module, "cgroup_place", lambda: None)
    fact = limits_fact(Settings())
    assert fact.value.startswith("rlimits: memory ") and "(rlimit DATA)" in fact.value
    # root without a cgroup: no process limit, and doctor says so (not blocking)
    assert ("process limit not bounded (root" in fact.value) is IS_ROOT
    assert fact.ok is not IS_ROOT and not fact.blocking


def test_doctor_says_how_each_limit_is_held():
    from swcollab.doctor import limits_fact

    fact = limits_fact(Settings(sandbox_memory_mb=300, sandbox_processes=0))
    assert "memory 300 MB" in fact.value and "process limit off" in fact.value
    how = mechanisms(Limits(), "bwrap", probe_sandbox().program)
    assert how.tmp == "bwrap --size, per tmpfs"  # bwrap 0.8.0 here, as in CI
    place = cgroup_place()
    if place is not None and place.parent(MEMORY) is not None:
        assert how.memory.startswith(f"cgroup v{place.version}")
    else:
        assert how.memory == "RLIMIT_DATA, per process"
    if place is None or place.parent(PIDS) is None:
        assert ("not bounded" in how.processes) is IS_ROOT
    assert fact.details["processes"]["setting"] == "sandbox_processes"


NOBODY_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from swcollab.sandbox import Isolation, TestCommand, probe_sandbox, run_tests
    from swcollab.sandbox import limits
    from swcollab.sandbox.limits import Limits

    limits.cgroup_place = lambda: None  # the rlimits path, whatever this machine has
    root = Path(sys.argv[1])
    run = run_tests(root, TestCommand((sys.executable, "hog.py"), "flag"), timeout=120,
                    isolation=Isolation(limits=Limits(processes=32)))
    print(run.output)
    print("HITS", sorted(hit.limit for hit in run.limit_hits))
""")


def runnable_python(as_user: list[str]) -> str:
    """An interpreter the other user may run (ours may live in root's home)."""
    for python in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if python and subprocess.run([*as_user, "test", "-x", python]).returncode == 0:
            return python
    pytest.skip("no Python the other user may run")


@pytest.mark.slow  # a second swc process, as another user
def test_rlimit_process_limit_counts_only_the_sandboxs_processes(tmp_path: Path):
    """RLIMIT_NPROC is set inside the sandbox's user namespace: the user's other
    processes on the host do not count against it (run as nobody when we are root)."""
    if IS_ROOT and shutil.which("setpriv") is None:
        pytest.skip("root, and no setpriv to run as another user")
    work = Path(tempfile.mkdtemp(prefix="swc-nproc-"))
    os.chmod(work, 0o777)
    marker = f"swc-limits-nproc-{os.getpid()}-{time.monotonic_ns()}"
    write(work, {"hog.py": f"MARKER = {marker!r}\n" + FORK_BOMB})
    os.chmod(work / "hog.py", 0o644)
    as_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if IS_ROOT else []
    python = runnable_python(as_user)
    # the user's own processes elsewhere on the host: 40 of them, more than the limit
    others = [subprocess.Popen([*as_user, "sleep", "120"]) for _ in range(40)]
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HOME": str(work), "TMPDIR": str(work)}
        proc = subprocess.run(
            [*as_user, python, "-c", NOBODY_SCRIPT, str(work)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            cwd=work,
        )
    finally:
        for other in others:
            other.kill()
            other.wait()
        shutil.rmtree(work, ignore_errors=True)
    assert "FORK REFUSED after" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    made = int(proc.stdout.split("FORK REFUSED after", 1)[1].split()[0])
    assert 20 <= made < 32  # the sandbox's own: bwrap's init and the script count too
    assert "HITS ['processes']" in proc.stdout
    assert wait_until_gone(marker)


@pytest.mark.parametrize(
    ("output", "named"),
    [
        ("sh: fork: retry: Resource temporarily unavailable", "processes"),
        (
            "    pid = os.fork()\nBlockingIOError: [Errno 11] Resource temporarily unavailable",
            "processes",
        ),
        ("fork/exec /usr/bin/go: resource temporarily unavailable", "processes"),
        ("RuntimeError: can't start new thread", "processes"),
        ("    data = b'x' * n\nMemoryError", "memory"),
        ("OSError: [Errno 24] Too many open files: 'a.txt'", "open_files"),
        ("OSError: [Errno 28] No space left on device", "tmpfs"),
        # a non-blocking socket's EAGAIN, in threaded code, is not a refused fork
        (
            '  File "threading.py"\n    sock.recv(1)\nBlockingIOError: [Errno 11] Resource '
            "temporarily unavailable",
            None,
        ),
        ("1 failed: assert 2 == 3", None),
    ],
)
def test_the_likely_limit_is_read_from_a_failing_runs_output(monkeypatch, output, named):
    monkeypatch.setattr(limits_module, "cgroup_place", lambda: None)
    bounds = limits_module.RunBounds(Limits(), "bwrap")
    hits = bounds.hits(1, output)
    assert [hit.limit for hit in hits] == ([named] if named else [])
    assert all(not hit.certain and "probably hit" in hit.text for hit in hits)
    assert bounds.hits(0, output) == ()  # a passing run is never blamed on a guess
