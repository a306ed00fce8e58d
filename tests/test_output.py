"""One door to the terminal: ``output.visible`` and the printing functions built on it.

Untrusted text (repository files, the task, model replies, paths, test output) may hold
control sequences a terminal obeys: ESC [2J clears the screen, OSC 0 sets the window
title, OSC 8 hides a link, U+009B is a one-byte CSI, U+202E reorders what a line shows.
Every one must reach a terminal as a visible escape, and ``--json`` must stay exact.
"""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import pytest

from swcollab import output

PACKAGE = Path(__file__).resolve().parent.parent / "swcollab"

HOSTILE = (
    "clear\x1b[2J title\x1b]0;pwned\x07 link\x1b]8;;http://evil\x1b\\here\x1b]8;;\x1b\\ "
    "csi\x9b31m bell\x07 back\x08 cr\r del\x7f nul\x00 rlo\u202eexe.txt iso\u2066x\u2069 "
    "lrm\u200e alm\u061c ls\u2028ps\u2029 nel\x85"
)
UNSAFE = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]] + list(
    "\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def raw_unsafe(text: str) -> list[str]:
    return [char for char in text if char in UNSAFE]


def test_visible_escapes_every_character_a_terminal_obeys() -> None:
    shown = output.visible(HOSTILE)
    assert raw_unsafe(shown) == []
    for escape in ("\\x1b[2J", "\\x9b31m", "\\x07", "\\r", "\\x7f", "\\x00", "\\u202e"):
        assert escape.replace("\\r", "\\x0d") in shown
    assert "\\u2066x\\u2069" in shown and "\\u2028" in shown and "\\x85" in shown


@pytest.mark.parametrize("char", UNSAFE)
def test_each_unsafe_character_becomes_an_escape(char: str) -> None:
    shown = output.visible(f"a{char}b")
    assert shown.startswith("a\\") and shown.endswith("b") and char not in shown


def test_visible_keeps_ordinary_text() -> None:
    text = "tab\there\nnext line: café 中文 emoji 🙂 zwj 👩‍💻 [bold]not markup[/]"
    assert output.visible(text) == text


def test_json_stays_exact_and_shows_no_control_character(
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = {"text": HOSTILE, "list": [HOSTILE], HOSTILE: 1}
    output.print_json(document)
    printed = capsys.readouterr().out
    assert raw_unsafe(printed) == []
    assert json.loads(printed) == document


def test_printing_never_reads_text_as_markup_and_stays_one_door(
    capsys: pytest.CaptureFixture[str],
) -> None:
    output.reset_consoles()
    output.say("[bold red]title[/] [/unclosed] :smile: " + HOSTILE)
    output.info("[link=http://evil]x[/link]")
    output.warn("[/]")
    output.echo(HOSTILE)
    output.print_table(output.table(["a", "b"], [["[red]x[/]", "\x1b]0;t\x07\x9b2J"]]))
    captured = capsys.readouterr()
    assert raw_unsafe(captured.out + captured.err) == []
    assert "[bold red]title[/] [/unclosed] :smile:" in captured.out
    assert "[link=http://evil]x[/link]" in captured.err and "warning: [/]" in captured.err
    assert "[red]x[/]" in captured.out


def test_an_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    output.reset_consoles()
    output.error("git apply failed:\nerror: patch failed: a.py:1\nerror: a.py: does not apply")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: git apply failed")


# --- the one door: nothing else writes to a terminal ----------------------------------------

# module -> why it may write without ``output`` (each must say why)
ALLOWED_WRITERS = {
    "__main__.py": "a fixed message when Ctrl-C comes before the CLI is imported",
    "interrupts.py": "the last message of a process that ends at once; passed through visible",
}
PRINTING_ATTRIBUTES = {"echo", "secho", "print", "status", "write", "print_json"}


def _writes(tree: ast.AST) -> list[str]:
    """Calls that write to a terminal: print(), click.echo/secho, console.print/status,
    sys.stdout/stderr.write."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "print":
            found.append(f"print() at line {node.lineno}")
        elif isinstance(func, ast.Attribute) and func.attr in PRINTING_ATTRIBUTES:
            owner = ast.unparse(func.value)
            if func.attr == "write" and owner not in ("sys.stdout", "sys.stderr", "stream"):
                continue  # files and pipes, not a terminal
            if func.attr == "print_json" or owner in ("output", ".output"):
                continue
            found.append(f"{owner}.{func.attr}() at line {node.lineno}")
    return found


def test_only_output_writes_to_the_terminal() -> None:
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "output.py" or rel in ALLOWED_WRITERS:
            continue
        writes = _writes(ast.parse(path.read_text(encoding="utf-8")))
        if writes:
            offenders[rel] = writes
    assert offenders == {}, "print through swcollab/output.py (visible, no markup)"


def test_the_scan_finds_a_direct_write() -> None:
    source = "import click, sys\nclick.echo(x)\nconsole.print(y)\nsys.stdout.write(z)\nprint(w)\n"
    assert len(_writes(ast.parse(source))) == 4


def test_status_line_text_is_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spinner line (a terminal only) shows the same escapes, never markup."""
    from rich.console import Console

    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, markup=False, highlight=False)
    monkeypatch.setattr(output, "err_console", lambda: console)
    with output.StatusLine() as status:
        assert status.active
        status.update("[draft weak] " + HOSTILE)
        text = status._status.renderable.text  # the spinner's Text
        assert raw_unsafe(text.plain) == [] and text.plain.startswith("[draft weak] ")
