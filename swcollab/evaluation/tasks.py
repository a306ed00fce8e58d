"""Eval tasks in SWE-bench's instance format: reading, checking and writing JSONL.

A task is a problem statement at a base commit, a gold patch, and *hidden* tests (a test
patch plus the test ids that must go from failing to passing, and those that must keep
passing). The published SWE-bench files store the two id lists as JSON strings; both
forms are read, lists are written.

Malformed lines are never fatal: each becomes a ``Skip`` naming the line and the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUIRED_TEXT = ("instance_id", "repo", "base_commit", "problem_statement", "test_patch")
TEST_LISTS = ("FAIL_TO_PASS", "PASS_TO_PASS")


@dataclass(frozen=True)
class EvalTask:
    instance_id: str
    repo: str
    base_commit: str
    problem_statement: str
    patch: str
    test_patch: str
    fail_to_pass: tuple[str, ...]
    pass_to_pass: tuple[str, ...]
    created_at: str = ""
    source: str = "jsonl"  # "jsonl" | "history"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def title(self) -> str:
        for line in self.problem_statement.splitlines():
            if line.strip():
                return line.strip()[:120]
        return self.instance_id

    @property
    def hidden_test_files(self) -> tuple[str, ...]:
        return patch_files(self.test_patch)

    def to_json(self) -> dict[str, Any]:
        """The SWE-bench instance (lists as JSON lists) plus swc's own ``created_at``."""
        return {
            **self.extra,
            "instance_id": self.instance_id,
            "repo": self.repo,
            "base_commit": self.base_commit,
            "problem_statement": self.problem_statement,
            "patch": self.patch,
            "test_patch": self.test_patch,
            "FAIL_TO_PASS": list(self.fail_to_pass),
            "PASS_TO_PASS": list(self.pass_to_pass),
            "created_at": self.created_at,
            "swc_source": self.source,
        }


@dataclass(frozen=True)
class Skip:
    """A task (or a line, or a commit) left out, and why: counted in every report."""

    key: str  # instance id, "FILE:LINE" or a commit sha
    stage: str  # "load" | "repo" | "mine" | "check"
    reason: str


class TaskError(ValueError):
    """One instance cannot be used; the message names the field."""


def _text(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None:
        if required:
            raise TaskError(f"field {name!r} is missing")
        return ""
    if not isinstance(value, str):
        raise TaskError(f"field {name!r} must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise TaskError(f"field {name!r} is empty")
    return value


def _test_list(data: dict[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if isinstance(value, str):  # the published files hold JSON text here
        try:
            value = json.loads(value) if value.strip() else []
        except json.JSONDecodeError as exc:
            raise TaskError(f"field {name!r} is a string but not a JSON list: {exc.msg}") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TaskError(f"field {name!r} must be a list of test ids")
    return tuple(value)


def task_from_json(data: Any, *, source: str = "jsonl") -> EvalTask:
    """Build a task from one decoded instance; raises ``TaskError`` naming the bad field."""
    if not isinstance(data, dict):
        raise TaskError(f"an instance must be a JSON object, got {type(data).__name__}")
    texts = {name: _text(data, name) for name in REQUIRED_TEXT}
    fail_to_pass = _test_list(data, "FAIL_TO_PASS")
    if not fail_to_pass:
        raise TaskError("field 'FAIL_TO_PASS' is empty: nothing would show the fix")
    known = {*REQUIRED_TEXT, *TEST_LISTS, "patch", "created_at", "swc_source"}
    return EvalTask(
        instance_id=texts["instance_id"].strip(),
        repo=texts["repo"].strip(),
        base_commit=texts["base_commit"].strip(),
        problem_statement=texts["problem_statement"],
        patch=_text(data, "patch", required=False),
        test_patch=texts["test_patch"],
        fail_to_pass=fail_to_pass,
        pass_to_pass=_test_list(data, "PASS_TO_PASS"),
        created_at=str(data.get("created_at") or ""),
        source=str(data.get("swc_source") or source),
        extra={k: v for k, v in data.items() if k not in known},
    )


def read_jsonl(path: Path) -> tuple[list[EvalTask], list[Skip]]:
    """Every usable instance of ``path``, and a ``Skip`` per malformed or duplicate line."""
    tasks: list[EvalTask] = []
    skips: list[Skip] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                task = task_from_json(json.loads(line))
            except json.JSONDecodeError as exc:
                skips.append(
                    Skip(
                        where,
                        "load",
                        f"line {number}: not valid JSON ({exc.msg} at column {exc.colno})",
                    )
                )
                continue
            except TaskError as exc:
                skips.append(Skip(where, "load", f"line {number}: {exc}"))
                continue
            if task.instance_id in seen:
                skips.append(
                    Skip(
                        where, "load", f"line {number}: duplicate instance_id {task.instance_id!r}"
                    )
                )
                continue
            seen.add(task.instance_id)
            tasks.append(task)
    return tasks, skips


def write_jsonl(path: Path, tasks: Iterable[EvalTask]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for task in tasks:
            fh.write(json.dumps(task.to_json(), ensure_ascii=False) + "\n")
            count += 1
    return count


def patch_files(patch: str) -> tuple[str, ...]:
    """Paths a unified diff touches (its ``b/`` side, or ``a/`` for deletions)."""
    files: list[str] = []
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            parts = line.split(" b/", 1)
            if len(parts) == 2:
                files.append(parts[1].strip())
    return tuple(dict.fromkeys(files))


def test_files_of(ids: Iterable[str]) -> tuple[str, ...]:
    """The files holding pytest-style ids (``path::test``); other ids are kept whole."""
    return tuple(dict.fromkeys(i.split("::", 1)[0] for i in ids))


def repo_matches(task_repo: str, names: Iterable[str]) -> bool:
    """Whether an instance's ``repo`` (``owner/name``) is the current repository."""
    wanted = task_repo.strip().lower().removesuffix(".git")
    short = wanted.rsplit("/", 1)[-1]
    for name in names:
        name = name.lower()
        if name == wanted or name.rsplit("/", 1)[-1] == short:
            return True
    return False


def iter_lines(tasks: Iterable[EvalTask]) -> Iterator[str]:
    for task in tasks:
        yield json.dumps(task.to_json(), ensure_ascii=False)
