"""``swc config``: what the effective settings are and where each came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    """Print every setting, the test interpreter and the sandbox.

    Each setting with its value and where it came from, then which command and
    interpreter run the tests here, and why, and where model-written code runs.
    Sources, lowest precedence first: default, user file, repo file, environment, flag.
    A key the repository's file sets without your trust (`swc trust`) is marked
    UNTRUSTED: it is not applied, and swc fix stops until you trust the file.
    --json prints one object: "settings" (each key's value, source, environment
    variable and whether it is trusted), "trust" (the repository's file and the keys
    held back; null without a repository file), "tests" (the test command and
    interpreter, as `swc fix --json` shows them; null outside a repository) and
    "sandbox".
    """
    settings = app.settings(need_repo=False, check_trust=False)
    table = settings_as_dict(settings)
    repo = app.maybe_repo()
    trust = trust_view(settings, repo.root if repo is not None else None)
    tests = test_environment(repo.root, settings) if repo is not None else None
    sandbox = sandbox_view(settings)
    from ..output import echo, print_json

    if json_:
        print_json({"settings": table, "trust": trust, "tests": tests, "sandbox": sandbox})
        return
    rows = [("key", "value", "source", "environment variable")]
    rows += [
        (name, _show_value(row["value"]), _source(row), row["env"]) for name, row in table.items()
    ]
    # plain aligned columns: a rich table would truncate cells to 80 columns when piped
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        echo("  ".join([*cells, row[3]]))
    echo("")
    if trust is not None and trust["keys"]:
        echo(f"untrusted: {settings.untrusted.message()}")  # type: ignore[union-attr]
    if tests is not None:
        for line in test_environment_lines(tests):
            echo(line)
    echo(sandbox_line(sandbox))


def trust_view(settings: Settings, root: Path | None) -> dict[str, Any] | None:
    """The repository's file and the keys it sets without trust (held back, not applied)."""
    from ..config import config_files, read_repo_config

    if settings.untrusted is not None:
        held = settings.untrusted
        return {
            "file": held.origin,
            "trusted": False,
            "changed": held.changed,
            "keys": list(held.values),
        }
    repo = read_repo_config(config_files(root)) if root is not None else None
    if repo is None:
        return None
    return {"file": repo.origin, "trusted": True, "changed": False, "keys": []}


def _source(row: dict[str, Any]) -> str:
    return row["source"] if row["trusted"] else f"{row['source']} (UNTRUSTED: not applied)"


def sandbox_view(settings: Settings) -> dict[str, Any]:
    """Where model-written code runs with these settings (``swc doctor`` says more)."""
    from ..doctor import sandbox_fact

    fact = sandbox_fact(settings)
    return {
        "value": fact.value,
        "ok": fact.ok,
        "fix": None if fact.ok else fact.hint,
        "details": fact.details,
    }


def sandbox_line(sandbox: dict[str, Any]) -> str:
    line = f"sandbox: {sandbox['value']}"
    return f"{line}\n  fix: {sandbox['fix']}" if sandbox["fix"] else line


def test_environment(root: Path, settings: Settings) -> dict[str, Any]:
    """Which command runs the tests, with which interpreter and why (the shape of ``swc
    fix --json``'s ``tests.command`` and ``tests.interpreter``); or why there is none."""
    from ..ecosystems import detect_test_command
    from ..errors import SwcError

    facts: dict[str, Any] = {"command": None, "interpreter": None, "problem": None}
    try:
        command = detect_test_command(
            root,
            settings.test_cmd,
            checkout=root,
            source=settings.sources.get("test_cmd", "config"),
        )
    except SwcError as exc:
        return {**facts, "problem": exc.message}
    if command is None:
        return {**facts, "problem": "none detected (set test_cmd)"}
    env = command.python_env
    return {**facts, "command": command.display, "interpreter": env and env.as_dict()}


def test_environment_lines(tests: dict[str, Any]) -> list[str]:
    """The test facts as ``swc config show`` prints them after the table."""
    if tests["command"] is None:
        return [f"test command: {tests['problem']}"]
    lines = [f"test command: {tests['command']}"]
    interpreter = tests["interpreter"]
    if interpreter is not None:
        lines.append(f"test interpreter: {interpreter['python']} ({interpreter['reason']})")
        lines += [f"  note: {note}" for note in interpreter["notes"]]
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
    from ..output import echo, print_json

    if json_:
        print_json(
            [{"kind": kind, "path": str(path), "exists": path.is_file()} for kind, path in rows]
        )
        return
    for kind, path in rows:
        state = "exists" if path.is_file() else "not found"
        echo(f"{kind}: {path} ({state})")
