"""What the OS sandbox and its resource limits add to a test run: the same runs with
them and without.

    python benchmarks/sandbox.py [--runs 9]

A sample project (a small package and three pytest files, in a git repository) gets a
swc worktree; its tests are run through ``run_tests`` in turn: in the sandbox with its
default limits (through this machine's mechanism: a cgroup where swc may make one), with
rlimits only (the cgroup lookup off), without limits, and without the sandbox; the
medians are compared (target: under 0.3 s added per run by the sandbox and its limits).
A trivial command (``true``) shows the fixed cost alone; the probe (once per process),
the layout (once per run) and the RLIMIT_NPROC wrapper (non-root without a cgroup) are
timed on their own.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from swcollab.sandbox import (  # noqa: E402
    UNSANDBOXED,
    Isolation,
    TestCommand,
    Worktree,
    probe_sandbox,
    run_tests,
)

TARGET_S = 0.3
PROJECT = {
    "calc/__init__.py": "",
    "calc/ops.py": "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n",
    "tests/test_add.py": "from calc.ops import add\n\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n",
    "tests/test_mul.py": "from calc.ops import mul\n\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n",
    "tests/test_more.py": "import pytest\nfrom calc.ops import add\n\n\n"
    "@pytest.mark.parametrize('n', range(20))\ndef test_many(n):\n    assert add(n, 0) == n\n",
}


def make_project(top: Path) -> Path:
    repo = top / "sample"
    for rel, text in PROJECT.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    for args in (["init", "-q"], ["add", "-A"], [*ident, "commit", "-qm", "sample"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


VARIANTS = ("limits", "rlimits", "no limits", "none")


def run_variant(path: Path, command: TestCommand, variant: str) -> float:
    """Seconds of one run: in the sandbox with its limits (the machine's way, or rlimits
    only), in the sandbox without limits, or without the sandbox."""
    from swcollab.sandbox import limits

    isolation = {
        "limits": Isolation(),
        "rlimits": Isolation(),
        "no limits": Isolation(limits=limits.NO_LIMITS),
        "none": UNSANDBOXED,
    }[variant]
    place = limits.cgroup_place
    if variant == "rlimits":
        limits.cgroup_place = lambda: None  # type: ignore[assignment]
    try:
        return timed(lambda: run_tests(path, command, isolation=isolation))
    finally:
        limits.cgroup_place = place


def compare(path: Path, command: TestCommand, runs: int) -> dict[str, float]:
    """Median seconds of a run in each variant, interleaved."""
    seen: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for _ in range(runs):
        for variant in VARIANTS:
            seen[variant].append(run_variant(path, command, variant))
    return {variant: statistics.median(times) for variant, times in seen.items()}


def wrapper_cost(runs: int) -> float:
    """Median seconds the RLIMIT_NPROC wrapper adds to starting ``true`` (outside the
    sandbox: as root the sandbox skips it, the kernel ignoring root's RLIMIT_NPROC)."""
    from swcollab.sandbox.limits import _NPROC_WRAPPER

    wrapped = [sys.executable, "-I", "-S", "-c", _NPROC_WRAPPER, "512", "true"]
    plain = statistics.median(timed(lambda: subprocess.run(["true"])) for _ in range(runs))
    return statistics.median(timed(lambda: subprocess.run(wrapped)) for _ in range(runs)) - plain


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    probe_sandbox.cache_clear()
    probe_s = timed(probe_sandbox)
    info = probe_sandbox()
    if not info.available:
        print(f"no sandbox here: {info.problem}")
        return 3
    from swcollab.sandbox.limits import Limits, limits_overview

    print(f"sandbox: {info.describe()}; probe (once per process): {probe_s:.3f} s")
    print("limits: " + limits_overview(Limits(), info.kind, info.program)[0])
    with tempfile.TemporaryDirectory(prefix="swc-bench-") as tmp:
        repo = make_project(Path(tmp))
        with Worktree(repo, temp_dir=Path(tmp)) as wt:
            from swcollab.sandbox.layout import build_layout
            from swcollab.sandbox.runner import run_env

            run_dir = Path(tmp) / "layout-run"
            run_dir.mkdir()
            layout_s = statistics.median(
                timed(
                    lambda: build_layout(wt.path, run_dir, run_env(wt.path), argv0=sys.executable)
                )
                for _ in range(args.runs)
            )
            print(f"layout of a run (median of {args.runs}): {layout_s:.3f} s")
            pytest_cmd = TestCommand((sys.executable, "-m", "pytest", "-q"), "bench")
            rows = [("true", TestCommand(("true",), "bench")), ("pytest, 22 tests", pytest_cmd)]
            worst = 0.0
            for label, command in rows:
                median = compare(wt.path, command, args.runs)
                added = median["limits"] - median["none"]
                worst = max(worst, added, median["rlimits"] - median["none"])
                print(
                    f"{label:<17} median of {args.runs}: "
                    + ", ".join(f"{v} {median[v]:.3f} s" for v in VARIANTS)
                    + f"; the limits add {median['limits'] - median['no limits']:+.3f} s "
                    f"(rlimits only {median['rlimits'] - median['no limits']:+.3f} s), "
                    f"sandbox and limits {added:+.3f} s"
                )
            print(f"RLIMIT_NPROC wrapper (median of {args.runs}): {wrapper_cost(args.runs):+.3f} s")
    verdict = "met" if worst < TARGET_S else "MISSED"
    print(f"target: under {TARGET_S} s added per run: {verdict} (worst {worst:+.3f} s)")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
