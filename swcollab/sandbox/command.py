"""A test command: what runs a project's tests, where, and how it was chosen.

Which command a project gets is the ecosystems' business (``swcollab/ecosystems``); this
module only holds the value and parses a command line the user wrote.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

    from ..ecosystems.python_env import PythonEnv

# Tokens that make a command line shell syntax rather than a program and its arguments.
_SHELL_TOKENS = frozenset({"&&", "||", "|", ";", "&", ">", ">>", "<", "2>", "(", ")", "|&"})


@dataclass(frozen=True)
class TestCommand:
    """A test command and how it was chosen ("config", "flag", "detected: ...").

    ``ecosystem`` names the ecosystem that runs it (``swcollab/ecosystems``); ``project``
    is the directory, relative to the repository, it runs in ("" for the top); ``shell``
    says ``argv`` is ``sh -c <the user's line>``."""

    __test__ = False  # not a pytest test class, despite the name

    argv: tuple[str, ...]
    source: str
    # the project's Python environment (None for a project that is not Python)
    python_env: PythonEnv | None = None
    ecosystem: str = ""
    project: str = ""
    shell: bool = False
    # the runner the ecosystem starts itself in place of the command ("jest" for an
    # ``npm test`` whose script is jest alone); "" when the command runs as written
    runner: str = ""

    @property
    def display(self) -> str:
        shown = self.argv[2] if self.shell else shlex.join(self.argv)
        where = f" in {self.project}/" if self.project else ""
        via = ", through sh -c" if self.shell else ""
        return f"{shown}  ({self.source}{where}{via})"

    @property
    def interpreter(self) -> str:
        """Which Python runs the tests and why, for messages ("" when not Python)."""
        return self.python_env.describe() if self.python_env is not None else ""

    @property
    def is_pytest(self) -> bool:
        return is_pytest_argv(self.argv)


def is_pytest_argv(argv: tuple[str, ...]) -> bool:
    from itertools import pairwise
    from pathlib import Path

    if not argv:
        return False
    if Path(argv[0]).name in ("pytest", "py.test"):
        return True
    return any(a == "-m" and b == "pytest" for a, b in pairwise(argv))


def has_shell_syntax(text: str) -> bool:
    """Whether ``text`` needs a shell: ``&&``, ``|``, ``;``, redirections, ``$(...)``,
    backquotes, or ``VAR=value`` before the program."""
    if "$(" in text or "`" in text:
        return True
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return False
    if any(token in _SHELL_TOKENS for token in tokens):
        return True
    first = tokens[0] if tokens else ""
    name, equals, _ = first.partition("=")
    return bool(equals) and name.isidentifier()


def parse_command(text: str, source: str) -> TestCommand:
    """The command line ``text``; one with shell syntax runs as ``sh -c text``."""
    if has_shell_syntax(text):
        return TestCommand(("sh", "-c", text.strip()), source, shell=True)
    try:
        argv = tuple(shlex.split(text))
    except ValueError as exc:
        raise ConfigError(f"test command {text!r} cannot be parsed: {exc}") from None
    if not argv:
        raise ConfigError("the test command is empty")
    return TestCommand(argv, source)


def resolve_program(argv: tuple[str, ...], root: Path, checkout: Path) -> tuple[str, ...]:
    """``argv`` with a relative program path (``.venv/bin/python``) made absolute: in the
    worktree when it is there (a tracked script), else in the user's checkout (an
    untracked environment); ``~`` is expanded."""
    program = os.path.expanduser(argv[0])
    if ("/" in program or os.sep in program) and not os.path.isabs(program):
        in_root, in_checkout = root / program, checkout / program
        if not os.path.lexists(in_root) and os.path.lexists(in_checkout):
            program = os.path.normpath(in_checkout)  # not resolved: a venv's python is a link
    return (program, *argv[1:])
