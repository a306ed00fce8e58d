"""The repo map's quality corpus: issue-like tasks on real code, and the file each needs.

The code is the source of four pure-Python packages installed with swc (click, jinja2,
rich, httpx), copied into one temporary git repository (about 170 Python files). No task
names its file; each names at most the classes or functions a reporter would see in the
documentation. ``marker`` is text that must be in the target file for the task to make
sense for the installed version (otherwise the task is skipped).

Run ``python tests/repomap/quality_tasks.py`` to print the hit rate and where each target
ranks.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("click", "jinja2", "rich", "httpx")
MAP_TOKENS = 1024


@dataclass(frozen=True)
class Task:
    id: str
    text: str
    target: str
    marker: str


TASKS = (
    Task(
        "click-eta",
        "The progress bar shows a wrong estimated time remaining: with more than a day left "
        "the eta text prints hours past 24 instead of days, e.g. '1d 02:00:00' expected.",
        "click/_termui_impl.py",
        "def format_eta",
    ),
    Task(
        "click-zsh",
        "Shell completion for zsh breaks when a completion value contains a colon: the "
        "colon must be escaped in the generated completion output, bash and fish are fine.",
        "click/shell_completion.py",
        "class ZshComplete",
    ),
    Task(
        "click-usage-wrap",
        "The help page wraps the usage line too early: with a long program name the "
        "arguments are pushed to the next line even though the terminal is wide enough. "
        "The help formatter should measure the prefix and indentation properly.",
        "click/formatting.py",
        "def write_usage",
    ),
    Task(
        "click-runner-env",
        "CliRunner.invoke with env={'FOO': None} should unset FOO during the call, but the "
        "isolation leaves the variable set, and it is not restored after an exception.",
        "click/testing.py",
        "def isolation",
    ),
    Task(
        "jinja-truncate",
        "The truncate filter counts the length wrong: with killwords=False and a leeway "
        "the output plus the end marker '...' can be longer than the requested length.",
        "jinja2/filters.py",
        "def do_truncate",
    ),
    Task(
        "jinja-followlinks",
        "Listing templates with list_templates() skips templates inside symlinked "
        "directories of the search path, even when followlinks=True was given to the loader.",
        "jinja2/loaders.py",
        "followlinks",
    ),
    Task(
        "jinja-bccache",
        "The bytecode cache that stores compiled templates in a directory leaves temporary "
        "files behind when writing the cache file fails halfway, and its default directory "
        "is not private to the user.",
        "jinja2/bccache.py",
        "class FileSystemBytecodeCache",
    ),
    Task(
        "jinja-sandbox-format",
        "In the sandboxed environment, calling format_map on a string with a mapping lets "
        "templates reach unsafe attributes; the sandbox should check str.format_map like it "
        "checks str.format.",
        "jinja2/sandbox.py",
        "format_map",
    ),
    Task(
        "jinja-lstrip",
        "With lstrip_blocks enabled, whitespace before a block tag is not stripped when the "
        "tag starts with '{%+' or follows a line comment; the tokenizer's regex for block "
        "starts seems to miss this case.",
        "jinja2/lexer.py",
        "lstrip_blocks",
    ),
    Task(
        "rich-transfer-speed",
        "In a progress display, the column that shows the transfer speed in bytes per second "
        "prints '?' forever when the task has no total set; it should still show the speed.",
        "rich/progress.py",
        "class TransferSpeedColumn",
    ),
    Task(
        "rich-table-min-width",
        "A table whose columns use ratio ignores the column min_width when the console is "
        "narrow: the ratio-distributed widths go below the minimum and cells get cut.",
        "rich/table.py",
        "min_width",
    ),
    Task(
        "rich-syntax-tabs",
        "Highlighted source code with line numbers is misaligned when the code contains tab "
        "characters: tab_size is applied after the line number gutter width is computed.",
        "rich/syntax.py",
        "tab_size",
    ),
    Task(
        "rich-markdown-ordered",
        "Rendering markdown with an ordered list that starts at 3 numbers the items 1, 2, 3 "
        "instead of 3, 4, 5; nested list items also lose their numbering.",
        "rich/markdown.py",
        "class ListElement",
    ),
    Task(
        "rich-filesize",
        "Human-readable file sizes round badly: 999950 bytes is shown as '1000.0 kB' "
        "instead of '1.0 MB' when formatting with the decimal (powers of 1000) units.",
        "rich/filesize.py",
        "def decimal",
    ),
    Task(
        "rich-traceback-chained",
        "Pretty tracebacks drop the context of chained exceptions: for 'raise X from Y' "
        "the cause is shown, but an exception raised while handling another "
        "(__context__) is missing when suppress_context is False.",
        "rich/traceback.py",
        "__cause__",
    ),
    Task(
        "httpx-multipart-filename",
        "Uploading a file whose filename has non-ASCII characters produces an invalid "
        "Content-Disposition header in the multipart form data body.",
        "httpx/_multipart.py",
        "filename",
    ),
    Task(
        "httpx-ipv6",
        "Parsing a URL with an IPv6 host and a port, like http://[::1]:8080/, loses the "
        "square brackets when the host is encoded, so the request goes to a bad authority.",
        "httpx/_urlparse.py",
        "IPv6",
    ),
)


def site_packages() -> Path:
    import click

    return Path(click.__file__).resolve().parent.parent


def make_corpus_repo(dest: Path) -> Path:
    """A git repository holding the installed packages' sources, committed."""
    source = site_packages()
    dest.mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        shutil.copytree(
            source / package, dest / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "corpus"],
    ):
        subprocess.run(["git", *args], cwd=dest, check=True)
    return dest


def applicable(repo: Path, task: Task) -> bool:
    target = repo / task.target
    return target.is_file() and task.marker in target.read_text("utf-8")


def main() -> None:  # pragma: no cover - a tuning aid
    import tempfile

    from swcollab.repomap import build_repo_map, focus_from_text

    with tempfile.TemporaryDirectory() as tmp:
        repo = make_corpus_repo(Path(tmp) / "corpus")
        hits = 0
        for task in TASKS:
            result = build_repo_map(repo, focus_from_text(task.text), tokens=MAP_TOKENS)
            order = [f.path for f in result.files]
            position = order.index(task.target) + 1 if task.target in order else None
            hit = task.target in result.shown
            hits += hit
            print(
                f"{'HIT ' if hit else 'miss'} rank {position:>3} of {len(order)} "
                f"shown {len(result.shown):>2}  {task.id}: {task.target}  top: {order[:3]}"
            )
        print(f"hit rate at {MAP_TOKENS} tokens: {hits}/{len(TASKS)}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
