"""``swc brief``: the repository brief the strong model writes once for every later run."""

from __future__ import annotations

import click

from .common import AppContext, json_option, pass_app


@click.command("brief")
@click.option("--refresh", is_flag=True, help="Rewrite the brief even if it is current.")
@click.option("--strong", help="Strong model to write it (overrides strong.model).")
@click.option("--budget", "-b", type=float, help="Most USD writing the brief may spend.")
@json_option
@pass_app
def brief(
    app: AppContext, refresh: bool, strong: str | None, budget: float | None, json_: bool
) -> None:
    """Show the repository brief, writing it first when there is none or it is stale.

    The strong model writes it once from the repo map and the README: what the
    repository is, its layout, main concepts, conventions, how tests run, and an FAQ of
    pitfalls. Every later `swc fix` shows it to the weak tier (and the router). It is
    stored in .git/swc/brief/ and rewritten on --refresh or when 30% or more of the files
    it was written from have changed. A brief committed as .swc/brief.md always wins.
    """
    from ..brief import STALE_SHARE, load_brief
    from ..output import echo, info, print_json

    repo = app.repo()
    settings = app.settings({"strong.model": strong, "budget": budget})
    current = load_brief(repo.root, repo.state_dir)
    wrote = False
    if (
        current is None
        or refresh
        or (current.source == "generated" and current.stale_share >= STALE_SHARE)
    ):
        if current is not None and current.source == "committed":
            info(".swc/brief.md is committed and always wins; not writing a generated brief")
        else:
            current = _write(repo, settings)
            wrote = True
    assert current is not None
    if json_:
        print_json(
            {
                "source": current.source,
                "commit": current.commit,
                "written_now": wrote,
                "cost_usd": current.cost_usd,
                "stale_share": round(current.stale_share, 3),
                "text": current.text,
            }
        )
        return
    echo(current.text)
    where = (
        ".swc/brief.md"
        if current.source == "committed"
        else str(repo.state_dir / "brief" / "brief.md")
    )
    info(
        f"brief: {current.source}, {where}" + (f" (cost ${current.cost_usd:.4f})" if wrote else "")
    )


def _write(repo, settings):  # type: ignore[no-untyped-def]
    from ..brief import write_brief
    from ..engine.intake import resolve_base
    from ..models import Budget, Ledger, ModelClient

    commit = resolve_base(repo.root, "HEAD")
    ledger = Ledger.open(repo.state_dir)
    budget = Budget(settings.budget)
    with ModelClient(settings, budget=budget) as probe:
        # only the strong tier writes the brief: the weak one need not be configured
        probe.check_credentials(["strong"])
        model = probe.spec("strong").model
    run_id = ledger.start_run(
        task="repository brief", strategy="brief", tiers={"strong": model}, base=commit
    )
    verdict, written = "error", None
    try:
        with ModelClient(settings, budget=budget, ledger=ledger, run_id=run_id) as client:
            written = write_brief(
                client=client,
                root=repo.root,
                state_dir=repo.state_dir,
                commit=commit,
                run_id=run_id,
                prompts_dir=settings.prompts_dir,
            )
        verdict = "fixed"
        return written
    finally:
        ledger.finish_run(
            run_id,
            verdict=verdict,
            branch=None,
            cost_usd=budget.spent,
            strong_only_cost_usd=budget.spent,
            report_path=None,
            meta={"kind": "brief"},
        )
