"""The task a command's options name: a prompt, a prompt file, test output, the failing
tests of a run, or a GitHub issue (``swc fix`` and ``swc context`` share it)."""

from __future__ import annotations

from typing import Any

from ..config import Settings
from ..gitrepo import RepoPaths
from ..output import info
from ..task import Task, read_prompt_file, task_from_prompt


def task_for(repo: RepoPaths, settings: Settings, options: dict[str, Any]) -> tuple[Task, Any]:
    """The task the options name, and the issue's handles when it is one."""
    if options["issue_ref"]:
        return _issue_task(repo, options)
    return _task(repo, settings, options), None


def _task(repo: RepoPaths, settings: Settings, options: dict[str, Any]) -> Task:
    user_tests = tuple(options["user_tests"])
    if options["prompt"]:
        return task_from_prompt(options["prompt"], user_tests=user_tests)
    if options["prompt_file"]:
        return task_from_prompt(read_prompt_file(options["prompt_file"]), user_tests=user_tests)
    if options.get("test_output"):
        from ..engine.intake import task_from_test_output

        source = options["test_output"]
        return task_from_test_output(_read_test_output(source), source=f"--test-output {source}")
    from ..engine.intake import task_from_test_run

    info("running the tests to find what fails...")
    return task_from_test_run(
        repo,
        settings,
        base=options["base"],
        include_dirty=options["include_dirty"],
        user_tests=user_tests,
    )


MAX_TEST_OUTPUT_BYTES = 20_000_000


def _read_test_output(path: str) -> str:
    """``--test-output FILE`` ('-' for standard input); only its end matters, if it is long."""
    import sys
    from pathlib import Path

    from ..errors import UsageError

    if path == "-":
        return sys.stdin.read()
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--test-output {path}: no such file")
    if file.stat().st_size > MAX_TEST_OUTPUT_BYTES:
        raise UsageError(f"--test-output {path}: larger than {MAX_TEST_OUTPUT_BYTES} bytes")
    return file.read_text(encoding="utf-8", errors="replace")


def _issue_task(repo: RepoPaths, options: dict[str, Any]) -> tuple[Task, Any]:
    from ..github import GitHubClient, issue_task_text, resolve_issue_ref

    ref = resolve_issue_ref(options["issue_ref"], repo.root, remote=options["remote"])
    client = GitHubClient(ref.api_url)
    issue = client.get_issue(ref)
    task = Task(
        kind="issue",
        title=issue.title or f"issue {issue.number}",
        text=issue_task_text(issue),
        slug=f"issue-{issue.number}",
        issue_number=issue.number,
        issue_url=issue.html_url,
        user_tests=tuple(options["user_tests"]),
        labels=tuple(issue.labels),
    )
    return task, (client, ref, issue)
