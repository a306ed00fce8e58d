"""``swc runs`` and ``swc stats``: what the ledger knows about past runs and their cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..output import echo, info, print_json, print_table, say, table
from .common import AppContext, json_option, pass_app

if TYPE_CHECKING:
    from ..models.ledger import Ledger

_UNPRICED_NOTE = "* includes calls of a model with no known price, counted as $0"


def _open_ledger(app: AppContext) -> Ledger | None:
    """The repository's ledger, or None when no run was ever recorded there."""
    from ..models.ledger import Ledger

    state_dir = app.repo().state_dir
    if not Ledger.exists(state_dir):
        return None
    return Ledger.open(state_dir)


def money(value: float | None) -> str:
    if value is None:
        return "-"
    return f"${value:.4f}" if abs(value) < 1 else f"${value:,.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


@click.group("runs", invoke_without_command=True)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many recent runs to list.",
)
@json_option
@pass_app
@click.pass_context
def runs_group(ctx: click.Context, app: AppContext, limit: int, json_: bool) -> None:
    """List recent runs: verdict, cost, branch. `swc runs show ID` shows one with its calls."""
    if ctx.invoked_subcommand is not None:
        return
    ledger = _open_ledger(app)
    rows = ledger.runs(limit) if ledger else []
    if ledger:
        ledger.close()
    if json_:
        print_json(rows)
        return
    if not rows:
        echo("No runs recorded yet in this repository.")
        return
    _print_runs_table(rows)


def _print_runs_table(rows: list[dict[str, Any]]) -> None:
    lines = []
    for row in rows:
        cost = money(row["cost_usd"]) + ("" if row["cost_known"] else "*")
        lines.append(
            [
                row["id"],
                row["started_at"][5:16].replace("T", " "),
                row["strategy"],
                row["verdict"] or "unfinished",
                cost,
                str(row["calls"]),
                row["branch"] or "-",
                " ".join(str(row["task"]).split()),
            ]
        )
    headers = ["id", "started", "strategy", "verdict", "cost", "calls", "branch", "task"]
    print_table(table(headers, lines, flexible=("task",)))
    if not all(row["cost_known"] for row in rows):
        say(_UNPRICED_NOTE)


@runs_group.command("show")
@click.argument("run_id")
@click.option(
    "--context",
    "context_",
    is_flag=True,
    help="Print the run's first patch prompt (as `swc context` shows a task's).",
)
@json_option
@pass_app
def runs_show(app: AppContext, run_id: str, context_: bool, json_: bool) -> None:
    """Show one run (ID or a unique start of it) and every model call it made."""
    from ..errors import UsageError

    ledger = _open_ledger(app)
    run = ledger.run(run_id) if ledger else None
    if run is None or ledger is None:
        raise UsageError(
            f"no run {run_id!r} in this repository's ledger",
            hint="`swc runs` lists the recorded runs.",
        )
    calls = ledger.calls(run["id"])
    ledger.close()
    if context_:
        _print_context(app, run["id"], json_=json_)
        return
    if json_:
        print_json({"run": run, "calls": calls})
        return
    _print_run(run, calls)


def _print_context(app: AppContext, run_id: str, *, json_: bool) -> None:
    from ..engine.preview import load_view, render_text, summary
    from ..errors import UsageError

    view = load_view(app.repo().state_dir, run_id)
    if view is None:
        raise UsageError(
            f"run {run_id} has no saved prompt",
            hint="A run saves its first patch prompt when it drafts one; runs "
            "that stopped before, or made by an older swc, have none.",
        )
    if json_:
        print_json(view)
        return
    echo(render_text(view), nl=False)
    for line in summary(view):
        info(line)


def _print_run(run: dict[str, Any], calls: list[dict[str, Any]]) -> None:
    tiers = ", ".join(f"{name}: {model}" for name, model in run["tiers"].items())
    lines = [
        ("run", run["id"]),
        ("task", run["task"]),
        ("strategy", run["strategy"]),
        ("models", tiers),
        ("base", run["base"]),
        ("started", run["started_at"]),
        ("finished", run["finished_at"] or "-"),
        ("verdict", run["verdict"] or "unfinished"),
        ("branch", run["branch"] or "-"),
        ("cost", money(run["cost_usd"]) + ("" if run["cost_known"] else "*")),
        ("strong-only", money(run["strong_only_cost_usd"])),
        ("report", run["report_path"] or "-"),
    ]
    for label, value in lines:
        say(f"{label:<12} {value}")
    if not calls:
        say("\nNo model calls.")
        return
    lines = []
    for number, call in enumerate(calls, 1):
        cost = money(call["cost_usd"]) + ("" if call["cost_known"] else "*")
        outcome = call["outcome"] + (f": {call['detail']}" if call["detail"] else "")
        lines.append(
            [
                str(number),
                call["tier"],
                call["model"],
                call["purpose"],
                str(call["prompt_tokens"]),
                str(call["completion_tokens"]),
                cost,
                f"{call['latency_s']:.1f}s",
                " ".join(outcome.split()),
            ]
        )
    headers = [
        "#",
        "tier",
        "model",
        "purpose",
        "prompt",
        "completion",
        "cost",
        "latency",
        "outcome",
    ]
    say("")
    print_table(table(headers, lines, flexible=("outcome",)))
    if not all(c["cost_known"] for c in calls):
        say(_UNPRICED_NOTE)


