"""Terminal output conventions: people read stderr (rich), machines read stdout.

Results go to stdout; progress, warnings and errors go to stderr. With ``--json`` a
command prints exactly one JSON document on stdout and nothing else there. Colour is off
when the stream is not a terminal or when ``NO_COLOR`` is set (rich honours both).
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


@lru_cache(maxsize=1)
def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


@lru_cache(maxsize=1)
def out_console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def reset_consoles() -> None:
    """Forget cached consoles (tests swap sys.stdout/sys.stderr between invocations)."""
    err_console.cache_clear()
    out_console.cache_clear()


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    err_console().print(f"[yellow]warning:[/yellow] {message}", markup=True)


def info(message: str) -> None:
    err_console().print(message, markup=False)
