"""Mine eval tasks from the repository's own history, the way SWE-bench was built.

A candidate is a non-merge commit reachable from the range (all parents followed: fixes
often arrive through merges) that changes source files and test files. Its parent is the
base, its message the task text, its test changes the hidden tests, its other changes
the gold patch. FAIL_TO_PASS are the tests that fail on the base with the test changes
applied and pass at the commit; PASS_TO_PASS those that pass on both. A commit where no
test goes from failing to passing is skipped, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import gitops
from .hidden import TestConfig, detect, probe
from .tasks import EvalTask, Skip

FAILING = ("failed", "error", "missing")


class MineCache(Protocol):
    """Where the outcome of mining one commit is kept, so a repeated eval does not redo it."""

    def mined(self, sha: str, key: str) -> EvalTask | Skip | None: ...

    def remember_mined(self, sha: str, key: str, outcome: EvalTask | Skip) -> None: ...


@dataclass
class MineResult:
    tasks: list[EvalTask] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    examined: int = 0


def _is_test(path: str) -> bool:
    from ..ecosystems import is_test_path

    return is_test_path(path)


def _is_source(path: str) -> bool:
    from ..treesitter import language_for_path

    return not _is_test(path) and language_for_path(path) is not None


def _runnable_test(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return _is_test(path) and name != "conftest.py" and "/fixtures/" not in "/" + path


def classify(root: Path, sha: str) -> tuple[str, list[str], list[str]] | Skip:
    """The parent, the test files and the other files a commit changes, or why it is no task."""
    parents = gitops.parents(root, sha)
    changed = gitops.changed_paths(root, parents[0], sha) if len(parents) == 1 else []
    return classify_changes(sha, parents, changed)


def classify_changes(
    sha: str, parents: list[str], changed: list[str]
) -> tuple[str, list[str], list[str]] | Skip:
    if len(parents) != 1:
        return Skip(
            sha, "mine", "root commit: no parent to start from" if not parents else "merge commit"
        )
    tests = [p for p in changed if _is_test(p)]
    others = [p for p in changed if not _is_test(p)]
    if not tests:
        return Skip(sha, "mine", "changes no test files")
    if not any(_is_source(p) for p in others):
        return Skip(sha, "mine", "changes no source files")
    return parents[0], tests, others


def mine_commit(
    root: Path,
    sha: str,
    config: TestConfig,
    repo_name: str,
    shape: tuple[str, list[str], list[str]] | Skip | None = None,
) -> EvalTask | Skip:
    """One commit into a task (running its test changes on the parent and at the commit)."""
    from ..errors import SwcError
    from ..sandbox import Worktree

    shape = classify(root, sha) if shape is None else shape
    if isinstance(shape, Skip):
        return shape
    parent, tests, others = shape
    test_patch = gitops.diff(root, parent, sha, tests)
    gold = gitops.diff(root, parent, sha, others)
    try:
        with Worktree(root, parent) as tree:
            if gitops.apply_patch(tree.path, test_patch):
                return Skip(sha, "mine", "its test changes do not apply to its parent")
            command = detect(tree.path, config, root)
            if command is None:
                return Skip(sha, "mine", "no test command (set test_cmd or pass --test-cmd)")
            files = [p for p in tests if _runnable_test(p) and (tree.path / p).is_file()]
            if not files:
                return Skip(sha, "mine", "changes no runnable test file")
            before = probe(tree.path, command, config, files=files)
            if before.error:
                return Skip(sha, "mine", "the test command errors on the base: " + before.error)
            if gitops.apply_patch(tree.path, gold):
                return Skip(sha, "mine", "its source changes do not apply to its parent")
            after = probe(tree.path, command, config, files=files)
    except SwcError as exc:
        return Skip(sha, "mine", f"cannot prepare the base: {exc.message}")
    if after.error:
        return Skip(sha, "mine", "the test command errors at the commit: " + after.error)
    passing = sorted(t for t, s in after.statuses.items() if s == "passed")
    fail_to_pass = [t for t in passing if before.statuses.get(t, "missing") in FAILING]
    pass_to_pass = [t for t in passing if before.statuses.get(t) == "passed"]
    if not fail_to_pass:
        return Skip(sha, "mine", "no test goes from failing to passing")
    return EvalTask(
        instance_id=f"{repo_name.rsplit('/', 1)[-1]}-{sha[:12]}",
        repo=repo_name,
        base_commit=parent,
        problem_statement=gitops.message(root, sha),
        patch=gold,
        test_patch=test_patch,
        fail_to_pass=tuple(fail_to_pass),
        pass_to_pass=tuple(pass_to_pass),
        created_at=gitops.commit_date(root, sha),
        source="history",
        extra={"fix_commit": sha},
    )


def mine_history(
    root: Path,
    config: TestConfig,
    *,
    rev_range: str = "HEAD",
    limit: int | None = None,
    cache: MineCache | None = None,
    on_progress: Callable[[str], None] | None = None,
    issue_reader: Callable[[str], str | None] | None = None,
) -> MineResult:
    """Tasks from the newest commits of ``rev_range`` backwards, until ``limit`` are found."""
    repo_name = gitops.repo_identity(root)
    key = (config.command or "detected") + ("|issues" if issue_reader else "")
    result = MineResult()
    for sha, parents, changed in gitops.log_changes(root, rev_range):
        if limit is not None and len(result.tasks) >= limit:
            break
        result.examined += 1
        outcome = cache.mined(sha, key) if cache is not None else None
        if outcome is None:
            shape = classify_changes(sha, parents, changed)
            if not isinstance(shape, Skip) and on_progress is not None:
                on_progress(f"mining {sha[:10]}: running its tests on the parent and the commit")
            outcome = mine_commit(root, sha, config, repo_name, shape)
            if issue_reader is not None and isinstance(outcome, EvalTask):
                outcome = with_issue(outcome, issue_reader)
            if cache is not None:
                cache.remember_mined(sha, key, outcome)
        if isinstance(outcome, Skip):
            result.skips.append(outcome)
        else:
            result.tasks.append(outcome)
    return result


def with_issue(task: EvalTask, reader: Callable[[str], str | None]) -> EvalTask:
    """The task text with the issue its commit message names, when there is one."""
    from dataclasses import replace

    text = reader(task.problem_statement)
    if not text:
        return task
    return replace(task, problem_statement=f"{task.problem_statement}\n\n{text}")