@click.command("stats")
@click.option(
    "--by",
    type=click.Choice(["strategy", "model"]),
    default=None,
    help="One row per strategy or per model instead of totals.",
)
@json_option
@pass_app
def stats_command(app: AppContext, by: str | None, json_: bool) -> None:
    """Totals over the recorded runs: fixed %, spend, cost per fixed task, how often the
    strong tier was needed, and the estimated saving against a strong-only run."""
    from ..models.stats import summarise

    ledger = _open_ledger(app)
    if ledger is None:
        result: Any = [] if by else {**summarise([]), "prompt_ratios": {}}
    else:
        result = ledger.stats(by)
        ledger.close()
    if json_:
        print_json(result)
    elif by is None:
        _print_totals(result)
    else:
        _print_groups(by, result)


def _print_totals(t: dict[str, Any]) -> None:
    if not t["runs"]:
        echo("No runs recorded yet in this repository.")
        return
    unfinished = t["runs"] - t["finished"]
    lines = [
        ("runs", f"{t['runs']}" + (f" ({unfinished} unfinished)" if unfinished else "")),
        ("fixed", f"{t['fixed']} of {t['finished']} finished ({_pct(t['fixed_pct'])})"),
        ("verdicts", ", ".join(f"{k} {v}" for k, v in sorted(t["verdicts"].items()))),
        ("calls", str(t["calls"])),
        ("spend", money(t["spend_usd"]) + ("*" if t["unpriced_calls"] else "")),
        ("per fixed", money(t["cost_per_fixed_usd"])),
        (
            "strong tier",
            f"needed in {t['strong_runs']} of {t['runs']} runs ({_pct(t['strong_pct'])})",
        ),
    ]
    lines += _optional_total_lines(t)
    for label, value in lines:
        say(f"{label:<12} {value}")
    if t["unpriced_calls"]:
        say(_UNPRICED_NOTE)


def _optional_total_lines(t: dict[str, Any]) -> list[tuple[str, str]]:
    """The totals that exist only for some ledgers: strong-only, brief, ratios, routing."""
    lines: list[tuple[str, str]] = []
    if t["strong_only_usd"] is not None:
        lines.append(
            (
                "strong-only",
                f"{money(t['strong_only_usd'])} estimated (the same "
                "tokens at the strong model's prices)",
            )
        )
        lines.append(("saving", f"{money(t['saving_usd'])} ({_pct(t['saving_pct'])})"))
    else:
        lines.append(("strong-only", "- (the strong model's price is unknown)"))
    if t.get("brief_cost_usd"):
        lines.append(
            (
                "brief",
                f"{money(t['brief_cost_usd'])} of the spend is the repository "
                "brief, spread over the runs that used it",
            )
        )
    if t.get("prompt_ratios"):
        lines.append(
            (
                "token ratio",
                ", ".join(f"{model} {ratio:.2f}x" for model, ratio in t["prompt_ratios"].items())
                + " (largest prompt tokens the provider reported / swc counted)",
            )
        )
    if t.get("routes"):
        r = t["routes"]
        lines.append(
            (
                "routing",
                f"weak-routed and fixed by weak {r['weak_fixed_by_weak']}, "
                f"weak-routed but escalated {r['weak_escalated']}, sent to strong "
                f"{r['strong']} (whether weak would have fixed those is not measured), "
                f"router unusable {r['fallback']}",
            )
        )
    return lines


def _print_groups(by: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        echo("No runs recorded yet in this repository.")
        return
    if by == "model":
        headers = [
            "model",
            "tiers",
            "calls",
            "errors",
            "refused",
            "prompt",
            "completion",
            "max ratio",
            "spend",
            "latency",
        ]
        lines = [
            [
                r["model"],
                r["tiers"],
                str(r["calls"]),
                str(r["errors"]),
                str(r["refused"]),
                str(r["prompt_tokens"]),
                str(r["completion_tokens"]),
                "-" if r["max_prompt_ratio"] is None else f"{r['max_prompt_ratio']:.2f}x",
                money(r["spend_usd"]) + ("*" if r["unpriced_calls"] else ""),
                "-" if r["mean_latency_s"] is None else f"{r['mean_latency_s']:.1f}s",
            ]
            for r in rows
        ]
    else:
        headers = [
            "strategy",
            "runs",
            "fixed",
            "spend",
            "per fixed",
            "strong needed",
            "strong-only",
            "saving",
        ]
        lines = [
            [
                r["strategy"],
                str(r["runs"]),
                f"{r['fixed']} ({_pct(r['fixed_pct'])})",
                money(r["spend_usd"]),
                money(r["cost_per_fixed_usd"]),
                _pct(r["strong_pct"]),
                money(r["strong_only_usd"]),
                f"{money(r['saving_usd'])} ({_pct(r['saving_pct'])})",
            ]
            for r in rows
        ]
    print_table(table(headers, lines))
