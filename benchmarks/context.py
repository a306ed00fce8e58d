"""Does the weak tier see the code it must change? Measured on real fixes from git history.

For each fix mined from a repository's history (the shape ``swc eval --from-history``
mines: a non-merge commit changing test files and source files; its parent is the base,
its message the task text), the context is built at the base with the default budgets
(``map_tokens``; the weak tier's 64,000 tokens of code, for a model whose window takes
them, and the other tiers' 16,000), exactly as ``swc fix`` builds it, and the fix's
source hunks are checked against what the context shows:

- a hunk that removes or changes lines: every such line (old numbering) must be shown;
- a pure addition: a line next to the insertion point must be shown (the model needs it
  to anchor the new lines);
- hunks in files the fix creates ask for nothing (there is nothing to show yet).

"Shown" means a line of the files part (spans or whole files) or a signature line of the
repo map. Non-source files (changelogs, docs) do not count; test files are the hidden
tests. The mined tests are not run (that only decides whether the hidden tests can judge
a fix, not what the model is shown), so no project environment is needed.

Only small changes count (at most 3 source files and 40 removed or changed lines):
larger commits are refactors and reformatting, not fixes a model is asked for. Each
task is also marked a *real fix* or not (``realfix.py``: the source change changes code,
not only comments or formatting, and the commit adds or changes a test), decided from
the diff alone; the share is reported over all mined tasks and over real fixes.

Splits, by position in each history (newest first):
``dev``: the 40 newest fixes of jinja, markupsafe, requests and itsdangerous (markupsafe
and itsdangerous have only 16 each) and fixes 121-200 of jinja and requests (context
selection was developed looking at these one by one); ``held-out``: fixes 41-120 of
jinja and requests, looked at only as a share, never one by one; ``held-out-2``: fixes
201-280 of jinja and requests, added when the weak tier's budget was chosen, run once.

    python benchmarks/context.py [--split dev|held-out|held-out-2|all] [--budgets 16000,64000]
                                 [--verbose] [--json]
    PYTHONPATH=/path/to/other/checkout python benchmarks/context.py   # another version
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if "PYTHONPATH" not in os.environ:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from realfix import is_real_fix  # noqa: E402

from swcollab.config import Settings  # noqa: E402
from swcollab.engine.context import build_context, is_test_path  # noqa: E402
from swcollab.evaluation import gitops  # noqa: E402
from swcollab.evaluation.mining import classify_changes  # noqa: E402
from swcollab.evaluation.tasks import Skip  # noqa: E402
from swcollab.task import task_from_prompt  # noqa: E402
from swcollab.treesitter import language_for_path  # noqa: E402

BUNDLES = Path(os.environ.get("SWC_BUNDLES", ROOT.parent / "shared" / "repos"))
REPOS = ("jinja", "markupsafe", "requests", "itsdangerous")
# (repository, first, last): positions of the fixes taken from each history, newest first.
SPLITS: dict[str, list[tuple[str, int, int]]] = {
    "dev": [(name, 0, 40) for name in REPOS] + [("jinja", 120, 200), ("requests", 120, 200)],
    "held-out": [("jinja", 40, 120), ("requests", 40, 120)],
    # Added when the weak tier's budget was chosen (64,000): older fixes, run only for
    # the share, to check the held-out figure on tasks no choice was made with.
    "held-out-2": [("jinja", 200, 280), ("requests", 200, 280)],
}
MAX_SOURCE_FILES = 3
MAX_CHANGED_LINES = 40
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.M)


@dataclass
class Hunk:
    path: str
    old_start: int
    old_count: int

    def needed(self) -> tuple[set[int], bool]:
        """Lines that must be shown, and whether any one of them is enough (addition)."""
        if self.old_count:
            return set(range(self.old_start, self.old_start + self.old_count)), False
        return {self.old_start, self.old_start + 1} - {0}, True


@dataclass
class FixTask:
    repo: str
    sha: str
    parent: str
    message: str
    hunks: list[Hunk] = field(default_factory=list)
    new_files: tuple[str, ...] = ()
    real: bool = False  # a real fix by realfix.py's rules

    @property
    def files(self) -> list[str]:
        return sorted({h.path for h in self.hunks})


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True, errors="replace"
    ).stdout


def clone(name: str, cache: Path) -> Path:
    dest = cache / name
    if not (dest / ".git").is_dir():
        subprocess.run(
            ["git", "clone", "-q", str(BUNDLES / f"{name}.bundle"), str(dest)], check=True
        )
    return dest


def fix_tasks(root: Path, name: str, first: int, last: int) -> tuple[list[FixTask], dict[str, int]]:
    """Fix-like commits number ``first`` to ``last`` (0-based, newest first) as tasks."""
    tasks: list[FixTask] = []
    skipped: dict[str, int] = {}
    found = 0
    for sha, parents, changed in gitops.log_changes(root, "origin/HEAD"):
        if found >= last:
            break
        shape = classify_changes(sha, parents, changed)
        if isinstance(shape, Skip):
            continue
        parent, tests, others = shape
        message = gitops.message(root, sha)
        sources = [p for p in others if language_for_path(p) and not is_test_path(p)]
        why = _not_a_fix(message, sources)
        task = None if why else _task(root, name, sha, parent, message, sources)
        if task is not None and sum(h.old_count for h in task.hunks) > MAX_CHANGED_LINES:
            why = f"more than {MAX_CHANGED_LINES} changed lines"
        if why:
            skipped[why] = skipped.get(why, 0) + 1
            continue
        assert task is not None
        found += 1
        if found > first:
            task.real = is_real_fix(root, sha, parent, sources, tests)
            tasks.append(task)
    return tasks, skipped


def _not_a_fix(message: str, sources: list[str]) -> str:
    if len(sources) > MAX_SOURCE_FILES:
        return f"more than {MAX_SOURCE_FILES} source files"
    return ""


def _task(
    root: Path, name: str, sha: str, parent: str, message: str, sources: list[str]
) -> FixTask:
    existing = set(git(root, "ls-tree", "-r", "--name-only", parent, "--", *sources).split())
    task = FixTask(
        name, sha, parent, message, new_files=tuple(p for p in sources if p not in existing)
    )
    for path in sources:
        if path not in existing:
            continue
        diff = git(root, "diff", "-U0", "--no-color", "--no-renames", parent, sha, "--", path)
        for m in _HUNK.finditer(diff):
            count = 1 if m.group(2) is None else int(m.group(2))
            task.hunks.append(Hunk(path, int(m.group(1)), count))
    return task


def shown_lines(context: Any, root: Path) -> dict[str, set[int]]:
    """Line numbers each file shows (its ``ranges``, or all of a file shown whole), and
    the signature lines of the repo map."""
    shown: dict[str, set[int]] = {}
    for file in context.files:
        lines = shown.setdefault(file.path, set())
        if file.whole:
            lines.update(range(1, file.total_lines + 1))
        for first, last in file.ranges:
            lines.update(range(first, last + 1))
    _map_lines(context.repo_map, root, shown)
    return shown


def _map_lines(text: str, root: Path, shown: dict[str, set[int]]) -> None:
    """Signature lines of the map whose text is the whole line of the file."""
    path = None
    cache: dict[str, list[str]] = {}
    for line in text.split("\n"):
        if line and not line[0].isspace() and line.endswith(":") and "│" not in line:
            path = line[:-1]
            continue
        m = re.match(r"^\s*(\d+)│(.*)$", line)
        if not m or path is None:
            continue
        if path not in cache:
            try:
                cache[path] = (
                    (root / path).read_text(encoding="utf-8", errors="replace").split("\n")
                )
            except OSError:
                cache[path] = []
        number = int(m.group(1))
        source = cache[path]
        if number <= len(source) and source[number - 1].strip() == m.group(2).strip():
            shown.setdefault(path, set()).add(number)


def covered(task: FixTask, shown: dict[str, set[int]]) -> tuple[bool, int, int]:
    """(every hunk covered, lines needed, lines missed)."""
    ok, needed_total, missed_total = True, 0, 0
    for hunk in task.hunks:
        needed, any_one = hunk.needed()
        have = shown.get(hunk.path, set())
        if any_one:
            needed_total += 1
            if not needed & have:
                ok, missed_total = False, missed_total + 1
        else:
            needed_total += len(needed)
            missed = len(needed - have)
            missed_total += missed
            ok = ok and not missed
    return ok, needed_total, missed_total


def tokenizer(model: str) -> tuple[Callable[[str], int] | None, float | None]:
    """litellm's token counter for ``model`` and its input price per token (the local cost
    map), or None: the benchmark then reports shares only."""
    try:
        import litellm
    except ImportError:
        return None, None
    info = litellm.model_cost.get(model) or {}

    def count(text: str) -> int:
        return int(litellm.token_counter(model=model, text=text))

    return count, info.get("input_cost_per_token")


def run_task(
    root: Path,
    task: FixTask,
    settings: Settings,
    state: Path,
    budgets: list[int],
    count: Callable[[str], int] | None = None,
) -> dict[str, Any]:
    """Whether the fix's lines are shown at each budget; details at the first budget;
    with ``count``, the real tokens of the map and of the code shown at each budget."""
    git(root, "checkout", "-q", "-f", "--detach", task.parent)
    git(root, "clean", "-q", "-fdx")
    row: dict[str, Any] = {
        "repo": task.repo,
        "sha": task.sha[:12],
        "real": task.real,
        "files": task.files,
        "title": task.message.splitlines()[0][:70],
        "ok_at": {},
        "tokens_at": {},
    }
    for budget in budgets:
        started = time.perf_counter()
        context, _warnings = build_context(
            root,
            task_from_prompt(task.message),
            map_tokens=settings.map_tokens,
            context_tokens=budget,
            state_dir=state,
            max_file_size=settings.max_file_size,
        )
        seconds = time.perf_counter() - started
        ok, needed, missed = covered(task, shown_lines(context, root))
        row["ok_at"][budget] = ok
        if count is not None:
            code = "\n".join(f.text for f in context.files)
            row["tokens_at"][budget] = [count(context.repo_map), count(code)]
        if "ok" in row:
            continue
        ranked = list(context.ranked_paths)
        row.update(
            ok=ok,
            needed=needed,
            missed=missed,
            file_ranks=[ranked.index(p) + 1 if p in ranked else None for p in task.files],
            shown_files=[f.path for f in context.files],
            seconds=round(seconds, 2),
        )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="all")
    parser.add_argument(
        "--budgets",
        default="",
        help="context_tokens values to measure, comma-separated (default: the weak tier's "
        "and the other tiers' defaults)",
    )
    parser.add_argument(
        "--price-model",
        default="gpt-4o-mini",
        help="model whose tokenizer counts the context and whose price it is costed at",
    )
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "swc-bench")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--verbose", "-v", action="store_true", help="one line per task")
    args = parser.parse_args()

    settings = Settings()
    count, price = tokenizer(args.price_model)
    defaults = [settings.context_tokens_for("weak"), settings.context_tokens]
    budgets = [int(b) for b in args.budgets.split(",") if b.strip()] or defaults
    splits = SPLITS if args.split == "all" else {args.split: SPLITS[args.split]}
    args.cache.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict[str, Any]]] = {}
    print(f"budgets: map_tokens={settings.map_tokens} context_tokens={budgets}", file=sys.stderr)
    for split, ranges in splits.items():
        results[split] = []
        for name, first, last in ranges:
            root = clone(name, args.cache)
            tasks, skipped = fix_tasks(root, name, first, last)
            print(
                f"{name}: fixes {first + 1}-{first + len(tasks)}, "
                f"{sum(t.real for t in tasks)} real; skipped {skipped}",
                file=sys.stderr,
            )
            with tempfile.TemporaryDirectory() as state:
                for task in tasks:
                    row = run_task(root, task, settings, Path(state), budgets, count)
                    results[split].append(row)
                    if args.verbose:
                        print(_line(row), file=sys.stderr)
            git(root, "checkout", "-q", "-f", "--detach", "origin/HEAD")
    summary = {
        split: {
            kind: {str(b): _share(rows, b, real_only=kind == "real") for b in budgets}
            for kind in ("all", "real")
        }
        for split, rows in results.items()
    }
    if args.json:
        print(json.dumps({"budgets": budgets, "summary": summary, "tasks": results}, indent=2))
        return
    print(f"{'split':9s} {'tasks':12s}" + "".join(f"{b:>16d}" for b in budgets))
    for split, kinds in summary.items():
        for kind, by_budget in kinds.items():
            label = "all mined" if kind == "all" else "real fixes"
            cells = "".join(
                f"{f'{h}/{t} ({100.0 * h / max(1, t):.0f} %)':>16s}" for h, t in by_budget.values()
            )
            print(f"{split:9s} {label:12s}{cells}")
    every = [row for rows in results.values() for row in rows]
    if count is not None:
        _print_tokens(every, budgets, args.price_model, price)
    print(
        f"mean {sum(r['seconds'] for r in every) / max(1, len(every)):.2f} s per context "
        f"over {len(every)} tasks"
    )


def _print_tokens(
    rows: list[dict[str, Any]], budgets: list[int], model: str, price: float | None
) -> None:
    """Real tokens of what was shown, by ``model``'s tokenizer, and what one request's map
    and code cost at its input price."""
    print(f"counted with {model}'s tokenizer:")
    for budget in budgets:
        pairs = [r["tokens_at"][budget] for r in rows if budget in r["tokens_at"]]
        if not pairs:
            continue
        code = [c for _m, c in pairs]
        prompt = sum(m + c for m, c in pairs) / len(pairs)
        cost = f", ${prompt * price:.4f} per request" if price else ""
        print(
            f"  context_tokens {budget}: code {sum(code) / len(code):,.0f} tokens on average "
            f"(max {max(code):,}), map + code {prompt:,.0f}{cost}"
        )


def _share(rows: list[dict[str, Any]], budget: int, *, real_only: bool) -> tuple[int, int]:
    kept = [r for r in rows if r["real"] or not real_only]
    return sum(1 for r in kept if r["ok_at"][budget]), len(kept)


def _line(row: dict[str, Any]) -> str:
    mark = "ok  " if row["ok"] else "MISS"
    ranks = ",".join(str(r) for r in row["file_ranks"])
    real = "real" if row["real"] else "    "
    return (
        f"{mark} {real} {row['repo']:12s} {row['sha']} missed {row['missed']:3d}/"
        f"{row['needed']:3d} rank {ranks:6s} {row['title']}"
    )


if __name__ == "__main__":
    main()
