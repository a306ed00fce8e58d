"""``swc context``: what the weak tier's patch prompt would hold for a task, and its size."""

from __future__ import annotations

from typing import Any

import click

from ..config import STRATEGIES
from ..errors import UsageError
from .common import AppContext, json_option, pass_app
from .fix_cmd import task_options

CONTEXT_HELP = """Print the patch prompt the weak tier would get for a task, and its size.

The same task options as `swc fix`. The prompt is built exactly as a run builds it (the
repo map, the code spans most likely to change, the repository brief and few-shot
examples), at the base commit, and printed with its token count. No model is called.
--from-failing-tests runs the test command to find what fails (say --test-output FILE
to use output you saved instead); nothing else runs.

\b
Examples:
  swc context --prompt "parse_date('2024-02-30') should raise ValueError"
  swc context --issue 123 --json | jq .tokens
  pytest -x > out.txt; swc context --test-output out.txt
  swc context --prompt-file bug.md --tier strong --context-tokens 16000
"""


@click.command("context", help=CONTEXT_HELP)
@task_options
@click.option(
    "--test-output",
    metavar="FILE",
    help="Output of a failing test run saved earlier ('-' for standard input): "
    "what fails is the task, and no test is run.",
)
@click.option("--tier", help="Whose prompt: a tier name (default: the strategy's first tier).")
@click.option(
    "--strategy",
    "-s",
    type=click.Choice(STRATEGIES),
    help="Strategy whose first tier is shown (default: cascade, so weak).",
)
@click.option("--weak", help="Weak model (overrides weak.model; sets the tokenizer).")
@click.option("--strong", help="Strong model (overrides strong.model).")
@click.option("--map-tokens", type=click.IntRange(min=1), help="Token budget of the repo map.")
@click.option(
    "--context-tokens",
    type=click.IntRange(min=1),
    help="Token budget of the code shown beside the map.",
)
@click.option(
    "--base",
    default="HEAD",
    show_default=True,
    help="Commit, branch or tag the prompt is built at.",
)
@click.option("--include-dirty", is_flag=True, help="Build it with your uncommitted changes.")
@click.option("--test-cmd", help="Command that runs the tests (for --from-failing-tests).")
@click.option("--test-timeout", type=float, help="Seconds for that test run.")
@click.option(
    "--remote",
    default="origin",
    show_default=True,
    help="Remote naming the GitHub repository of --issue N.",
)
@json_option
@pass_app
def context_command(app: AppContext, json_: bool, **options: Any) -> None:
    from . import context_body

    sources = [
        bool(options["prompt"]),
        bool(options["prompt_file"]),
        options["from_failing_tests"],
        bool(options["issue_ref"]),
        bool(options["test_output"]),
    ]
    if sum(sources) != 1:
        raise UsageError(
            "say what the task is with exactly one of --prompt, --prompt-file, "
            "--from-failing-tests, --test-output or --issue"
        )
    context_body.run(app, json_=json_, options=options)
