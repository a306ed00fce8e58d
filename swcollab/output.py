"""Terminal output conventions: people read stderr (rich), machines read stdout.

Results go to stdout; progress, warnings and errors go to stderr. With ``--json`` a
command prints exactly one JSON document on stdout and nothing else there. Colour is off
when the stream is not a terminal or when ``NO_COLOR`` is set (rich honours both).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def colour_disabled(environ: Mapping[str, str] | None = None) -> bool:
    """True when the user asked for no colour (https://no-color.org: set and not empty)."""
    env = os.environ if environ is None else environ
    return env.get("NO_COLOR", "") != ""


PIPE_WIDTH = 200


def _console(*, stderr: bool) -> Console:
    from rich.console import Console

    # rich alone would keep bold and underline under NO_COLOR; no colour system at all
    # means no escape sequences. Off a terminal rich already writes plain text.
    colour = None if colour_disabled() else "auto"
    stream = sys.stderr if stderr else sys.stdout
    # Off a terminal (a pipe, a file, CI logs) rich assumes 80 columns and drops the
    # columns of a wide table that do not fit; a reader of the file wants them all.
    width = None
    if not (hasattr(stream, "isatty") and stream.isatty()) and not os.environ.get("COLUMNS"):
        width = PIPE_WIDTH
    return Console(stderr=stderr, color_system=colour, highlight=False, soft_wrap=True, width=width)


@lru_cache(maxsize=1)
def err_console() -> Console:
    return _console(stderr=True)


@lru_cache(maxsize=1)
def out_console() -> Console:
    return _console(stderr=False)


def reset_consoles() -> None:
    """Forget cached consoles (tests swap sys.stdout/sys.stderr between invocations)."""
    err_console.cache_clear()
    out_console.cache_clear()


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    from rich.markup import escape

    err_console().print(f"[yellow]warning:[/yellow] {escape(message)}", markup=True)


def error(message: str, hint: str | None = None) -> None:
    """One line ``error: message`` on stderr (plus the hint, if any, on the next line)."""
    from rich.markup import escape

    console = err_console()
    console.print(f"[bold red]error:[/bold red] {escape(message)}", markup=True)
    if hint:
        console.print(hint, markup=False)


def info(message: str) -> None:
    err_console().print(message, markup=False)
