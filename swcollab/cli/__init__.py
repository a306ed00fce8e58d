"""The ``swc`` command line: parses options, calls the stages, renders results.

Command modules import only click and light modules at import time; anything slow
(litellm, tree-sitter) is imported inside the function that runs the command,
so ``swc --help`` and shell completion stay fast.
"""

from __future__ import annotations

import os
import traceback

import click

from .. import __version__
from ..errors import EXIT_CODE_TABLE, EXIT_INTERRUPTED, SwcError
from ..interrupts import run_to_exit, watching_interrupts
from .brief_cmd import brief
from .common import AppContext
from .config_cmd import config_group
from .context_cmd import context_command
from .doctor_cmd import doctor
from .eval_cmd import eval_group
from .fix_cmd import fix
from .hook_cmd import hook_group
from .map_cmd import map_command
from .runs_cmd import runs_group, stats_command
from .trust_cmd import trust_command

HELP = f"""swc fixes a GitHub issue, a prompt or a failing test in a git repository.

A cheap weak model drafts the patch, tests generated during the run decide whether it is
good enough, and the work escalates to a strong model when they fail. The result is a new
branch for you to review; your working tree is never touched.

\b
Exit codes:
{chr(10).join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODE_TABLE)}
"""


class SwcGroup(click.Group):
    """Turns ``SwcError`` into one line on stderr and its exit code (traceback with --debug).

    Ctrl-C and SIGTERM stop every command, even when a library swallowed their first raise
    (``interrupts.watching_interrupts``): exit 130.
    """

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            with watching_interrupts():
                return super().invoke(ctx)
        except SwcError as exc:
            app = ctx.find_object(AppContext)
            if (app and app.debug) or os.environ.get("SWC_RAISE_ERRORS"):
                traceback.print_exc()
            _print_error(exc)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            _print_error(SwcError("interrupted"))
            ctx.exit(EXIT_INTERRUPTED)
        except click.Abort as exc:
            # click turns Ctrl-C inside its prompts into Abort (exit 1); a "no" to
            # confirm(abort=True) is an Abort too, and stays one
            if not isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
                raise
            _print_error(SwcError("interrupted"))
            ctx.exit(EXIT_INTERRUPTED)


def _print_error(exc: SwcError) -> None:
    from ..output import error

    error(exc.message, exc.hint)


@click.group(cls=SwcGroup, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="swc")
@click.option("--debug", is_flag=True, envvar="SWC_DEBUG", help="Show tracebacks of errors.")
@click.option(
    "--repo",
    "repo_path",
    type=click.Path(exists=True, file_okay=False, path_type=str),
    default=None,
    envvar="SWC_REPO",
    help="Repository to work on (default: the one containing the current directory).",
)
@click.option(
    "--trust-repo-config",
    is_flag=True,
    help="Honour the repository's .swc.toml / [tool.swc] keys that need trust without "
    "`swc trust` (for CI; same as SWC_TRUST_REPO_CONFIG=1).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, repo_path: str | None, trust_repo_config: bool) -> None:
    from ..output import reset_consoles

    # consoles decide on colour when created: decide per invocation, not per process
    reset_consoles()
    ctx.obj = AppContext(debug=debug, repo_path=repo_path, trust_repo_config=trust_repo_config)


cli.add_command(config_group)
cli.add_command(doctor)
cli.add_command(context_command)
cli.add_command(eval_group)
cli.add_command(fix)
cli.add_command(brief)
cli.add_command(hook_group)
cli.add_command(map_command)
cli.add_command(runs_group)
cli.add_command(stats_command)
cli.add_command(trust_command)


def main() -> None:
    run_to_exit(lambda: cli.main(prog_name="swc"))
