"""``swc map``: the repo map a model would be shown, leaning toward a task."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..config import MAX_TOKENS
from .common import AppContext, json_option, pass_app

if TYPE_CHECKING:
    from ..repomap import RepoMap


@click.command("map")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--focus",
    "focus_text",
    metavar="TEXT",
    help="Task text to lean the map toward: an issue, a prompt, test output.",
)
@click.option(
    "--focus-file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=str),
    help="Read the task text from a file ('-' for stdin).",
)
@click.option(
    "--tokens",
    type=click.IntRange(min=1, max=MAX_TOKENS),
    default=None,
    help="Token budget of the map (default: the map_tokens setting, 2048).",
)
@click.option(
    "--model",
    "model_id",
    metavar="MODEL",
    default=None,
    help="Count tokens with this model's tokenizer (default: an estimate).",
)
@click.option(
    "--stats",
    is_flag=True,
    help="Also print files parsed, cache hits, languages and time per stage (stderr).",
)
@json_option
@pass_app
def map_command(
    app: AppContext,
    paths: tuple[str, ...],
    focus_text: str | None,
    focus_file: str | None,
    tokens: int | None,
    model_id: str | None,
    stats: bool,
    json_: bool,
) -> None:
    """Print the repo map: tracked source files and their most relevant signatures.

    PATH... restricts the map to those files or directories. The map is ranked toward
    the files, identifiers and words of the --focus text and fits the --tokens budget.
    """
    from ..repomap import build_repo_map, focus_from_text

    repo = app.repo()
    # the map reads map_tokens and max_file_size only: keys needing trust are held back
    settings = app.settings(check_trust=False)
    text = _focus_text(focus_text, focus_file)
    repo_map = build_repo_map(
        repo.root,
        focus_from_text(text),
        tokens=tokens or settings.map_tokens,
        model=model_id,
        max_file_size=settings.max_file_size,
        state_dir=repo.state_dir,
        paths=[str(Path(p).absolute()) for p in paths] if paths else None,
    )
    from ..output import echo, print_json, warn

    for message in repo_map.warnings:
        warn(message)
    if json_:
        print_json(repo_map.to_dict())
    elif repo_map.text:
        echo(repo_map.text)
    if stats:
        _print_stats(repo_map)


def _focus_text(focus_text: str | None, focus_file: str | None) -> str:
    parts = [focus_text or ""]
    if focus_file:
        with click.open_file(focus_file, encoding="utf-8", errors="replace") as handle:
            parts.append(handle.read())
    return "\n".join(p for p in parts if p)


def _print_stats(repo_map: RepoMap) -> None:
    from ..output import info

    s = repo_map.stats
    languages = ", ".join(f"{k} {v}" for k, v in sorted(s.languages.items())) or "none"
    stages = ", ".join(f"{k} {v:.3f}s" for k, v in s.seconds_per_stage.items())
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(s.skipped.items())) or "none"
    info(
        f"files: {s.files_total} tracked, {s.files_parsed} parsed, {s.cache_hits} from cache; "
        f"{s.definitions} definitions; map {repo_map.tokens} tokens"
    )
    info(f"languages: {languages}")
    info(f"skipped: {skipped}")
    info(f"time: {stages}")
