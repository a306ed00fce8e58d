"""Benchmark of the repo map on a large real code base (Django's sdist from PyPI).

    python benchmarks/repomap.py [--version 5.1] [--tokens 2048] [--rounds 3]

Downloads the sdist once into benchmarks/.cache/ (gitignored), unpacks it into a temporary
git repository, then maps it cold (empty cache), warm (nothing changed) and after one file
changed in the working tree. Each run is a fresh ``python`` process, so the figures include
interpreter start and imports, as a user of ``swc map`` sees them; the time spent inside
``build_repo_map`` is printed too. Peak memory is the largest resident set of the process
and of its parse workers.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
FOCUS = (
    "QuerySet.bulk_create() with update_conflicts=True crashes on PostgreSQL when "
    "unique_fields names a field whose db_column differs from its name: the generated "
    "ON CONFLICT clause uses the field name instead of the column."
)


def sdist(version: str) -> Path:
    path = CACHE / f"Django-{version}.tar.gz"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"django=={version}",
                "-d",
                str(CACHE),
            ],
            check=True,
        )
    return path


def make_repo(archive: Path, dest: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    root = next(p for p in dest.iterdir() if p.is_dir())
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=b", "-c", "user.email=b@e", "commit", "-qm", "import"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    return root


def one_run(repo: Path, state: Path, tokens: int) -> dict:
    """Run in a child process: build the map once and report."""
    start = time.perf_counter()
    from swcollab.repomap import build_repo_map, focus_from_text

    imported = time.perf_counter()
    cpu_before = _cpu()
    result = build_repo_map(repo, focus_from_text(FOCUS), tokens=tokens, state_dir=state)
    done = time.perf_counter()
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "build_seconds": done - imported,
        "build_cpu_seconds": _cpu() - cpu_before,
        "import_seconds": imported - start,
        "peak_mb": max(peak_self, peak_children) / 1024,
        "files": len(result.files),
        "tracked": result.stats.files_total,
        "parsed": result.stats.files_parsed,
        "hits": result.stats.cache_hits,
        "definitions": result.stats.definitions,
        "tokens": result.tokens,
        "stages": result.stats.seconds_per_stage,
        "top": [f.path for f in result.files[:5]],
        "warnings": list(result.warnings),
    }


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the parse workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def measure(repo: Path, state: Path, tokens: int) -> dict:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(repo), str(state), str(tokens)],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(proc.stdout)
    report["wall_seconds"] = time.perf_counter() - start
    report["load"] = load_average()
    return report


def show(label: str, r: dict) -> None:
    per_1000 = r["build_seconds"] / max(1, r["files"]) * 1000
    stages = ", ".join(f"{k} {v:.2f}" for k, v in r["stages"].items())
    print(
        f"{label:<12} process {r['wall_seconds']:6.2f} s"
        f" | build_repo_map {r['build_seconds']:6.2f} s wall,"
        f" {r['build_cpu_seconds']:6.2f} s CPU ({per_1000:.2f} s wall per 1,000 files)"
        f" | peak {r['peak_mb']:4.0f} MB | parsed {r['parsed']}, cache hits {r['hits']}"
        f" | load average {r['load']}"
    )
    print(f"{'':<14} stages (s): {stages}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="5.1")
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3, help="warm and changed runs each")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        repo, state, tokens = args.child
        print(json.dumps(one_run(Path(repo), Path(state), int(tokens))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(sdist(args.version), Path(tmp))
        state = Path(tmp) / "state"
        cold = measure(repo, state, args.tokens)
        print(
            f"Django {args.version}: {cold['tracked']} tracked files, {cold['files']} mapped, "
            f"{cold['definitions']} definitions, map {cold['tokens']} tokens"
        )
        print(f"top files: {cold['top']}")
        show("cold", cold)
        for i in range(args.rounds):
            show(f"warm #{i + 1}", measure(repo, state, args.tokens))
        target = repo / "django" / "db" / "models" / "query.py"
        for i in range(args.rounds):
            with target.open("a") as handle:
                handle.write(f"\n\ndef _benchmark_touch_{i}():\n    return {i}\n")
            show(f"1 changed #{i + 1}", measure(repo, state, args.tokens))


if __name__ == "__main__":
    main()
