"""swc's own overhead for one `swc fix` run, excluding the time the project's tests take.

A synthetic repository of about 1,000 Python files (one of them buggy) and an instant
loopback model: everything the engine does besides running tests is swc's overhead.
Prints the total, the test time subtracted, and where the rest went (a stage profile).
Target (issue 6): under 5 s on these 2-core machines.

Then the time from the start of a run to its first model request, each in a fresh
process (litellm's import is paid once per process): "before", litellm imported and the
credentials checked first, on the critical path, as runs did until issue 13; "after",
the run as it is, importing litellm and checking credentials in a background thread while
the worktree, map and baseline are prepared.

    python benchmarks/engine.py [--files 1000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from engine.conftest import BUGGY_OPS, EXISTING_TEST, Script  # noqa: E402
from fakes.openai_server import FakeOpenAI  # noqa: E402

MODULE = '''"""Module {i} of the synthetic package."""


class Widget{i}:
    def __init__(self, size):
        self.size = size

    def area_{i}(self):
        return self.size * self.size


def helper_{i}(values):
    return [v + {i} for v in values]
'''


def make_repo(root: Path, files: int, baseline_seconds: float = 0.0) -> None:
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(BUGGY_OPS)
    slow = (
        f"\n\ndef test_io():\n    import time\n\n    time.sleep({baseline_seconds})\n"
        if baseline_seconds
        else ""
    )
    (root / "tests" / "test_ops.py").write_text(EXISTING_TEST + slow)
    for i in range(files - 3):
        package = root / "pkg" / f"sub{i // 50}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"mod{i}.py").write_text(MODULE.format(i=i))

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("-c", "user.email=b@example.com", "-c", "user.name=bench", "commit", "-qm", "init")


def timed(table: dict[str, float], name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            table[name] += time.perf_counter() - start

    return wrapper


def settings_for(root: Path, base_url: str) -> Any:
    from swcollab.config import load_settings

    os.environ["BENCH_KEY"] = "x"
    flags = {
        "weak.model": "openai/weak-model",
        "strong.model": "openai/strong-model",
        "weak.api_base": base_url,
        "strong.api_base": base_url,
        "weak.api_key_env": "BENCH_KEY",
        "strong.api_key_env": "BENCH_KEY",
        "weak.candidates": 1,
        "weak.tests": 1,
        "test_cmd": f"{sys.executable} -m pytest -q",
    }
    return load_settings(root, flags, environ={})


def first_request(root: Path, mode: str) -> None:
    """In a fresh process: seconds from the run's start to its first model request."""
    import swcollab.engine.fix as engine_fix
    from swcollab.engine import FixRequest
    from swcollab.gitrepo import find_repo
    from swcollab.models import Budget
    from swcollab.models.client import ModelClient
    from swcollab.task import task_from_prompt

    first: list[float] = []
    complete = ModelClient.complete

    def noted(self: Any, *args: Any, **kwargs: Any) -> Any:
        first.append(time.perf_counter())
        return complete(self, *args, **kwargs)

    ModelClient.complete = noted  # type: ignore[method-assign]
    with FakeOpenAI() as fake:
        fake.set_handler(Script().answer)
        settings = settings_for(root, fake.base_url)
        repo = find_repo(root)
        assert repo is not None
        request = FixRequest(
            task=task_from_prompt("add(2, 3) returns -1 instead of 5"),
            repo=repo,
            settings=settings,
            leave_branch=False,
        )
        start = time.perf_counter()
        if mode == "before":  # what run_fix did first until issue 13
            with ModelClient(settings, budget=Budget(settings.budget)) as probe:
                probe.check_credentials()
                probe.price("weak")
        result = engine_fix.run_fix(request)
    print(json.dumps({"first_request_s": first[0] - start, "verdict": result.verdict}))


def compare_first_request(root: Path, rounds: int) -> None:
    seconds: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(rounds):
        for mode in seconds:
            proc = subprocess.run(
                [sys.executable, __file__, "--first-request", mode, "--repo", str(root)],
                capture_output=True,
                text=True,
                check=True,
            )
            seconds[mode].append(json.loads(proc.stdout.splitlines()[-1])["first_request_s"])
    print("time to the first model request (fresh process each, warm tag cache):")
    for mode, values in seconds.items():
        shown = " / ".join(f"{v:.2f}" for v in values)
        print(f"  {mode:6s} {shown} s   (median {statistics.median(values):.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=0.0,
        help="an existing test that waits this long (a project whose tests "
        "take time): the baseline run the import overlaps",
    )
    parser.add_argument("--first-request", choices=("before", "after"), help=argparse.SUPPRESS)
    parser.add_argument("--repo", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_request:
        first_request(args.repo, args.first_request)
        return

    import swcollab.engine.fix as engine_fix
    import swcollab.sandbox as sandbox
    from swcollab.engine import FixRequest
    from swcollab.gitrepo import find_repo
    from swcollab.models.client import ModelClient
    from swcollab.task import task_from_prompt

    profile: dict[str, float] = defaultdict(float)
    sandbox.run_tests = timed(profile, "tests (excluded)", sandbox.run_tests)
    engine_fix.build_context = timed(
        profile, "context (repo map + files)", engine_fix.build_context
    )
    ModelClient.complete = timed(profile, "model calls (litellm, ledger)", ModelClient.complete)
    original_worktree = sandbox.Worktree
    sandbox.Worktree = timed(profile, "worktree create", original_worktree)  # type: ignore

    # litellm's import is paid once by any process that calls a model; it is measured
    # apart, so the figure below is what swc itself does per run.
    start = time.perf_counter()
    import litellm  # noqa: F401

    litellm_import = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        make_repo(root, args.files, args.baseline_seconds)
        with FakeOpenAI() as fake:
            fake.set_handler(Script().answer)
            repo = find_repo(root)
            assert repo is not None
            request = FixRequest(
                task=task_from_prompt("add(2, 3) returns -1 instead of 5"),
                repo=repo,
                settings=settings_for(root, fake.base_url),
            )
            start = time.perf_counter()
            result = engine_fix.run_fix(request)
            total = time.perf_counter() - start
        _overhead(args.files, result, total, profile, litellm_import)
        compare_first_request(root, args.rounds)


def _overhead(
    files: int, result: Any, total: float, profile: dict[str, float], litellm_import: float
) -> None:
    test_time = profile["tests (excluded)"]
    print(f"repository: {files} files; verdict: {result.verdict}; calls: {result.calls}")
    print(f"total wall time:        {total:7.2f} s")
    print(f"test execution:         {test_time:7.2f} s (excluded)")
    print(f"swc overhead:           {total - test_time:7.2f} s  (target < 5 s)")
    print(f"litellm import (once per process, before the run): {litellm_import:.2f} s")
    print("where the overhead goes:")
    for name, seconds in sorted(profile.items(), key=lambda kv: -kv[1]):
        if name != "tests (excluded)":
            print(f"  {name:32s} {seconds:7.2f} s")
    accounted = sum(v for k, v in profile.items() if k != "tests (excluded)")
    print(f"  {'other (git, branch, report)':32s} {total - test_time - accounted:7.2f} s")


if __name__ == "__main__":
    main()
