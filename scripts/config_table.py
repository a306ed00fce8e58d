"""Render the configuration and exit-code tables from the code, so they never go stale.

    python scripts/config_table.py          # rewrite the tables where they are
    python scripts/config_table.py --check  # exit 1 if a file is out of date

Two blocks, each between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` markers:
``config-table`` (every key of ``swcollab.config.KEYS`` with its environment variable,
default and whether a repository's file sets it only once trusted) and ``exit-codes``
(``swcollab.errors.EXIT_CODE_TABLE``). They are in README.md and in the reference pages
of docs/.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated import ROOT, generator_main, render

from swcollab.config import KEYS, default_value
from swcollab.errors import EXIT_CODE_TABLE

FILES = (
    ROOT / "README.md",
    ROOT / "docs" / "reference" / "configuration.md",
    ROOT / "docs" / "reference" / "exit-codes.md",
)
COMMAND = "python scripts/config_table.py"


def toml_literal(value: Any) -> str:
    """A default as it would be written in ``.swc.toml``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def config_table() -> str:
    lines = [
        "| key | environment variable | type | default | from a repo file | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for key in KEYS.values():
        value = default_value(key.name)
        default = "unset" if value is None else f"`{toml_literal(value)}`"
        kind = key.type_name + (f", {key.range_text}" if key.range_text else "")
        repo = "once trusted" if key.needs_trust else "yes"
        lines.append(
            f"| `{key.name}` | `{key.env_var}` | {_cell(kind)} | {default} | {repo} "
            f"| {_cell(key.help)} |"
        )
    return "\n".join(lines)


def exit_code_table() -> str:
    lines = ["| code | meaning |", "|---|---|"]
    lines += [f"| {code} | {_cell(meaning)} |" for code, meaning in EXIT_CODE_TABLE]
    return "\n".join(lines)


BLOCKS = {"config-table": config_table, "exit-codes": exit_code_table}

__all__ = ["BLOCKS", "FILES", "config_table", "exit_code_table", "main", "render"]


def main(argv: list[str] | None = None) -> int:
    return generator_main(
        argv, description=__doc__.splitlines()[0], files=FILES, blocks=BLOCKS, command=COMMAND
    )


if __name__ == "__main__":
    sys.exit(main())
