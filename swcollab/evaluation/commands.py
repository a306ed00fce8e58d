"""The bodies of ``swc eval``, ``swc eval merge`` and ``swc eval show`` (loaded on use)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ..errors import EXIT_BUDGET, EXIT_OK, UsageError
from ..output import print_json, say
from .combos import parse_pair, parse_shard, parse_strategies
from .evaluate import EvalOptions, evaluate, merge
from .render import (
    outcome_json,
    print_dry_run,
    print_footer,
    print_results,
    print_skips,
    print_task,
    write_files,
)
from .store import EVAL_DB, EvalStore
from .summary import summarize

FLAG_KEYS = {"task_budget": "budget", "test_cmd": "test_cmd", "test_timeout": "test_timeout"}


def _db_path(app: Any, given: Path | None) -> Path:
    if given is not None:
        return given
    repo = app.repo()
    return repo.state_dir / EVAL_DB


def _progress() -> Any:
    lock = threading.Lock()

    def show(message: str) -> None:
        with lock:
            say(message, err=True)

    return show


def run_eval(app: Any, *, json_: bool, options: dict[str, Any]) -> int:
    repo = app.repo()
    flags = {key: options[flag] for flag, key in FLAG_KEYS.items()}
    settings = app.settings({**flags, "sandbox": "off" if options.get("no_sandbox") else None})
    if options["limit"] is not None and options["history"] is None and not options["tasks_file"]:
        raise UsageError("--limit goes with --tasks or --from-history")
    eval_options = EvalOptions(
        tasks_file=options["tasks_file"],
        history=options["history"],
        limit=options["limit"],
        save=options["save"],
        strategies=tuple(parse_strategies(options["strategies"])),
        pairs=tuple(parse_pair(p) for p in options["pairs"]),
        jobs=options["jobs"],
        budget=options["budget"],
        rerun=options["rerun"],
        shard=parse_shard(options["shard"]),
        dry_run=options["dry_run"],
        issues=options["issues"],
    )
    if options["issues"] and options["history"] is None:
        raise UsageError(
            "--issues goes with --from-history: it adds the issue a fix "
            "commit names to the task text"
        )
    with EvalStore(_db_path(app, options["db_path"])) as store:
        outcome = evaluate(repo, settings, eval_options, store, on_progress=_progress())
    if json_:
        print_json(outcome_json(outcome))
    elif outcome.dry_run:
        print_dry_run(outcome)
        print_skips(outcome.skips)
    else:
        print_results(outcome.rows)
        print_skips(outcome.skips)
        print_footer(outcome)
    if not outcome.dry_run:
        written = write_files(
            outcome.rows,
            outcome.records,
            outcome.skips,
            csv_path=options["csv_path"],
            markdown_path=options["markdown_path"],
            chart_prefix=options["chart_prefix"],
        )
        for path in written:
            say(f"wrote {path}", err=True)
    return EXIT_BUDGET if outcome.stopped == "budget" else EXIT_OK


def run_merge(
    app: Any, databases: list[Path], into: Path | None, *, json_: bool, options: dict[str, Any]
) -> None:
    if into is None:
        repo = app.maybe_repo()
        into = repo.state_dir / EVAL_DB if repo is not None else databases[0]
    added, records, skips = merge(into, databases)
    rows = summarize(records)
    if json_:
        print_json(
            {
                "into": str(into),
                "added": added,
                "table": [r.as_json() for r in rows],
                "skipped": len(skips),
            }
        )
    else:
        print_results(rows)
        print_skips(skips)
        say(
            f"merged {len(databases)} database(s) into {into}: {added} result(s) added",
            err=True,
        )
    for path in write_files(
        rows,
        records,
        skips,
        csv_path=options["csv_path"],
        markdown_path=options["markdown_path"],
        chart_prefix=options["chart_prefix"],
    ):
        say(f"wrote {path}", err=True)


def run_show(app: Any, task_id: str, db_path: Path | None, *, json_: bool) -> None:
    path = _db_path(app, db_path)
    if not path.is_file():
        raise UsageError(f"no eval results at {path}", hint="Run `swc eval` first.")
    with EvalStore(path) as store:
        records = [r for r in store.results() if r.task_id == task_id]
        task = store.task(task_id)
    if task is None and not records:
        raise UsageError(f"no task {task_id!r} in {path}")
    if json_:
        print_json(
            {"task": task.to_json() if task else None, "runs": [r.as_json() for r in records]}
        )
        return
    if task is not None:
        say(f"{task_id}: {task.title} (base {task.base_commit[:12]})", err=True)
    print_task(task_id, records)
