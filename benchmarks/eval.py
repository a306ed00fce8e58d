"""The eval harness's own overhead, excluding model and test time; and mining time.

A synthetic repository with about 1,000 commits (every tenth a fix that changes a source
file and adds a test). The test command is ``true`` (the project's tests take no time),
so what is measured is swc's own work: walking the history, classifying commits, making
worktrees, applying patches, judging, storing results.

    python benchmarks/eval.py [--commits 1000] [--fixes 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from swcollab.evaluation import gitops  # noqa: E402
from swcollab.evaluation.hidden import TestConfig, judge  # noqa: E402
from swcollab.evaluation.mining import classify_changes, mine_commit  # noqa: E402
from swcollab.evaluation.store import EvalStore, RunRecord  # noqa: E402
from swcollab.evaluation.tasks import EvalTask, Skip  # noqa: E402


def git(root: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True, input=stdin
    ).stdout


def make_repo(root: Path, commits: int) -> None:
    """``commits`` commits through fast-import (seconds, not minutes)."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    stream: list[str] = []
    for n in range(commits):
        files = {f"pkg/mod_{n % 50}.py": f"def f_{n}():\n    return {n}\n"}
        if n % 10 == 0:
            files[f"tests/test_mod_{n}.py"] = (
                f"from pkg.mod_{n % 50} import f_{n}\n\n\ndef test_{n}():\n"
                f"    assert f_{n}() == {n}\n"
            )
        if n % 7 == 0:
            files["README.md"] = f"# rev {n}\n"
        message = f"change {n}\n"
        stream.append(
            "commit refs/heads/main\n"
            f"committer Dev <dev@example.com> {1_700_000_000 + n} +0000\n"
            f"data {len(message)}\n{message}"
        )
        for path, text in files.items():
            stream.append(f"M 100644 inline {path}\ndata {len(text.encode())}\n{text}")
        stream.append("\n")
    git(root, "fast-import", "--quiet", stdin="".join(stream))
    git(root, "checkout", "-q", "main")


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--fixes", type=int, default=20, help="fix commits to mine and judge")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        _, seconds = timed(make_repo, root, args.commits)
        print(f"repository: {args.commits} commits made in {seconds:.1f}s")
        config = TestConfig("true", 60.0, False)

        started = time.perf_counter()
        log = gitops.log_changes(root, "HEAD")
        shapes = {sha: classify_changes(sha, parents, files) for sha, parents, files in log}
        walk = time.perf_counter() - started
        candidates = [s for s, shape in shapes.items() if not isinstance(shape, Skip)]
        print(
            f"walk and classify the history: {len(log)} commits in {walk * 1000:.0f} ms, "
            f"{len(candidates)} change source and tests"
        )

        mine_times = []
        tasks: list[EvalTask] = []
        for sha in candidates[: args.fixes]:
            outcome, seconds = timed(mine_commit, root, sha, config, "bench", shapes[sha])
            mine_times.append(seconds)
            if isinstance(outcome, EvalTask):
                tasks.append(outcome)
        print(
            f"mine one candidate (worktree, two patches, two test runs of `true`): median "
            f"{statistics.median(mine_times) * 1000:.0f} ms over {len(mine_times)}"
        )

        # With `true` no test goes from failing to passing: judge a hand-made task instead.
        sha = candidates[0]
        parent = gitops.parents(root, sha)[0]
        changed = gitops.changed_paths(root, parent, sha)
        tests = [p for p in changed if p.startswith("tests/")]
        task = EvalTask(
            "bench-1",
            "bench",
            parent,
            "msg",
            gitops.diff(root, parent, sha, [p for p in changed if p not in tests]),
            gitops.diff(root, parent, sha, tests),
            (tests[0],),
            (),
        )
        judge_times = [timed(judge, root, task, task.patch, config)[1] for _ in range(10)]
        print(
            f"judge one result (worktree, apply diff and hidden tests, run `true`): median "
            f"{statistics.median(judge_times) * 1000:.0f} ms over 10"
        )

        with EvalStore(Path(tmp) / "eval.db") as store:
            record = RunRecord(
                "t",
                "cascade",
                "w",
                "s",
                "0",
                "done",
                "fixed",
                True,
                0.01,
                3,
                0,
                "weak",
                1.0,
                0.1,
                task.patch,
                "",
                (),
                None,
            )
            started = time.perf_counter()
            for i in range(200):
                store.save_result(RunRecord(**{**record.__dict__, "task_id": f"t{i}"}))
            per = (time.perf_counter() - started) / 200
        print(f"store one result: {per * 1000:.2f} ms")
        per_task = statistics.median(judge_times) + per
        print(
            f"harness overhead per (task, combination) run, without the engine: "
            f"{per_task * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
