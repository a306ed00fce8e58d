"""What the OS sandbox adds to a test run: the same runs with it and without it.

    python benchmarks/sandbox.py [--runs 9]

A sample project (a small package and three pytest files, in a git repository) gets a
swc worktree; its tests are run through ``run_tests`` alternately in the sandbox and
without it, and the medians are compared (target: under 0.3 s added per run). A trivial
command (``true``) shows the fixed cost alone, and the probe (once per process) and the
layout (once per run) are timed on their own.
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


def compare(path: Path, command: TestCommand, runs: int) -> tuple[float, float]:
    """Median seconds of a run in the sandbox and without it, interleaved."""
    inside, outside = [], []
    for _ in range(runs):
        inside.append(timed(lambda: run_tests(path, command, isolation=Isolation())))
        outside.append(timed(lambda: run_tests(path, command, isolation=UNSANDBOXED)))
    return statistics.median(inside), statistics.median(outside)


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
    print(f"sandbox: {info.describe()}; probe (once per process): {probe_s:.3f} s")
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
                inside, outside = compare(wt.path, command, args.runs)
                added = inside - outside
                worst = max(worst, added)
                print(
                    f"{label:<17} median of {args.runs}: sandbox {inside:.3f} s, "
                    f"none {outside:.3f} s, added {added:+.3f} s"
                )
    verdict = "met" if worst < TARGET_S else "MISSED"
    print(f"target: under {TARGET_S} s added per run: {verdict} (worst {worst:+.3f} s)")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
