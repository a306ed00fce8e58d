"""How fast does ``swc`` start, and what does it import before it has anything to do?

    python benchmarks/startup.py [--runs 15]

Prints the median wall time of ``swc --help`` next to ``python -c pass`` (the floor any
Python program pays), and, for ``swc --help``, ``swc --version`` and a shell-completion
request, the heavy modules they imported (the answer should be "none").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Slow to import, and not needed to print help, a version or completions.
HEAVY = (
    "litellm",
    "tree_sitter",
    "tree_sitter_language_pack",
    "git",
    "networkx",
    "scipy",
    "numpy",
    "httpx",
    "openai",
    "pydantic",
    "jinja2",
    "llama_cpp",
    "rich",
)

# Runs the CLI in-process (its stdout goes to /dev/null) and writes the top-level modules
# left in sys.modules to stderr after a marker.
PROBE = """
import json, sys
sys.argv = ["swc", *json.loads(sys.argv[1])]
from swcollab.cli import main
try:
    main()
except SystemExit:
    pass
names = sorted({name.split(".")[0] for name in sys.modules})
sys.stderr.write("\\nMODULES " + json.dumps(names) + "\\n")
"""

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
    env = {**os.environ, **(extra_env or {})}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    marker = proc.stderr.rindex("\nMODULES ")
    loaded = set(json.loads(proc.stderr[marker + len("\nMODULES ") :]))
    return [name for name in HEAVY if name in loaded]


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
