"""``swc eval``: resolve rate and cost per strategy and model pair, judged by hidden tests.

Tasks come from SWE-bench-style JSONL or are mined from the repository's own history;
every run goes through the same engine as ``swc fix`` (``engine.fix.run_fix``).
Light to import: the engine, the sandbox and matplotlib load when they are needed.
"""

from __future__ import annotations

from .combos import Combination, Pair, parse_pair, parse_shard, parse_strategies
from .store import EVAL_DB, EvalStore, RunRecord
from .tasks import EvalTask, Skip, read_jsonl, task_from_json, write_jsonl

__all__ = [
    "EVAL_DB",
    "Combination",
    "EvalStore",
    "EvalTask",
    "Pair",
    "RunRecord",
    "Skip",
    "parse_pair",
    "parse_shard",
    "parse_strategies",
    "read_jsonl",
    "task_from_json",
    "write_jsonl",
]
