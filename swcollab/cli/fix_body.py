"""The body of ``swc fix`` (imported only when the command runs, never for ``--help``)."""

from __future__ import annotations

from typing import Any

from ..engine import Event, FixRequest, RunResult
from ..errors import EXIT_ENVIRONMENT, Interrupted, SwcError
from ..gitrepo import RepoPaths
from ..interrupts import checkpoint
from ..output import StatusLine, error, print_json, say, warn
from ..report import exit_code_for, flaky_line, key_lines, result_as_json
from ..task import check_user_tests
from .common import AppContext
from .context_body import show
from .task_options import task_for

FLAG_KEYS = {
    "weak": "weak.model",
    "strong": "strong.model",
    "budget": "budget",
    "strategy": "strategy",
    "test_cmd": "test_cmd",
    "test_timeout": "test_timeout",
    "map_tokens": "map_tokens",
    "context_tokens": "context_tokens",
}


def run(app: AppContext, *, json_: bool, options: dict[str, Any]) -> int:
    check_user_tests(tuple(options["user_tests"]))
    from ..models._litellm import import_in_background

    import_in_background()  # 3-7 s, overlapped with reading the task and preparing the run
    repo = app.repo()
    flags = {key: options[flag] for flag, key in FLAG_KEYS.items()}
    settings = app.settings({**flags, "sandbox": "off" if options.get("no_sandbox") else None})
    task, issue = task_for(repo, settings, options)
    if options.get("show_context"):
        show(repo, settings, task, options, json_=json_)
        return 0
    request = FixRequest(
        task=task,
        repo=repo,
        settings=settings,
        base=options["base"],
        include_dirty=options["include_dirty"],
        keep_failed=options["keep_failed"],
        include_tests=not options["no_tests"],
    )
    from ..engine.fix import run_fix

    progress = Progress(enabled=True)
    with progress:
        result = run_fix(request, on_event=progress.event)
    try:
        checkpoint()  # nothing is published after a Ctrl-C, even one swallowed in the run
        if options["push"] or options["pr"] or options["comment"]:
            _publish(repo, result, issue, options)
        _render(result, json_=json_)
    except KeyboardInterrupt:
        if not result.branch:
            raise
        raise Interrupted(
            f"interrupted; the fix is on branch {result.branch} (look at it: "
            f"git diff HEAD...{result.branch})"
        ) from None
    if result.saved_diff:  # accepted, but no branch could hold it: say where it is
        error(result.error or "no branch could be made")
        return EXIT_ENVIRONMENT
    return exit_code_for(result.verdict)


def _publish(repo: RepoPaths, result: RunResult, issue: Any, options: dict[str, Any]) -> None:
    """Push, open a draft PR, comment: network problems never lose the local branch."""
    import os

    from ..github import push_branch
    from ..github.push import PUSH_TOKEN_VAR
    from ..report import render_markdown

    if result.branch and (options["push"] or options["pr"]):
        try:
            push_branch(
                repo.root,
                result.branch,
                options["remote"],
                token=os.environ.get(PUSH_TOKEN_VAR) or None,
            )
            if options["pr"]:
                result.pr_url = _open_pr(repo, result, issue, options, render_markdown(result))
        except SwcError as exc:
            result.warnings.append(exc.message + (f" {exc.hint}" if exc.hint else ""))
            warn(str(exc))
    if options["comment"] and issue is not None:
        client, ref, gh_issue = issue
        try:
            client.comment_on_issue(ref.owner, ref.repo, gh_issue.number, _comment(result))
        except SwcError as exc:
            result.warnings.append(exc.message)
            warn(exc.message)


def _open_pr(
    repo: RepoPaths, result: RunResult, issue: Any, options: dict[str, Any], body: str
) -> str:
    import os

    from ..github import GitHubClient, api_url_for_host, repo_from_remote

    if issue is not None:
        client, ref, _gh = issue
        owner, name = ref.owner, ref.repo
    else:
        remote = repo_from_remote(repo.root, options["remote"])
        if remote is None:
            raise SwcError(f"cannot tell the GitHub repository from remote {options['remote']}")
        api_url = os.environ.get("GITHUB_API_URL") or api_url_for_host(remote[0])
        client, owner, name = GitHubClient(api_url), remote[1], remote[2]
    title = ("Fix: " if result.verdict == "fixed" else "Unverified: ") + result.task.title
    if result.verdict == "fixed" and result.task.issue_number:
        body = f"Fixes #{result.task.issue_number}\n\n" + body
    base = client.default_branch(owner, name)
    return client.create_pull_request(
        owner, name, head=result.branch or "", base=base, title=title[:120], body=body, draft=True
    )


def _comment(result: RunResult) -> str:
    lines = [f"**swc** ran on this issue: {result.verdict.replace('_', ' ')}.", ""]
    lines += [f"- {line}" for line in key_lines(result)]
    if result.branch:
        lines.append(f"- Branch: `{result.branch}`")
    if result.pr_url:
        lines.append(f"- Draft pull request: {result.pr_url}")
    return "\n".join(lines)


def _render(result: RunResult, *, json_: bool) -> None:
    if json_:
        print_json(result_as_json(result))
        for warning in result.warnings:
            warn(warning)
        return
    colour = {"fixed": "green", "unverified": "yellow"}.get(result.verdict, "red")
    say(result.verdict.replace("_", " "), f"bold {colour}")
    for line in key_lines(result)[1:]:
        say(line)
    for change in result.winner.test_changes if result.winner else ():
        say(f"changed test: {change.test} ({change.kind}): {change.reason}")
    for review in result.needs_review:
        say(f"needs review: {review}", "bold yellow")
    for test in result.flaky_tests:
        say(f"flaky, not guarded: {flaky_line(test)}".replace("`", ""))
    for note in result.notes:
        say(f"note: {note}")
    for warning in result.warnings:
        warn(warning)
    if result.branch:
        say(f"branch: {result.branch}   (look at it: git diff HEAD...{result.branch})")
    elif result.patch_path:
        say(f"no branch: the accepted diff is in {result.patch_path}")
    elif result.verdict != "fixed":
        say("no branch was made (use --keep-failed to keep the best attempt)")
    if result.pr_url:
        say(f"pull request: {result.pr_url}")
    if result.report_path:
        say(f"report: {result.report_path}")


class Progress:
    """Live progress on stderr: a spinner line on a terminal, plain lines otherwise."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.status = StatusLine()

    def __enter__(self) -> Progress:
        if self.enabled:
            self.status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.status.__exit__(*exc)

    def event(self, event: Event) -> None:
        if not self.enabled:
            return
        cost = event.data.get("cost_usd")
        parts = [event.stage]
        if event.tier:
            parts.append(event.tier)
        line = f"[{' '.join(parts)}] {event.message}"
        if cost is not None:
            line += f"  (${cost:.4f})"
        if self.status.active:
            self.status.update(line)
            if event.stage in ("plan", "attempt", "tests", "route", "escalate", "guidance"):
                say(line, err=True)
        else:
            say(line, err=True)
