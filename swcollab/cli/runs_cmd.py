"""``swc runs`` and ``swc stats``: what the ledger knows about past runs and their cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..output import echo, info, print_json, print_table, say, table
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
    """List recent runs: verdict, cost, branch. `swc runs show ID` shows one with its calls;
    `swc runs flaky` the tests found flaky."""
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
        ("cache", _cache_text(run["cached_tokens"], run["cache_saving_usd"])),
        ("report", run["report_path"] or "-"),
    ]
    for label, value in lines:
        say(f"{label:<12} {value}")
    if not calls:
        say("\nNo model calls.")
        return
    say("")
    print_table(_calls_table(calls))
    if not all(c["cost_known"] for c in calls):
        say(_UNPRICED_NOTE)
    if any(c["samples"] > 1 for c in calls):
        say(_SAMPLES_NOTE)


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
    return table(headers, lines, flexible=("outcome",))


def _cache_text(cached_tokens: int, saving_usd: float) -> str:
    if not cached_tokens:
        return "- (no prompt token came from a provider's cache)"
    return (
        f"{cached_tokens} prompt tokens from the providers' caches, {money(saving_usd)} "
        "less than uncached"
    )


@runs_group.command("flaky")
@click.argument("test_ids", nargs=-1, metavar="[TEST_ID]...")
@click.option(
    "--clear",
    is_flag=True,
    help="Forget them (only the TEST_IDs given, if any): they guard candidates again.",
)
@json_option
@pass_app
def runs_flaky(app: AppContext, test_ids: tuple[str, ...], clear: bool, json_: bool) -> None:
    """List the tests found flaky in this repository: they judge no candidate of later
    runs (flaky_tests = "detect"). With --clear, forget them."""
    from ..errors import UsageError

    if test_ids and not clear:
        raise UsageError(
            "test ids are only taken with --clear",
            hint="`swc runs flaky` lists them; `swc runs flaky --clear ID` forgets one.",
        )
    ledger = _open_ledger(app)
    rows = ledger.flaky_tests() if ledger else []
    if clear:
        unknown = sorted(set(test_ids) - {r["test_id"] for r in rows})
        if unknown:
            raise UsageError(
                f"no flaky test {unknown[0]!r} is remembered in this repository",
                hint="`swc runs flaky` lists them, by the ids their test runner gives them.",
            )
        forgotten = ledger.forget_flaky(test_ids) if ledger else 0
        rows = [r for r in rows if test_ids and r["test_id"] not in test_ids]
    if ledger:
        ledger.close()
    if json_:
        print_json({"forgotten": forgotten, "flaky_tests": rows} if clear else rows)
    elif clear:
        echo(f"Forgot {forgotten} flaky test(s); they guard candidates again.")
    elif not rows:
        echo("No flaky test is remembered in this repository.")
    else:
        _print_flaky(rows)


def _print_flaky(rows: list[dict[str, Any]]) -> None:
    """One line a test, its id first and whole (to copy into ``--clear``)."""
    for row in rows:
        say(
            f"{row['test_id']}  failed {row['candidate_failures']} of "
            f"{row['candidate_runs']} run(s) on a candidate, {row['base_failures']} of "
            f"{row['base_runs']} on the base; found {row['found_at'][:16].replace('T', ' ')}"
            + (f" by run {row['run_id']}" if row["run_id"] else "")
        )
    say(
        f"{len(rows)} flaky test(s) judge no candidate; `swc runs flaky --clear` guards them again."
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
    lines.append(("cache", _cache_text(t["cached_tokens"], t["cache_saving_usd"])))
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
    print_table(_model_table(rows) if by == "model" else _strategy_table(rows))


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
    return table(headers, lines)


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
    return table(headers, lines)
