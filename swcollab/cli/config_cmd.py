"""``swc config``: what the effective settings are and where each came from."""

from __future__ import annotations

import click

from ..config import config_files, settings_as_dict
from .common import AppContext, json_option, pass_app


@click.group("config")
def config_group() -> None:
    """Show the effective configuration and the files it is read from."""


@config_group.command("show")
@json_option
@pass_app
def config_show(app: AppContext, json_: bool) -> None:
    """Print every setting, its value and where it came from.

    Sources, lowest precedence first: default, user file, repo file, environment, flag.
    """
    settings = app.settings(need_repo=False)
    table = settings_as_dict(settings)
    if json_:
        from ..output import print_json

        print_json(table)
        return
    rows = [("key", "value", "source", "environment variable")]
    rows += [(name, _show_value(row["value"]), row["source"], row["env"])
             for name, row in table.items()]
    # plain aligned columns: a rich table would truncate cells to 80 columns when piped
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[3]]))


def _show_value(value: object) -> str:
    if value is None:
        return "-"
    return repr(value) if isinstance(value, str) else str(value)


@config_group.command("path")
@json_option
@pass_app
def config_path(app: AppContext, json_: bool) -> None:
    """Print the configuration files swc reads, in order, and whether each exists."""
    repo = app.maybe_repo()
    files = config_files(repo.root if repo else None)
    rows = [("user file", files.user)]
    if files.repo is not None:
        rows.append(("repo file", files.repo))
    if files.pyproject is not None:
        rows.append(("repo file [tool.swc]", files.pyproject))
    if json_:
        from ..output import print_json

        print_json([{"kind": kind, "path": str(path), "exists": path.is_file()}
                    for kind, path in rows])
        return
    for kind, path in rows:
        state = "exists" if path.is_file() else "not found"
        click.echo(f"{kind}: {path} ({state})")
