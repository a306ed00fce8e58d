"""``swc fix``: the product. Parses options, builds the task, runs the engine, renders."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from ..config import STRATEGIES
from ..errors import Terminated, UsageError
from .common import AppContext, json_option, pass_app

FIX_HELP = """Fix a problem and leave the fix on a new branch for review.

Say what to fix with exactly one of --prompt, --prompt-file, --from-failing-tests or
--issue. The weak model drafts candidate patches, generated reproduction tests judge
them in disposable worktrees, and the strong model takes over when they fail. Your
working tree, index and current branch are never touched.

\b
Examples:
  swc fix --prompt "parse_date('2024-02-30') should raise ValueError"
  swc fix --from-failing-tests --base main
  swc fix --issue 123 --push --pr
  swc fix --prompt-file bug.md --strategy strong-first --budget 0.50 --json

Exit codes: 0 fixed, 1 not fixed or unverified, 2 usage/configuration error,
3 environment error, 4 budget exhausted, 130 interrupted.
"""


def _stacked(*options: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """One decorator applying click options in the order they are listed (for --help)."""

    def decorate(func: Any) -> Any:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


task_options = _stacked(
    click.option("--prompt", "-p", help="What to fix, as text."),
    click.option(
        "--prompt-file",
        "-f",
        type=str,
        help="Read what to fix from a file ('-' for standard input).",
    ),
    click.option(
        "--from-failing-tests",
        is_flag=True,
        help="Run the test command; what fails (and its output) is the task.",
    ),
    click.option(
        "--issue", "-i", "issue_ref", help="GitHub issue: 123, owner/repo#123 or its URL."
    ),
    click.option(
        "--tests",
        "-t",
        "user_tests",
        multiple=True,
        help="A test file or test id you wrote that fails now and must pass (repeatable).",
    ),
)

_run_options = _stacked(
    click.option(
        "--strategy",
        "-s",
        type=click.Choice(STRATEGIES),
        help="How the tiers collaborate (default: cascade).",
    ),
    click.option("--weak", help="Weak model (overrides weak.model)."),
    click.option("--strong", help="Strong model (overrides strong.model)."),
    click.option("--budget", "-b", type=float, help="Most USD this run may spend."),
    click.option("--test-cmd", help="Command that runs the tests (default: detected)."),
    click.option("--test-timeout", type=float, help="Seconds per test run."),
    click.option("--map-tokens", type=click.IntRange(min=1), help="Token budget of the repo map."),
    click.option(
        "--context-tokens",
        type=click.IntRange(min=1),
        help="Token budget of the code shown beside the map.",
    ),
    click.option(
        "--base",
        default="HEAD",
        show_default=True,
        help="Commit, branch or tag the fix is made on.",
    ),
    click.option(
        "--include-dirty", is_flag=True, help="Carry your uncommitted changes into the worktrees."
    ),
    click.option(
        "--no-tests", is_flag=True, help="Leave the generated tests out of the branch's commit."
    ),
    click.option(
        "--keep-failed",
        is_flag=True,
        help="When nothing passes, still leave the best attempt on swc/<slug>-unverified.",
    ),
    click.option(
        "--no-sandbox",
        is_flag=True,
        help="Run model-written tests without the OS sandbox, with your rights "
        "(at your own risk; the report and --json say so).",
    ),
    click.option(
        "--show-context",
        is_flag=True,
        help="Print the weak tier's patch prompt for the task and its token count, "
        "then exit: no model call (same as `swc context`).",
    ),
)

_github_options = _stacked(
    click.option("--push", is_flag=True, help="Push the branch (never force)."),
    click.option("--remote", default="origin", show_default=True, help="Remote to push to."),
    click.option(
        "--pr", is_flag=True, help="Open a draft pull request with the report (implies --push)."
    ),
    click.option(
        "--comment", is_flag=True, help="Post a short summary on the issue (with --issue)."
    ),
)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (CI cancelling a job) cleans up exactly like Ctrl-C."""

    def handler(_signum: int, _frame: Any) -> None:
        raise Terminated("terminated by SIGTERM")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command("fix", help=FIX_HELP)
@task_options
@_run_options
@_github_options
@json_option
@pass_app
def fix(app: AppContext, json_: bool, **options: Any) -> None:
    from . import fix_body

    sources = [
        bool(options["prompt"]),
        bool(options["prompt_file"]),
        options["from_failing_tests"],
        bool(options["issue_ref"]),
    ]
    if sum(sources) != 1:
        raise UsageError(
            "say what to fix with exactly one of --prompt, --prompt-file, "
            "--from-failing-tests or --issue"
        )
    if options["show_context"] and (options["push"] or options["pr"] or options["comment"]):
        raise UsageError(
            "--show-context makes no change: it cannot be combined with --push, --pr or --comment"
        )
    if options["comment"] and not options["issue_ref"]:
        raise UsageError("--comment needs --issue: it comments on the issue")
    with _sigterm_as_interrupt():
        code = fix_body.run(app, json_=json_, options=options)
    sys.exit(code)
