"""How fast does ``swc`` start, and what does it import before it has anything to do?

    python benchmarks/startup.py [--runs 15]

Prints the median wall time of ``swc --help`` next to ``python -c pass`` (the floor any
Python program pays), and, for ``swc --help``, ``swc --version`` and a shell-completion
request, the heavy modules they imported (the answer should be "none").
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The heavy modules, and the probe that lists what a command imported: the import test's
# own (tests/test_imports.py), so the benchmark reports what the test guards.
from tests.test_imports import FORBIDDEN, loaded_modules  # noqa: E402

COMPLETION_ENV = {"_SWC_COMPLETE": "bash_complete", "COMP_WORDS": "swc config ", "COMP_CWORD": "2"}


def swc_command() -> list[str]:
    """The installed ``swc`` console script next to this interpreter, else ``-m swcollab``."""
    script = Path(sys.executable).parent / "swc"
    if script.is_file():
        return [str(script)]
    found = shutil.which("swc")
    return [found] if found else [sys.executable, "-m", "swcollab"]


def median_seconds(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def heavy_imports(args: list[str], extra_env: dict[str, str] | None = None) -> list[str]:
    loaded = loaded_modules(args, **(extra_env or {}))
    return [name for name in FORBIDDEN if name in loaded]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    swc = swc_command()
    subprocess.run([*swc, "--help"], stdout=subprocess.DEVNULL, check=True)  # warm the caches
    floor = median_seconds([sys.executable, "-c", "pass"], args.runs)
    helptime = median_seconds([*swc, "--help"], args.runs)
    print(f"python -c pass   median of {args.runs}: {floor * 1000:6.1f} ms")
    print(
        f"swc --help       median of {args.runs}: {helptime * 1000:6.1f} ms "
        f"(+{(helptime - floor) * 1000:.1f} ms)"
    )

    checks = {
        "swc --help": heavy_imports(["--help"]),
        "swc --version": heavy_imports(["--version"]),
        "completion of 'swc config '": heavy_imports([], COMPLETION_ENV),
    }
    for label, heavy in checks.items():
        print(f"heavy modules imported by {label}: {', '.join(heavy) or 'none'}")
    return 1 if any(checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
