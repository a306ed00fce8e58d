"""What ``swc eval`` shows and writes: the table, JSON, CSV, markdown, chart, one task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..output import echo, out_console, print_json, print_table, say, styled
from .evaluate import EvalOutcome
from .store import RunRecord
from .summary import (
    HEADERS,
    ComboRow,
    display_rows,
    markdown_report,
    markdown_table,
    money,
    skip_counts,
    task_view,
    to_csv,
)
from .tasks import Skip


def outcome_json(outcome: EvalOutcome) -> dict[str, Any]:
    return {
        "dry_run": outcome.dry_run,
        "tasks": len(outcome.tasks),
        "task_ids": [t.instance_id for t in outcome.tasks],
        "combinations": [
            {"strategy": c.strategy, "weak_model": c.weak_key, "strong_model": c.strong_key}
            for c in outcome.combos
        ],
        "runs_to_do": outcome.todo,
        "runs_reused": outcome.reused,
        "worst_case_usd": outcome.worst_case_usd,
        "spent_usd": outcome.spent_usd,
        "stopped": outcome.stopped,
        "skipped": len(outcome.skips),
        "skips": [s.__dict__ for s in outcome.skips],
        "examined_commits": outcome.examined_commits,
        "saved_tasks": str(outcome.saved_to) if outcome.saved_to else None,
        "table": [row.as_json() for row in outcome.rows],
        "runs": [_run_json(r) for r in outcome.records],
    }


def _run_json(record: RunRecord) -> dict[str, Any]:
    data = record.as_json()
    data.pop("diff")
    return data


def print_results(rows: list[ComboRow]) -> None:
    from rich.table import Table

    if not rows:
        say("No finished runs to show.")
        return
    if not out_console().is_terminal:  # logs and pipes: a plain table nothing truncates
        echo(markdown_table(rows))
        return
    table = Table(show_edge=False, pad_edge=False)
    for header in HEADERS:
        table.add_column(header, justify="left" if header == "combination" else "right")
    for cells in display_rows(rows):
        table.add_row(*(styled(cell) for cell in cells))
    print_table(table)


def print_dry_run(outcome: EvalOutcome) -> None:
    say(
        f"{len(outcome.tasks)} task(s) x {len(outcome.combos)} combination(s): "
        f"{outcome.todo} run(s) to do, {outcome.reused} already done."
    )
    for combo in outcome.combos:
        say(f"  {combo.label}")
    say(f"Worst-case cost: {money(outcome.worst_case_usd)} (nothing was spent).")


def print_skips(skips: list[Skip]) -> None:
    counts = skip_counts(skips)
    if not counts:
        return
    say(f"skipped {len(skips)}:", err=True)
    for stage, reason, count in counts:
        say(f"  {count:>4}  {stage}: {reason}", err=True)


def print_footer(outcome: EvalOutcome) -> None:
    say(
        f"{len(outcome.tasks)} task(s), {outcome.todo} run(s) done now, "
        f"{outcome.reused} reused; spent {money(outcome.spent_usd)}.",
        err=True,
    )
    if outcome.stopped == "budget":
        say(
            "The eval's budget ran out: runs not started are left for the next "
            "`swc eval` with a larger --budget.",
            err=True,
        )


def write_files(
    rows: list[ComboRow],
    records: list[RunRecord],
    skips: list[Skip],
    *,
    csv_path: Path | None,
    markdown_path: Path | None,
    chart_prefix: Path | None,
    title: str = "swc eval",
) -> list[Path]:
    written: list[Path] = []
    if csv_path is not None:
        csv_path.write_text(to_csv(rows), encoding="utf-8")
        written.append(csv_path)
    if markdown_path is not None:
        markdown_path.write_text(
            markdown_report(rows, records, skips, title=title), encoding="utf-8"
        )
        written.append(markdown_path)
    if chart_prefix is not None:
        from .chart import draw_chart

        written += draw_chart(rows, chart_prefix, title=title)
    return written


def print_task(task_id: str, records: list[RunRecord]) -> None:
    say(task_view(task_id, records))


__all__ = [
    "outcome_json",
    "print_dry_run",
    "print_json",
    "print_results",
    "print_skips",
    "print_task",
    "write_files",
]
