"""``swc eval``: resolve rate and cost per strategy and model pair, on tasks with hidden tests.

``swc eval --tasks F.jsonl`` / ``--from-history`` run the eval; ``swc eval merge DB...``
combines shard databases; ``swc eval show TASK_ID`` shows one task across combinations.
Light at import: the eval itself loads only when a command runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..errors import EXIT_BUDGET, UsageError
from .common import AppContext, FiniteFloat, json_option, pass_app

EVAL_HELP = """Measure resolve rate and cost per strategy and model pair.

Runs swc (the same engine as `swc fix`) over tasks whose correct outcome is known,
judges each result with hidden tests the models never saw, and prints a table per
(strategy, model pair). Results are kept in .git/swc/eval.db (or --db): an interrupted
eval resumes, a repeated one reuses what is done.

\b
Examples:
  swc eval --from-history --limit 20 --save tasks.jsonl --dry-run
  swc eval --tasks swe-bench-lite.jsonl --strategies cascade,strong -j 4 --budget 20
  swc eval --tasks tasks.jsonl --pairs weak=gpt-4o-mini,strong=o3-mini --chart eval
  swc eval --tasks tasks.jsonl --shard 2/4 --db shard-2.db
  swc eval merge shard-*.db --markdown report.md
  swc eval show myproj-1a2b3c4d5e6f
"""


def _output_options(func: Any) -> Any:
    options = [
        click.option(
            "--db",
            "db_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Results database (default: .git/swc/eval.db).",
        ),
        click.option(
            "--csv",
            "csv_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Also write the table as CSV to this file.",
        ),
        click.option(
            "--markdown",
            "markdown_path",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Also write a markdown report (table, skips, every task's outcome and diffs).",
        ),
        click.option(
            "--chart",
            "chart_prefix",
            type=click.Path(path_type=Path),
            help="Also draw cost vs resolve rate to PREFIX.png and PREFIX.svg "
            "(needs the eval extra).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _run_options(func: Any) -> Any:
    options = [
        click.option(
            "--tasks",
            "tasks_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help="SWE-bench-style JSONL of tasks for this repository.",
        ),
        click.option(
            "--from-history",
            "history",
            is_flag=False,
            flag_value="HEAD",
            default=None,
            metavar="[REV-RANGE]",
            help="Mine tasks from this repository's past fixes (default range: HEAD).",
        ),
        click.option(
            "--issues",
            is_flag=True,
            help="With --from-history: add the GitHub issue a commit message names "
            "(#N; title and body only) to the task text.",
        ),
        click.option(
            "--limit",
            type=click.IntRange(min=1),
            help="At most this many tasks (mined, or read from --tasks).",
        ),
        click.option(
            "--save",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the task set as JSONL (to review, edit, share).",
        ),
        click.option(
            "--strategies", help="Comma-separated strategies (default: cascade,weak,strong)."
        ),
        click.option(
            "--pairs",
            multiple=True,
            metavar="weak=MODEL,strong=MODEL",
            help="A model pair (repeatable; default: the configured models).",
        ),
        click.option(
            "-j",
            "--jobs",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Runs in parallel, each in its own worktrees.",
        ),
        click.option(
            "--budget",
            type=FiniteFloat(0, 1_000_000),
            help="Most USD the whole eval may spend (shared by all workers).",
        ),
        click.option(
            "--task-budget",
            type=float,
            help="Most USD one run may spend (default: the budget setting).",
        ),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Print the task count and worst-case cost; spend nothing.",
        ),
        click.option("--shard", metavar="I/N", help="Run only shard I of N (deterministic)."),
        click.option("--rerun", is_flag=True, help="Run again what the database already has."),
        click.option("--test-cmd", help="Command that runs the tests (default: detected)."),
        click.option("--test-timeout", type=float, help="Seconds per test run."),
        click.option(
            "--no-sandbox",
            is_flag=True,
            help="Run model-written and hidden tests without the OS sandbox (at your own risk).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("eval", help=EVAL_HELP, invoke_without_command=True)
@_run_options
@_output_options
@json_option
@pass_app
@click.pass_context
def eval_group(ctx: click.Context, app: AppContext, json_: bool, **options: Any) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from ..evaluation.commands import run_eval

    code = run_eval(app, json_=json_, options=options)
    if code == EXIT_BUDGET:
        sys.exit(code)


@eval_group.command("merge")
@click.argument(
    "databases", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--into",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Database to merge into (default: .git/swc/eval.db, or the first DB "
    "outside a repository).",
)
@_output_options
@json_option
@pass_app
def merge_cmd(
    app: AppContext, databases: tuple[Path, ...], into: Path | None, json_: bool, **options: Any
) -> None:
    """Combine the results of shard databases and print the table over all of them."""
    from ..evaluation.commands import run_merge

    if options.get("db_path"):
        raise UsageError("swc eval merge takes --into, not --db")
    run_merge(app, list(databases), into, json_=json_, options=options)


@eval_group.command("show")
@click.argument("task_id")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Results database (default: .git/swc/eval.db).",
)
@json_option
@pass_app
def show_cmd(app: AppContext, task_id: str, db_path: Path | None, json_: bool) -> None:
    """One task across every combination: resolved or not, its cost, and each diff."""
    from ..evaluation.commands import run_show

    run_show(app, task_id, db_path, json_=json_)
