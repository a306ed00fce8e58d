"""``swc hook``: install the git hook that fixes failing tests in the background."""

from __future__ import annotations

import click

from ..errors import EnvironmentProblem, SwcError
from ..output import echo
from .common import AppContext, pass_app

HOOK_CHOICES = ("pre-push", "pre-commit", "post-commit")  # = hooks.HOOK_NAMES, kept light


@click.group("hook")
def hook_group() -> None:
    """Run the tests from a git hook; when they fail, swc fixes them in the background.

    The push is never blocked unless the hook was installed with --blocking. A hook that
    was already there is kept and runs first; uninstall puts it back.
    """


@hook_group.command("install")
@click.option(
    "--hook",
    "hook_name",
    type=click.Choice(HOOK_CHOICES),
    default="pre-push",
    show_default=True,
    help="Which git hook to install.",
)
@click.option(
    "--blocking", is_flag=True, help="Stop the push when the tests fail (default: never block it)."
)
@pass_app
def hook_install(app: AppContext, hook_name: str, blocking: bool) -> None:
    """Install swc's hook (respects core.hooksPath; running it again is harmless)."""
    from ..hooks import install_hook

    result = install_hook(app.repo().root, hook_name, blocking=blocking)
    verb = "rewrote" if result.reinstalled else "installed"
    mode = "blocking" if result.blocking else "never blocks"
    echo(f"{verb} {result.path} ({mode})")
    if result.kept_original is not None:
        echo(f"kept the previous hook as {result.kept_original}; it runs first")


@hook_group.command("uninstall")
@click.option(
    "--hook",
    "hook_name",
    type=click.Choice(HOOK_CHOICES),
    default="pre-push",
    show_default=True,
    help="Which git hook to remove.",
)
@pass_app
def hook_uninstall(app: AppContext, hook_name: str) -> None:
    """Remove swc's hook and put back the hook it replaced."""
    from ..hooks import uninstall_hook

    result = uninstall_hook(app.repo().root, hook_name)
    if result.removed:
        echo(f"removed {result.path}")
    if result.restored:
        echo(f"restored the previous hook at {result.path}")
    if result.note:
        echo(result.note)


@hook_group.command("run", hidden=True)
@click.option("--hook", "hook_name", default="pre-push", help="The hook being run.")
@click.option("--blocking", is_flag=True, help="Exit 1 when the tests fail.")
@click.pass_context
@pass_app
def hook_run(app: AppContext, ctx: click.Context, hook_name: str, blocking: bool) -> None:
    """What the installed hook (and the pre-commit framework) calls."""
    from ..hooks import run_hook

    try:
        try:
            settings = app.settings()
            result = run_hook(
                app.repo(),
                test_cmd=settings.test_cmd,
                timeout=settings.test_timeout,
                blocking=blocking,
                hook=hook_name,
            )
        except OSError as exc:
            raise EnvironmentProblem(f"cannot run the hook: {exc}") from exc
    except SwcError as exc:
        if blocking:
            raise
        # The promise of a non-blocking hook: a problem in swc never stops the push.
        echo(f"swc hook: {exc.message}; not blocking the {hook_name}", err=True)
        return
    for line in result.lines:
        echo(line, err=True)
    ctx.exit(result.exit_code)
