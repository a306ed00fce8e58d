"""Terminal output: the one door through which text reaches a terminal.

Results go to stdout; progress, warnings and errors go to stderr. With ``--json`` a
command prints exactly one JSON document on stdout and nothing else there. Colour is off
when the stream is not a terminal or when ``NO_COLOR`` is set (rich honours both).

Much of what swc prints is untrusted: repository files, the task and the issue, model
replies, paths, test output. A terminal obeys control sequences in it (set the window
title, clear the screen, hide a link behind other text, reorder a line with a bidi
override), so every printing function here passes its text through ``visible``, which
shows those characters as escapes (``\\x1b``, ``\\u202e``), and never reads it as rich
markup. No other module writes to a terminal (``tests/test_output.py`` checks).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

# C0 controls but tab and newline, DEL, C1 (U+009B is a one-byte CSI), the bidirectional
# controls (embeddings, overrides, isolates, marks) and the line and paragraph separators.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with every character a terminal would obey, rather than show, written as
    an escape: ``"\\x1b[2J"`` for ESC [2J, ``"\\u202e"`` for RIGHT-TO-LEFT OVERRIDE. Tab and
    newline stay as they are."""
    return _UNSAFE.sub(_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


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
    return Console(
        stderr=stderr,
        color_system=colour,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        width=width,
    )


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
    """One JSON document on stdout, exact: the characters ``visible`` escapes are written
    as JSON's own ``\\uXXXX`` escapes (in JSON they occur only inside strings), so the
    document decodes to the same values and shows no control sequence on a terminal."""
    text = json.dumps(document, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write(_UNSAFE.sub(_json_escape, text) + "\n")
    sys.stdout.flush()


def styled(text: str, style: str | None = None) -> Text:
    """Untrusted text as a rich ``Text``: escaped by ``visible``, never read as markup."""
    from rich.text import Text

    return Text(visible(text), style=style or "")


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Plain text, as it is but for ``visible``'s escapes (stdout, or stderr with ``err``)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(visible(text) + ("\n" if nl else ""))
    stream.flush()


def say(text: str, style: str | None = None, *, err: bool = False) -> None:
    """One line through rich (``style`` e.g. "bold green", dropped off a terminal)."""
    console = err_console() if err else out_console()
    console.print(styled(text, style))


def info(message: str) -> None:
    err_console().print(styled(message))


def warn(message: str) -> None:
    from rich.text import Text

    err_console().print(Text.assemble(("warning:", "yellow"), " ", styled(message)))


def one_line(text: str) -> str:
    """``text`` on one line: its lines joined with "; " (an error must stay one line)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines)


def error(message: str, hint: str | None = None) -> None:
    """One line on stderr, ``error: message. hint``: a message of many lines (git's
    stderr, a wrapped hint) is joined, so a log or a CI annotation shows all of it."""
    from rich.text import Text

    line = one_line(message)
    if hint:
        line += ("" if line.endswith((".", "!", "?", ":")) else ".") + " " + one_line(hint)
    err_console().print(Text.assemble(("error:", "bold red"), " ", styled(line)))


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, flexible: Sequence[str] = ()
) -> Table:
    """A table whose columns are never squeezed, except the ``flexible`` ones (free text):
    ids, model names and figures must stay whole however narrow the terminal is. Every
    cell goes through ``visible`` and is never read as markup."""
    from rich.table import Column, Table

    columns = []
    for index, header in enumerate(headers):
        if header in flexible:
            columns.append(
                Column(header, overflow="ellipsis", no_wrap=True, ratio=1, min_width=len(header))
            )
        else:
            width = max([len(header)] + [len(visible(row[index])) for row in rows])
            columns.append(Column(header, no_wrap=True, min_width=width))
    grid = Table(*columns, box=None, pad_edge=False)
    for row in rows:
        grid.add_row(*(styled(cell) for cell in row))
    return grid


def print_table(grid: Table, *, err: bool = False) -> None:
    """A table made by ``table`` (or with ``styled`` cells)."""
    (err_console() if err else out_console()).print(grid)


class StatusLine:
    """A spinner line on stderr while a run works (on a terminal only; ``active`` says)."""

    def __init__(self) -> None:
        self._status: Any = None

    @property
    def active(self) -> bool:
        return self._status is not None

    def __enter__(self) -> StatusLine:
        console = err_console()
        if console.is_terminal:
            self._status = console.status(styled("starting"), spinner="dots")
            self._status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)
            self._status = None

    def update(self, text: str) -> None:
        if self._status is not None:
            self._status.update(styled(text))
