"""``swc runs`` and ``swc stats``: what the ledger knows about past runs and their cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .common import AppContext, json_option, pass_app

if TYPE_CHECKING:
    from ..models.ledger import Ledger

_UNPRICED_NOTE = "* includes calls of a model with no known price, counted as $0"
_SAMPLES_NOTE = (
    "(a/n): one request asked for n answers to its prompt and got a; the prompt is "
    "billed once, the completions are the answers' sum"
)


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


def _table(headers: list[str], rows: list[list[str]], flexible: tuple[str, ...] = ()) -> Any:
    """A table whose columns are never squeezed, except the ``flexible`` ones (free text):
    ids, model names and figures must stay whole however narrow the terminal is."""
    from rich.table import Column, Table

    columns = []
    for index, header in enumerate(headers):
        if header in flexible:
            columns.append(
                Column(header, overflow="ellipsis", no_wrap=True, ratio=1, min_width=len(header))
            )
        else:
            width = max([len(header)] + [len(row[index]) for row in rows])
            columns.append(Column(header, no_wrap=True, min_width=width))
    table = Table(*columns, box=None, pad_edge=False)
    for row in rows:
        table.add_row(*row)
    return table


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
        from ..output import print_json

        print_json(rows)
        return
    if not rows:
        click.echo("No runs recorded yet in this repository.")
        return
    _print_runs_table(rows)


def _print_runs_table(rows: list[dict[str, Any]]) -> None:
    from ..output import out_console

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
    console = out_console()
    console.print(_table(headers, lines, flexible=("task",)))
    if not all(row["cost_known"] for row in rows):
        console.print(_UNPRICED_NOTE, markup=False)


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
        from ..output import print_json

        print_json({"run": run, "calls": calls})
        return
    _print_run(run, calls)


def _print_context(app: AppContext, run_id: str, *, json_: bool) -> None:
    from ..engine.preview import load_view, render_text, summary
    from ..errors import UsageError
    from ..output import info, print_json

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
    click.echo(render_text(view), nl=False)
    for line in summary(view):
        info(line)


def _print_run(run: dict[str, Any], calls: list[dict[str, Any]]) -> None:
    from ..output import out_console

    console = out_console()
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
        ("cache", _cache_text(run["cached_tokens"], run["cache_saving_usd"])),
        ("report", run["report_path"] or "-"),
    ]
    for label, value in lines:
        console.print(f"{label:<12} {value}", markup=False, highlight=False)
    if not calls:
        console.print("\nNo model calls.", markup=False)
        return
    table = _calls_table(calls)
    console.print()
    console.print(table)
    if not all(c["cost_known"] for c in calls):
        console.print(_UNPRICED_NOTE, markup=False)
    if any(c["samples"] > 1 for c in calls):
        console.print(_SAMPLES_NOTE, markup=False)


def _calls_table(calls: list[dict[str, Any]]) -> Any:
    """One row a model call: tier, model, purpose, tokens (cached, samples), cost, outcome."""
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
                str(call["cached_tokens"] or 0),
                str(call["completion_tokens"])
                + (f" ({call['answers']}/{call['samples']})" if call["samples"] > 1 else ""),
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
        "cached",
        "completion",
        "cost",
        "latency",
        "outcome",
    ]
    return _table(headers, lines, flexible=("outcome",))


def _cache_text(cached_tokens: int, saving_usd: float) -> str:
    if not cached_tokens:
        return "- (no prompt token came from a provider's cache)"
    return (
        f"{cached_tokens} prompt tokens from the providers' caches, {money(saving_usd)} "
        "less than uncached"
    )


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
        from ..output import print_json

        print_json(result)
    elif by is None:
        _print_totals(result)
    else:
        _print_groups(by, result)


def _print_totals(t: dict[str, Any]) -> None:
    from ..output import out_console

    if not t["runs"]:
        click.echo("No runs recorded yet in this repository.")
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
    lines.append(("cache", _cache_text(t["cached_tokens"], t["cache_saving_usd"])))
    lines += _optional_total_lines(t)
    console = out_console()
    for label, value in lines:
        console.print(f"{label:<12} {value}", markup=False, highlight=False)
    if t["unpriced_calls"]:
        console.print(_UNPRICED_NOTE, markup=False)


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
    from ..output import out_console

    if not rows:
        click.echo("No runs recorded yet in this repository.")
        return
    table = _model_table(rows) if by == "model" else _strategy_table(rows)
    out_console().print(table)


def _model_table(rows: list[dict[str, Any]]) -> Any:
    headers = [
        "model",
        "tiers",
        "calls",
        "errors",
        "refused",
        "prompt",
        "cached",
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
            str(r["cached_tokens"] or 0),
            str(r["completion_tokens"]),
            "-" if r["max_prompt_ratio"] is None else f"{r['max_prompt_ratio']:.2f}x",
            money(r["spend_usd"]) + ("*" if r["unpriced_calls"] else ""),
            "-" if r["mean_latency_s"] is None else f"{r['mean_latency_s']:.1f}s",
        ]
        for r in rows
    ]
    return _table(headers, lines)


def _strategy_table(rows: list[dict[str, Any]]) -> Any:
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
    return _table(headers, lines)
