"""``swc config``: what the effective settings are and where each came from."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import Settings, config_files, settings_as_dict
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
    rows += [
        (name, _show_value(row["value"]), row["source"], row["env"]) for name, row in table.items()
    ]
    # plain aligned columns: a rich table would truncate cells to 80 columns when piped
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[3]]))
    click.echo("")
    repo = app.maybe_repo()
    if repo is not None:
        for line in test_environment_lines(repo.root, settings):
            click.echo(line)
    click.echo(sandbox_line(settings))


def sandbox_line(settings: Settings) -> str:
    """Where model-written code runs with these settings (``swc doctor`` says more)."""
    from ..doctor import sandbox_fact

    fact = sandbox_fact(settings)
    line = f"sandbox: {fact.value}"
    return line if fact.ok else f"{line}\n  fix: {fact.hint}"


def test_environment_lines(root: Path, settings: Settings) -> list[str]:
    """Which command runs the tests, with which interpreter, and why (after the table)."""
    from ..errors import SwcError
    from ..sandbox import detect_test_command

    try:
        command = detect_test_command(
            root,
            settings.test_cmd,
            checkout=root,
            source=settings.sources.get("test_cmd", "config"),
        )
    except SwcError as exc:
        return [f"test command: {exc.message}"]
    if command is None:
        return ["test command: none detected (set test_cmd)"]
    lines = [f"test command: {command.display}"]
    if command.python_env is not None:
        lines.append(f"test interpreter: {command.interpreter}")
        lines += [f"  note: {note}" for note in command.python_env.notes]
    return lines


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

        print_json(
            [{"kind": kind, "path": str(path), "exists": path.is_file()} for kind, path in rows]
        )
        return
    for kind, path in rows:
        state = "exists" if path.is_file() else "not found"
        click.echo(f"{kind}: {path} ({state})")
