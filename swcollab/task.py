"""Task intake: what to fix, from a prompt, a file, failing tests or a GitHub issue.

A ``Task`` is plain data. The text of a task is untrusted (anyone can write an issue):
it is shown to models as data and never decides what swc runs, where it writes or which
tests it uses. Only the user's own flags do that (``--tests``, ``--test-cmd``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError
from .gitout import slugify

MAX_PROMPT_FILE_BYTES = 1_000_000
MAX_TITLE_CHARS = 200

# Lone surrogates: what Python makes of bytes that are not UTF-8 in argv, the
# environment, or JSON's "\ud800". SQLite, git and terminals cannot take them.
_SURROGATES = re.compile("[\ud800-\udfff]")
# Control characters (newlines included), DEL, C1, bidirectional overrides and
# zero-width characters: none belongs in a one-line title.
_TITLE_JUNK = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]+")


def clean_text(text: str) -> str:
    """Text any later stage can store, commit or print: NUL and invalid UTF-8 become
    U+FFFD (so a reader sees something was there), line ends become ``\\n``."""
    text = _SURROGATES.sub("\ufffd", text.replace("\x00", "\ufffd"))
    return text.replace("\r\n", "\n")


def clean_title(text: str) -> str:
    """One printable line of at most ``MAX_TITLE_CHARS`` characters."""
    line = " ".join(_TITLE_JUNK.sub(" ", clean_text(text)).split())
    return line if len(line) <= MAX_TITLE_CHARS else line[: MAX_TITLE_CHARS - 3] + "..."


@dataclass(frozen=True)
class Task:
    kind: str  # "prompt" | "issue" | "failing-tests"
    title: str
    text: str  # what the model reads, already delimited where it is untrusted
    slug: str  # branch name part: swc/<slug>
    issue_number: int | None = None
    issue_url: str | None = None
    test_output: str = ""  # output of the failing test run, for --from-failing-tests
    user_tests: tuple[str, ...] = ()  # test files or ids the user named; must fail on base
    failing_tests: tuple[str, ...] = ()  # ids that failed in --from-failing-tests
    labels: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Normalised here, at intake, whatever built the task (prompt, file, stdin, issue,
        # test output, eval task): a model call is paid for before the commit, the ledger
        # row or the branch name would trip on a NUL byte or an undecodable one.
        fix = object.__setattr__
        fix(self, "title", clean_title(self.title) or "untitled task")
        fix(self, "text", clean_text(self.text))
        fix(self, "test_output", clean_text(self.test_output))
        fix(self, "slug", slugify(self.slug))
        fix(self, "labels", tuple(clean_title(label) for label in self.labels))

    @property
    def summary(self) -> str:
        return self.title if len(self.title) <= 80 else self.title[:77] + "..."


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line
    return ""


def check_user_tests(tests: tuple[str, ...]) -> tuple[str, ...]:
    """``--tests`` values end up in reports, JSON and the ledger: they must be UTF-8."""
    for test in tests:
        if test != clean_text(test) or not test.strip():
            raise UsageError(
                f"--tests {test!r}: not a usable test name (empty, NUL or bytes "
                "that are not UTF-8)",
                hint="Rename the test file, or name it by a path that is UTF-8.",
            )
    return tests


def task_from_prompt(text: str, *, user_tests: tuple[str, ...] = ()) -> Task:
    text = text.strip()
    if not text:
        raise UsageError("the prompt is empty; say what to fix")
    title = _first_line(text)
    return Task(kind="prompt", title=title, text=text, slug=slugify(title), user_tests=user_tests)


def read_prompt_file(path: str) -> str:
    """Read ``--prompt-file``; ``-`` reads standard input. Either is capped at
    ``MAX_PROMPT_FILE_BYTES``, and bytes that are not UTF-8 become U+FFFD."""
    if path == "-":
        stream = getattr(sys.stdin, "buffer", None)
        data = (
            stream.read(MAX_PROMPT_FILE_BYTES + 1)
            if stream is not None
            else (sys.stdin.read(MAX_PROMPT_FILE_BYTES + 1).encode("utf-8", "surrogateescape"))
        )
        if len(data) > MAX_PROMPT_FILE_BYTES:
            raise UsageError(
                f"--prompt-file -: standard input is larger than {MAX_PROMPT_FILE_BYTES} bytes",
                hint="Shorten the task text: the model needs the problem, not every log line.",
            )
        return data.decode("utf-8", errors="replace")
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"--prompt-file {path}: no such file")
    if file.stat().st_size > MAX_PROMPT_FILE_BYTES:
        raise UsageError(f"--prompt-file {path}: larger than {MAX_PROMPT_FILE_BYTES} bytes")
    return file.read_bytes().decode("utf-8", errors="replace")


def task_from_failing_tests(
    output: str, failing: tuple[str, ...], *, command: str, user_tests: tuple[str, ...] = ()
) -> Task:
    names = ", ".join(failing[:5]) + (" and more" if len(failing) > 5 else "")
    title = f"Make failing tests pass: {names}" if failing else "Make the failing tests pass"
    text = (
        f"The project's tests fail. Fix the code (not the tests) so they pass.\n"
        f"Test command: {command}\n"
        f"Failing tests: {names or 'see the output'}\n"
    )
    slug = slugify("fix " + (failing[0].split("::")[-1] if failing else "failing tests"))
    return Task(
        kind="failing-tests",
        title=title,
        text=text,
        slug=slug,
        test_output=output,
        user_tests=user_tests,
        failing_tests=failing,
    )
