"""Bad input within the limits: is every stage linear in the task text and in each file?

A task may be 1,000,000 bytes (``--prompt-file``, standard input) and a mapped file too
(``max_file_size``). Adversarial shapes of both are built here: one long "word" (a base64
blob from a pasted log, one letter repeated, ``aB``/``a_``/``a.``/``a/``/``a+`` repeated,
backticks, newlines, ``path.py:1:`` runs, stack-frame lines, a CamelCase trap that made a
regular expression backtrack exponentially), and files that are one huge line, a
200,000-level-deep expression (``f(a)+f(a)+...``, a minified bundle's shape) or
thousands of small definitions.

For each task shape and size, the stages that read the task text are timed in-process
(focus, stack frames, search terms); then ``swc context`` runs end to end on a small
repository, as a user runs it (a new process: start-up included, see the baseline row).
For each file shape and size, ``swc context`` runs on a repository holding that file.
A stage is linear when ten times the input takes about ten times as long.

    python benchmarks/bad_input.py                       # 100,000 and 999,000 bytes
    python benchmarks/bad_input.py --sizes 10000,100000 --shapes base64,camel-trap
    python benchmarks/bad_input.py --files-only          # only the file shapes
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from swcollab.engine.spans import task_terms, trace_lines  # noqa: E402
from swcollab.repomap import focus_from_text  # noqa: E402

PROJECT = {
    "shopcart/__init__.py": "def total(items):\n    return sum(i.price for i in items)\n",
    "shopcart/tax.py": "RATE = 0.2\n\n\ndef with_tax(amount):\n    return amount * (1 + RATE)\n",
    "tests/test_cart.py": "from shopcart import total\n\n\ndef test_empty():\n"
    "    assert total([]) == 0\n",
}


def task_shapes(size: int) -> dict[str, str]:
    rnd = random.Random(1)
    blob = base64.b64encode(rnd.randbytes(size * 3 // 4 + 3)).decode()[:size]
    return {
        "base64": blob,
        "letters": "a" * size,
        "camel": "aB" * (size // 2),
        "snake": "a_" * (size // 2),
        "dotted": "a." * (size // 2),
        "slashes": "a/" * (size // 2),
        "pluses": "a+" * (size // 2),
        "colons": "a.py:1:" * (size // 7),
        "backticks": "`" * size,
        "newlines": "\n" * size,
        "frames": 'File "x.py", line 1, in f\n' * (size // 27),
        "camel-trap": ("Aa" + "A" * 40 + "_ ") * (size // 44),
        "mixed": "".join(rnd.choice("aZ_./:+-@`(9 \n") for _ in range(size)),
    }


def file_shapes(size: int) -> dict[str, tuple[str, str]]:
    rnd = random.Random(2)
    blob = base64.b64encode(rnd.randbytes(size)).decode()[: size - 60]
    defs = "".join(f"def f{i}(a):\n    return a + {i}\n\n" for i in range(size // 37))
    return {
        "one-line": ("shopcart/blob.py", f'DATA = "{blob}"\n\n\ndef total():\n    pass\n'),
        "deep-js": ("shopcart/bundle.js", "var x = " + "f(a)+" * (size // 5 - 10) + "1;\n"),
        "many-defs": ("shopcart/many.py", defs),
        "camel-trap": ("shopcart/trap.py", ("Aa" + "A" * 40 + "_ = 1\n") * (size // 50)),
    }


def make_repo(root: Path, extra: dict[str, str]) -> Path:
    for rel, text in {**PROJECT, **extra}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    names = ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL")
    env = {**os.environ, **dict.fromkeys(names, "bench")}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "base"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)
    return root


def timed(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def swc_context(repo: Path, task_file: Path, timeout: float) -> str:
    """Wall seconds of ``swc context --prompt-file`` (or why it did not finish)."""
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
    argv = [sys.executable, "-m", "swcollab", "--repo", str(repo), "context"]
    argv += ["--prompt-file", str(task_file), "--weak", "openai/gpt-4o-mini", "--json"]
    started = time.perf_counter()
    try:
        done = subprocess.run(argv, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f">{timeout:.0f} (stopped)"
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return f"exit {done.returncode}: {done.stderr.decode(errors='replace').strip()[:80]}"
    return f"{seconds:.2f}"


def run_tasks(sizes: list[int], shapes: list[str] | None, timeout: float) -> None:
    print(f"{'task shape':<12} {'bytes':>9} {'focus s':>8} {'frames s':>8} {'terms s':>8}", end="")
    print("  swc context s")
    with tempfile.TemporaryDirectory(prefix="swc-bad-input-") as tmp:
        repo = make_repo(Path(tmp) / "repo", {})
        task_file = Path(tmp) / "task.txt"
        task_file.write_text("total() is wrong\n", encoding="utf-8")
        baseline = swc_context(repo, task_file, timeout)
        print(f"{'baseline':<12} {17:>9} {'':>8} {'':>8} {'':>8}  {baseline}")
        for size in sizes:
            for name, word in task_shapes(size).items():
                if shapes and name not in shapes:
                    continue
                text = "total() is wrong: " + word
                focus = timed(lambda text=text: focus_from_text(text))
                frames = timed(lambda text=text: trace_lines(text))
                terms = timed(lambda text=text: task_terms(text))
                task_file.write_text(text, encoding="utf-8")
                whole = swc_context(repo, task_file, timeout)
                print(
                    f"{name:<12} {len(text.encode()):>9} {focus:>8.3f} {frames:>8.3f} "
                    f"{terms:>8.3f}  {whole}",
                    flush=True,
                )


def run_files(sizes: list[int], shapes: list[str] | None, timeout: float) -> None:
    print(f"\n{'file shape':<12} {'bytes':>9}  swc context s (the task names the file)")
    for size in sizes:
        for name, (rel, text) in file_shapes(size).items():
            if shapes and name not in shapes:
                continue
            with tempfile.TemporaryDirectory(prefix="swc-bad-input-") as tmp:
                repo = make_repo(Path(tmp) / "repo", {rel: text})
                task_file = Path(tmp) / "task.txt"
                task_file.write_text(f"total() in {rel} is wrong\n", encoding="utf-8")
                whole = swc_context(repo, task_file, timeout)
            print(f"{name:<12} {len(text.encode()):>9}  {whole}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,999000", help="task sizes in characters")
    parser.add_argument("--file-sizes", default="250000,999000", help="file sizes in bytes")
    parser.add_argument("--shapes", help="only these shapes (comma-separated)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per swc context")
    parser.add_argument("--files-only", action="store_true")
    parser.add_argument("--tasks-only", action="store_true")
    args = parser.parse_args()
    shapes = args.shapes.split(",") if args.shapes else None
    if not args.files_only:
        run_tasks([int(s) for s in args.sizes.split(",")], shapes, args.timeout)
    if not args.tasks_only:
        run_files([int(s) for s in args.file_sizes.split(",")], shapes, args.timeout)


if __name__ == "__main__":
    main()
