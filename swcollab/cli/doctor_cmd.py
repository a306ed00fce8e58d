"""``swc doctor``: is this machine ready for swc, and which sandbox does it get?"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ..errors import EXIT_ENVIRONMENT

if TYPE_CHECKING:
    from ..doctor import Report
from .common import AppContext, json_option, pass_app

DOCTOR_HELP = """Check what swc needs here: git, the repository, the OS sandbox for
model-written code (bubblewrap on Linux, sandbox-exec on macOS, and why none when none
works), the test command and the models.

Exits 0 when swc fix can run, 3 when something blocks it (no git, no working sandbox
while the sandbox is on, no test command found or one that cannot start).
"""


@click.command("doctor", help=DOCTOR_HELP)
@json_option
@pass_app
def doctor(app: AppContext, json_: bool) -> None:
    from ..doctor import gather

    repo = app.maybe_repo()
    settings = app.settings(need_repo=False, check_trust=False)
    report = gather(repo.root if repo else None, settings)
    if json_:
        from ..output import print_json

        print_json(report.as_dict())
    else:
        _render(report)
    sys.exit(0 if report.ready else EXIT_ENVIRONMENT)


def _render(report: Report) -> None:
    from ..output import say

    for fact in report.facts:
        mark = "ok " if fact.ok else ("!! " if fact.blocking else "-- ")
        say(f"{mark}{fact.name}: {fact.value}")
        if fact.hint and not fact.ok:
            say(f"     {fact.hint}")
    ready = report.ready
    say("ready: swc fix can run here" if ready else "not ready: fix the problems marked !! first")
