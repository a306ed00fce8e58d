"""The cost-versus-resolve-rate chart, PNG and SVG, with the Pareto frontier marked.

matplotlib comes with the ``eval`` extra and is imported only here, only when a chart is
asked for.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import MissingExtra
from .summary import ComboRow


def pareto_frontier(rows: list[ComboRow]) -> list[ComboRow]:
    """Combinations no other beats on both axes (cheaper or equal, and resolving more or
    as much, strictly better on one), cheapest first."""
    frontier = []
    for row in rows:
        dominated = any(
            other.cost_usd <= row.cost_usd
            and other.rate >= row.rate
            and (other.cost_usd < row.cost_usd or other.rate > row.rate)
            for other in rows
        )
        if not dominated:
            frontier.append(row)
    return sorted(frontier, key=lambda r: (r.cost_usd, r.rate))


def draw_chart(rows: list[ComboRow], prefix: Path, *, title: str = "swc eval") -> list[Path]:
    """Write ``PREFIX.png`` and ``PREFIX.svg``; returns their paths."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed, and no window in CI
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtra(
            "the chart needs matplotlib", hint="pip install 'swcollab[eval]'"
        ) from None
    frontier = pareto_frontier(rows)
    on_frontier = {id(r) for r in frontier}
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    try:
        colours = plt.get_cmap("tab10").colors
        for index, row in enumerate(rows):
            colour = colours[index % len(colours)]
            best = id(row) in on_frontier
            # filled: on the frontier; hollow: another combination is cheaper and as good
            axes.scatter(
                row.cost_usd,
                100 * row.rate,
                s=60,
                marker="o",
                linewidths=1.5,
                edgecolors=colour,
                facecolors=colour if best else "none",
                label=row.label + ("" if best else " (dominated)"),
                zorder=3,
            )
        if len(frontier) > 1:
            axes.step(
                [r.cost_usd for r in frontier],
                [100 * r.rate for r in frontier],
                where="post",
                color="black",
                linewidth=1,
                linestyle="--",
                label="Pareto frontier",
                zorder=2,
            )
        axes.set_xlabel("total cost (USD)")
        axes.set_ylabel("resolved (%)")
        axes.set_ylim(-5, 105)
        axes.margins(x=0.1)
        axes.set_title(title, fontsize=10)
        axes.grid(True, alpha=0.3)
        axes.legend(loc="upper left", bbox_to_anchor=(0.0, -0.14), fontsize=7, frameon=False)
        prefix.parent.mkdir(parents=True, exist_ok=True)
        paths = [prefix.with_name(prefix.name + ".png"), prefix.with_name(prefix.name + ".svg")]
        for path in paths:
            figure.savefig(
                path,
                bbox_inches="tight",
                metadata={"Date": None} if path.suffix == ".svg" else None,
            )
    finally:
        plt.close(figure)
    return paths
