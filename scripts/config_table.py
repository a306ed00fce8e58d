"""Render the README's generated tables from the code, so they never go stale.

    python scripts/config_table.py          # rewrite the tables in README.md
    python scripts/config_table.py --check  # exit 1 if README.md is out of date

Two blocks are generated, each between ``<!-- BEGIN name -->`` and ``<!-- END name -->``
markers: ``config-table`` (every key of ``swcollab.config.KEYS`` with its environment
variable and default) and ``exit-codes`` (``swcollab.errors.EXIT_CODE_TABLE``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from swcollab.config import KEYS, default_value
from swcollab.errors import EXIT_CODE_TABLE

README = Path(__file__).resolve().parent.parent / "README.md"


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
        "| key | environment variable | type | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for key in KEYS.values():
        value = default_value(key.name)
        default = "unset" if value is None else f"`{toml_literal(value)}`"
        kind = key.type_name + (f", {key.range_text}" if key.range_text else "")
        lines.append(
            f"| `{key.name}` | `{key.env_var}` | {_cell(kind)} | {default} "
            f"| {_cell(key.help)} |"
        )
    return "\n".join(lines)


def exit_code_table() -> str:
    lines = ["| code | meaning |", "|---|---|"]
    lines += [f"| {code} | {_cell(meaning)} |" for code, meaning in EXIT_CODE_TABLE]
    return "\n".join(lines)


BLOCKS = {"config-table": config_table, "exit-codes": exit_code_table}


def render(text: str) -> str:
    """``text`` with every generated block replaced by its current content."""
    for name, make in BLOCKS.items():
        pattern = re.compile(
            rf"(<!-- BEGIN {name}\b[^\n]*-->\n)(?:.*?\n)?(<!-- END {name} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- BEGIN {name} ... --> block")
        block = make() + "\n"
        text = pattern.sub(lambda m, block=block: m.group(1) + block + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report a stale README")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    current = args.readme.read_text()
    wanted = render(current)
    if args.check:
        if current != wanted:
            print(f"{args.readme} is stale: run python scripts/config_table.py")
            return 1
        return 0
    if current != wanted:
        args.readme.write_text(wanted)
        print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
