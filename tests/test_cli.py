"""The command line as a user meets it: help, version, errors, exit codes, colour, config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from swcollab import __version__
from swcollab.cli import SwcGroup, cli
from swcollab.cli.common import AppContext, pass_app
from swcollab.config import KEYS
from swcollab.errors import EXIT_CODE_TABLE, ConfigError

ANSI_ESCAPE = "\x1b["


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No user config, no SWC_* variables, no colour forcing from the outer environment."""
    home = tmp_path / "xdg"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    for name in list(os.environ):
        if (
            name.startswith("SWC_")
            or name.startswith("_SWC_")
            or name in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "TTY_COMPATIBLE")
        ):
            monkeypatch.delenv(name)
    return home


def git_init(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def invoke(*args: str, cwd: Path) -> click.testing.Result:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), prog_name="swc")
    finally:
        os.chdir(old)


def run_swc(*args: str, cwd: Path, env: dict[str, str] | None = None):
    """swc in a real process: real exit code, real (non-terminal) stdout and stderr."""
    return subprocess.run(
        [sys.executable, "-m", "swcollab", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )


# --- help and version ---------------------------------------------------------------


def test_version(tmp_path: Path) -> None:
    result = invoke("--version", cwd=tmp_path)
    assert result.exit_code == 0
    assert result.stdout.strip() == f"swc, version {__version__}"


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    proc = run_swc("--version", cwd=tmp_path)
    assert proc.returncode == 0
    assert __version__ in proc.stdout


def test_help_documents_every_exit_code(tmp_path: Path) -> None:
    result = invoke("--help", cwd=tmp_path)
    assert result.exit_code == 0
    lines = [line.strip() for line in result.stdout.splitlines()]
    for code, meaning in EXIT_CODE_TABLE:
        assert f"{code}  {meaning}" in lines


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


def test_every_listed_command_has_working_help(tmp_path: Path) -> None:
    commands = list(_all_commands(cli))
    assert ("config", "show") in commands and ("config", "path") in commands
    for path in commands:
        result = invoke(*path, "--help", cwd=tmp_path)
        assert result.exit_code == 0, (path, result.output)
        assert "not implemented" not in result.output.lower(), path


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("no-such-command", cwd=tmp_path)
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("config", "show", "--jsn", cwd=tmp_path)
    assert result.exit_code == 2
    assert "--json" in result.stderr  # click suggests the close match


# --- config show / config path ------------------------------------------------------


def test_config_show_outside_a_repository_shows_defaults(tmp_path: Path) -> None:
    result = invoke("config", "show", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    table, _, after = result.stdout.partition("\n\n")
    rows = {line.split()[0]: line.split() for line in table.splitlines()[1:]}
    assert set(rows) == set(KEYS)
    assert rows["budget"][1:] == ["1.0", "default", "SWC_BUDGET"]
    assert rows["weak.model"][1:] == ["-", "default", "SWC_WEAK_MODEL"]
    assert after.startswith("sandbox: ")


def test_config_show_says_when_the_sandbox_is_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWC_SANDBOX", "off")
    result = invoke("config", "show", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert 'sandbox: OFF (sandbox = "off", from environment)' in result.stdout


def test_config_show_names_each_source(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated_env / "swc").mkdir()
    (isolated_env / "swc" / "config.toml").write_text('strategy = "plan"\nretries = 5\n')
    repo = git_init(tmp_path / "repo")
    (repo / ".swc.toml").write_text('retries = 7\nweak = "gpt-4o-mini"\n')
    monkeypatch.setenv("SWC_STRONG_MODEL", "anthropic/claude-sonnet-4-5")

    result = invoke("config", "show", "--json", cwd=repo)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)["settings"]
    assert shown["strategy"] == {
        "value": "plan",
        "source": "user file",
        "env": "SWC_STRATEGY",
        "trusted": True,
    }
    assert shown["retries"]["value"] == 7 and shown["retries"]["source"] == "repo file"
    assert shown["weak.model"] == {
        "value": "gpt-4o-mini",
        "source": "repo file",
        "env": "SWC_WEAK_MODEL",
        "trusted": True,  # a model name needs no trust
    }
    assert shown["strong.model"]["source"] == "environment"
    assert shown["budget"]["source"] == "default"


def test_config_show_json_prints_only_json_on_stdout(tmp_path: Path) -> None:
    proc = run_swc("config", "show", "--json", cwd=tmp_path)
    assert proc.returncode == 0
    shown = json.loads(proc.stdout)
    assert set(shown["settings"]) == set(KEYS)
    assert shown["tests"] is None  # outside a repository: no test command to speak of
    assert shown["sandbox"]["value"]


def test_config_show_json_says_what_the_text_says_of_tests_and_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project's .venv runs its tests: --json names it, as the text does."""
    from tests.fakes.venv import make_venv

    repo = git_init(tmp_path / "repo")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_a.py").write_text("def test_a():\n    pass\n")
    python = make_venv(repo / ".venv")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    text = run_swc("config", "show", cwd=repo)
    proc = run_swc("config", "show", "--json", cwd=repo)
    assert proc.returncode == 0 and text.returncode == 0, proc.stderr + text.stderr
    shown = json.loads(proc.stdout)
    tests, sandbox = shown["tests"], shown["sandbox"]
    assert tests["interpreter"]["python"] == str(python)
    assert tests["interpreter"]["reason"] == "found .venv/ at the checkout root"
    assert tests["command"].startswith(f"{python} -m pytest")
    assert tests["problem"] is None
    # the same facts in the same words as the text
    assert f"test command: {tests['command']}\n" in text.stdout
    assert f"test interpreter: {python} (found .venv/ at the checkout root)\n" in text.stdout
    assert text.stdout.rstrip().endswith(f"sandbox: {sandbox['value']}")
    assert sandbox["ok"] is True or sandbox["fix"]

    monkeypatch.setenv("SWC_SANDBOX", "off")
    off = json.loads(run_swc("config", "show", "--json", cwd=repo).stdout)["sandbox"]
    assert off["ok"] is False
    assert off["value"].startswith('OFF (sandbox = "off", from environment)')
    assert off["fix"] == 'Remove sandbox = "off" to run them in the sandbox again.'


def test_config_show_json_names_a_missing_test_command(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")  # no tests, no test_cmd
    shown = json.loads(run_swc("config", "show", "--json", cwd=repo).stdout)
    assert shown["tests"] == {
        "command": None,
        "interpreter": None,
        "problem": "none detected (set test_cmd)",
    }


def test_config_path_lists_user_and_repo_files(tmp_path: Path, isolated_env: Path) -> None:
    repo = git_init(tmp_path / "repo")
    (repo / ".swc.toml").write_text("budget = 2\n")
    result = invoke("config", "path", "--json", cwd=repo)
    assert result.exit_code == 0, result.output
    files = {row["kind"]: row for row in json.loads(result.stdout)}
    assert files["user file"]["path"] == str(isolated_env / "swc" / "config.toml")
    assert files["user file"]["exists"] is False
    assert files["repo file"]["path"] == str(repo.resolve() / ".swc.toml")
    assert files["repo file"]["exists"] is True


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("bduget = 1\n", "unknown key 'bduget' (did you mean 'budget'?"),
        ('budget = "lots"\n', "key 'budget' must be a number, got 'lots'"),
        ("budget = -1\n", "key 'budget' must be a finite number >= 0 and <= 10000, got -1.0"),
        ("[weak]\nmodle = 'x'\n", "unknown key 'weak.modle'"),
        ("budget = \n", "not valid TOML"),
    ],
)
def test_bad_repo_file_is_one_line_and_exit_2(tmp_path: Path, content: str, expected: str) -> None:
    repo = git_init(tmp_path / "repo")
    (repo / ".swc.toml").write_text(content)
    proc = run_swc("config", "show", cwd=repo)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: {repo.resolve() / '.swc.toml'}: ")
    assert expected in lines[0]


def test_bad_environment_value_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SWC_BUDGET", "plenty")
    result = invoke("config", "show", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: environment variable SWC_BUDGET: key 'budget' must be a number, got 'plenty'"
    )


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    (repo / ".swc.toml").write_text("budget = -1\n")
    proc = run_swc("--debug", "config", "show", cwd=repo)
    assert proc.returncode == 2
    assert "Traceback (most recent call last)" in proc.stderr
    assert "ConfigError" in proc.stderr
    assert proc.stderr.rstrip().splitlines()[-1].startswith("error: ")


def test_explicit_repo_that_is_not_a_repository_exits_3(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = run_swc("--repo", str(plain), "config", "show", cwd=tmp_path)
    assert proc.returncode == 3
    assert "not inside a git repository" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- the error boundary every command relies on ---------------------------------------


def _group_with(command: click.Command) -> click.Group:
    """A root like ``swc``'s (same class, same app object) holding one test command."""

    @click.group(cls=SwcGroup)
    @click.option("--debug", is_flag=True)
    @click.pass_context
    def root(ctx: click.Context, debug: bool) -> None:
        ctx.obj = AppContext(debug=debug)

    root.add_command(command)
    return root


def test_command_that_needs_a_repository_exits_3_outside_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @click.command("needs-repo")
    @pass_app
    def needs_repo(app: AppContext) -> None:
        click.echo(str(app.repo().root))

    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    result = CliRunner().invoke(_group_with(needs_repo), ["needs-repo"])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert f"error: {outside.resolve()} is not inside a git repository" in result.stderr

    repo = git_init(tmp_path / "repo")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(_group_with(needs_repo), ["needs-repo"])
    assert result.exit_code == 0
    assert result.stdout.strip() == str(repo.resolve())


def test_interrupt_exits_130() -> None:
    @click.command("work")
    def work() -> None:
        raise KeyboardInterrupt

    result = CliRunner().invoke(_group_with(work), ["work"])
    assert result.exit_code == 130
    assert result.stderr == "error: interrupted\n"


def test_ctrl_c_at_a_prompt_exits_130_but_answering_no_does_not() -> None:
    @click.command("ask")
    def ask() -> None:
        click.confirm("go on?", abort=True)

    # click.prompt/confirm turn Ctrl-C (and EOF) into Abort; CliRunner's empty input is EOF
    @click.command("interrupted-prompt")
    def interrupted_prompt() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise click.Abort() from exc

    result = CliRunner().invoke(_group_with(interrupted_prompt), ["interrupted-prompt"])
    assert result.exit_code == 130
    result = CliRunner().invoke(_group_with(ask), ["ask"], input="n\n")
    assert result.exit_code == 1
    assert "Aborted!" in result.stderr


def test_error_message_is_printed_verbatim(tmp_path: Path) -> None:
    """Brackets in a message (TOML tables, lists) are text, not rich markup."""

    @click.command("fail")
    def fail() -> None:
        raise ConfigError("set [weak] and [strong] in .swc.toml")

    result = CliRunner().invoke(_group_with(fail), ["fail"])
    assert result.exit_code == 2
    assert result.stderr == "error: set [weak] and [strong] in .swc.toml\n"


# --- colour ---------------------------------------------------------------------------


def _failing_repo(tmp_path: Path) -> Path:
    repo = git_init(tmp_path / "repo")
    (repo / ".swc.toml").write_text("budget = -1\n")
    return repo


def test_no_colour_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    proc = run_swc("config", "show", cwd=_failing_repo(tmp_path))
    assert proc.returncode == 2
    assert ANSI_ESCAPE not in proc.stderr


def test_no_colour_when_no_color_is_set(tmp_path: Path) -> None:
    repo = _failing_repo(tmp_path)
    # FORCE_COLOR makes rich treat the pipe as a terminal, so the check below can fail
    forced = run_swc("config", "show", cwd=repo, env={"FORCE_COLOR": "1"})
    assert ANSI_ESCAPE in forced.stderr
    plain = run_swc("config", "show", cwd=repo, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert plain.returncode == 2
    assert ANSI_ESCAPE not in plain.stderr
    assert plain.stderr.startswith("error: ")
