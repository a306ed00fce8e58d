"""Generated blocks in markdown files: the part between ``<!-- BEGIN name ... -->`` and
``<!-- END name -->`` is rewritten from the code; everything around it is left as written.

Shared by the doc generators (``config_table.py``, ``cli_reference.py``); each one names its
blocks and the files that hold them, and has a ``--check`` mode for the drift tests.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def block_names(text: str) -> list[str]:
    """The generated blocks a file holds, in order."""
    return re.findall(r"<!-- BEGIN ([\w-]+)\b[^\n]*-->", text)


def render(text: str, blocks: Mapping[str, Callable[[], str]]) -> str:
    """``text`` with each of its generated blocks that ``blocks`` knows replaced."""
    for name in block_names(text):
        make = blocks.get(name)
        if make is None:
            continue
        pattern = re.compile(
            rf"(<!-- BEGIN {name}\b[^\n]*-->\n)(?:.*?\n)?(<!-- END {name} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise SystemExit(f"<!-- BEGIN {name} --> has no <!-- END {name} -->")
        body = make().rstrip("\n") + "\n"
        text = pattern.sub(lambda m, body=body: m.group(1) + body + m.group(2), text)
    return text


def sync(
    files: Sequence[Path], blocks: Mapping[str, Callable[[], str]], *, check: bool, command: str
) -> int:
    """Rewrite (or with ``check`` only report) every file whose blocks are stale.

    Each file must hold at least one of ``blocks``; 1 when something is stale (check) or a
    file holds none, else 0."""
    cache: dict[str, str] = {}
    memo = {
        name: (lambda name=name, make=make: cache.setdefault(name, make()))
        for name, make in blocks.items()
    }
    status = 0
    for path in files:
        current = path.read_text(encoding="utf-8")
        if not set(block_names(current)) & set(blocks):
            print(f"{path}: holds none of the blocks {', '.join(blocks)}")
            status = 1
            continue
        wanted = render(current, memo)
        if current == wanted:
            continue
        if check:
            print(f"{path} is stale: run {command}")
            status = 1
        else:
            path.write_text(wanted, encoding="utf-8")
            print(f"updated {path}")
    return status


def generator_main(
    argv: list[str] | None,
    *,
    description: str,
    files: Sequence[Path],
    blocks: Mapping[str, Callable[[], str]],
    command: str,
) -> int:
    """The command line every generator shares: ``[--check] [files...]``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        help="default: " + ", ".join(str(f.relative_to(ROOT)) for f in files),
    )
    args = parser.parse_args(argv)
    return sync(args.files or files, blocks, check=args.check, command=command)
