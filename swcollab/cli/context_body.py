"""The body of ``swc context`` and ``swc fix --show-context`` (imported when they run)."""

from __future__ import annotations

from typing import Any

from ..config import Settings
from ..gitrepo import RepoPaths
from ..output import echo, info, print_json, warn
from ..task import Task
from .common import AppContext
from .task_options import task_for

FLAG_KEYS = {
    "weak": "weak.model",
    "strong": "strong.model",
    "strategy": "strategy",
    "test_cmd": "test_cmd",
    "test_timeout": "test_timeout",
    "map_tokens": "map_tokens",
    "context_tokens": "context_tokens",
}


def run(app: AppContext, *, json_: bool, options: dict[str, Any]) -> None:
    repo = app.repo()
    settings = app.settings({key: options.get(flag) for flag, key in FLAG_KEYS.items()})
    task, _issue = task_for(repo, settings, options)
    show(repo, settings, task, options, json_=json_)


def show(
    repo: RepoPaths, settings: Settings, task: Task, options: dict[str, Any], *, json_: bool
) -> None:
    """Print the patch prompt the task would get: messages on stdout, a summary on stderr."""
    from ..engine import FixRequest
    from ..engine.preview import preview, render_text, summary

    request = FixRequest(
        task=task,
        repo=repo,
        settings=settings,
        base=options["base"],
        include_dirty=options["include_dirty"],
    )
    view = preview(request, tier=options.get("tier"))
    if json_:
        print_json(view)
    else:
        echo(render_text(view), nl=False)
        for line in summary(view):
            info(line)
        for note in view["notes"]:
            info(f"note: {note}")
    for message in view["warnings"]:
        warn(message)
