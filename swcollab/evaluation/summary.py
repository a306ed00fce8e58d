"""The study's table for the user's own code: one row per (strategy, model pair).

Also the JSON, CSV and markdown forms of it, and the per-task view (which combination
solved a task, at what cost, with which diff). Pure functions of the stored records.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .combos import combo_label
from .store import RunRecord
from .tasks import Skip

HEADERS = (
    "combination",
    "tasks",
    "resolved",
    "resolved %",
    "total cost",
    "cost / resolved",
    "weak alone",
    "strong calls",
    "median time",
    "saved vs strong",
)


@dataclass(frozen=True)
class ComboRow:
    strategy: str
    weak: str
    strong: str
    version: str
    tasks: int
    resolved: int
    cost_usd: float
    weak_alone: int
    strong_calls: int
    median_s: float
    saved_usd: float | None = None  # what ``strong`` cost on the same tasks, minus this
    strong_cost_usd: float | None = None
    compared_tasks: int = 0

    @property
    def label(self) -> str:
        return combo_label(self.strategy, self.weak, self.strong)

    @property
    def rate(self) -> float:
        return self.resolved / self.tasks if self.tasks else 0.0

    @property
    def cost_per_resolved(self) -> float | None:
        return self.cost_usd / self.resolved if self.resolved else None

    @property
    def weak_alone_share(self) -> float:
        return self.weak_alone / self.tasks if self.tasks else 0.0

    @property
    def saved_share(self) -> float | None:
        if self.saved_usd is None or not self.strong_cost_usd:
            return None
        return self.saved_usd / self.strong_cost_usd

    def as_json(self) -> dict:
        return {
            "strategy": self.strategy,
            "weak_model": self.weak,
            "strong_model": self.strong,
            "swc_version": self.version,
            "tasks": self.tasks,
            "resolved": self.resolved,
            "resolve_rate": self.rate,
            "cost_usd": self.cost_usd,
            "cost_per_resolved_usd": self.cost_per_resolved,
            "weak_alone": self.weak_alone,
            "weak_alone_share": self.weak_alone_share,
            "strong_calls": self.strong_calls,
            "median_wall_s": self.median_s,
            "saved_vs_strong_usd": self.saved_usd,
            "saved_vs_strong_share": self.saved_share,
            "strong_cost_same_tasks_usd": self.strong_cost_usd,
            "compared_tasks": self.compared_tasks,
        }


def summarize(records: Iterable[RunRecord], task_ids: set[str] | None = None) -> list[ComboRow]:
    """One row per combination over ``records`` (restricted to ``task_ids`` when given)."""
    groups: dict[tuple[str, str, str, str], list[RunRecord]] = defaultdict(list)
    for record in records:
        if task_ids is None or record.task_id in task_ids:
            groups[
                (record.strategy, record.weak_model, record.strong_model, record.swc_version)
            ].append(record)
    rows = []
    for (strategy, weak, strong, version), group in sorted(groups.items()):
        row = ComboRow(
            strategy,
            weak,
            strong,
            version,
            tasks=len(group),
            resolved=sum(r.resolved for r in group),
            cost_usd=sum(r.cost_usd for r in group),
            weak_alone=sum(r.weak_alone for r in group),
            strong_calls=sum(r.calls_strong for r in group),
            median_s=statistics.median(r.duration_s for r in group),
        )
        rows.append(_with_saving(row, group, groups))
    return rows


def _with_saving(
    row: ComboRow, group: list[RunRecord], groups: dict[tuple[str, str, str, str], list[RunRecord]]
) -> ComboRow:
    """Cost saved against the ``strong`` strategy with the same strong model, same tasks."""
    if row.strategy == "strong":
        return row
    baseline = groups.get(("strong", "-", row.strong, row.version))
    if not baseline:
        return row
    strong_cost = {r.task_id: r.cost_usd for r in baseline}
    shared = [r for r in group if r.task_id in strong_cost]
    if not shared:
        return row
    theirs = sum(strong_cost[r.task_id] for r in shared)
    ours = sum(r.cost_usd for r in shared)
    return replace(row, saved_usd=theirs - ours, strong_cost_usd=theirs, compared_tasks=len(shared))


def money(value: float | None) -> str:
    return "-" if value is None else f"${value:.4f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def display_rows(rows: list[ComboRow]) -> list[list[str]]:
    many_versions = len({r.version for r in rows}) > 1
    out = []
    for row in rows:
        label = row.label + (f" swc {row.version}" if many_versions else "")
        saved = (
            "-"
            if row.saved_usd is None
            else (
                f"{money(row.saved_usd)} ({percent(row.saved_share)}, {row.compared_tasks} "
                f"task{'s' if row.compared_tasks != 1 else ''})"
            )
        )
        out.append(
            [
                label,
                str(row.tasks),
                str(row.resolved),
                percent(row.rate),
                money(row.cost_usd),
                money(row.cost_per_resolved),
                percent(row.weak_alone_share),
                str(row.strong_calls),
                f"{row.median_s:.1f}s",
                saved,
            ]
        )
    return out


def to_csv(rows: list[ComboRow]) -> str:
    buffer = io.StringIO()
    fields = list(rows[0].as_json()) if rows else list(ComboRow.__dataclass_fields__)
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.as_json())
    return buffer.getvalue()


def markdown_table(rows: list[ComboRow]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(cells) + " |" for cells in display_rows(rows)]
    return "\n".join(lines)


def skip_counts(skips: Iterable[Skip]) -> list[tuple[str, str, int]]:
    """(stage, reason without its details, count), most frequent first."""
    counter = Counter((s.stage, s.reason.split(": ", 1)[0]) for s in skips)
    return [(stage, reason, n) for (stage, reason), n in counter.most_common()]


def task_view(task_id: str, records: list[RunRecord], *, diffs: bool = True) -> str:
    """Markdown: each combination's outcome on one task, its cost and its diff."""
    lines = [f"### {task_id}", ""]
    mine = [r for r in records if r.task_id == task_id]
    if not mine:
        return "\n".join([*lines, "No run of this task is recorded.", ""])
    lines += [
        "| combination | resolved | verdict | cost | calls weak/strong | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in mine:
        note = (r.note or "").replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {combo_label(r.strategy, r.weak_model, r.strong_model)} | "
            f"{'yes' if r.resolved else 'no'} | {r.verdict} | {money(r.cost_usd)} | "
            f"{r.calls_weak}/{r.calls_strong} | {note} |"
        )
    lines.append("")
    if diffs:
        for r in mine:
            if not r.diff.strip():
                continue
            label = combo_label(r.strategy, r.weak_model, r.strong_model)
            fence = "````" if "```" in r.diff else "```"
            lines += [
                f"<details><summary>diff of {label}</summary>",
                "",
                f"{fence}diff",
                r.diff.rstrip("\n"),
                fence,
                "",
                "</details>",
                "",
            ]
    return "\n".join(lines)


def markdown_report(
    rows: list[ComboRow], records: list[RunRecord], skips: list[Skip], *, title: str = "swc eval"
) -> str:
    task_ids = sorted({r.task_id for r in records})
    lines = [f"# {title}", "", markdown_table(rows), ""]
    counts = skip_counts(skips)
    if counts:
        lines += [
            f"Skipped: {sum(n for _, _, n in counts)}.",
            "",
            "| stage | reason | count |",
            "|---|---|---|",
        ]
        lines += [f"| {stage} | {reason} | {n} |" for stage, reason, n in counts]
        lines.append("")
    lines += ["## Per task", ""]
    for task_id in task_ids:
        lines.append(task_view(task_id, records))
    return "\n".join(lines)
