"""swc's git hook: install beside an existing hook, core.hooksPath, uninstall, and runs."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from swcollab.cli import cli
from swcollab.gitrepo import require_repo
from swcollab.hooks import ACTIVE_VAR, MARKER, run_hook

from .helpers import commit, git

# Reads what git gives a pre-push hook on stdin: the kept hook must still get it.
ORIGINAL = (
    '#!/bin/sh\nread -r local_ref rest\necho "original hook ran for $local_ref" >&2\n'
    'exit "${ORIGINAL_EXIT:-0}"\n'
)


def swc(repo: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--repo", str(repo), *args])
    return result.exit_code, result.stdout, result.stderr


def write_hook(path: Path, text: str = ORIGINAL) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


def test_install_and_uninstall_in_a_fresh_repository(make_repo) -> None:
    repo: Path = make_repo()
    code, out, _ = swc(repo, "hook", "install")
    hook = repo / ".git" / "hooks" / "pre-push"
    assert code == 0 and f"installed {hook} (never blocks)" in out
    assert MARKER in hook.read_text() and os.access(hook, os.X_OK)
    assert hook.read_text().startswith("#!/bin/sh\n")
    code, out, _ = swc(repo, "hook", "uninstall")
    assert code == 0 and f"removed {hook}" in out
    assert not hook.exists()
    assert sorted(p.name for p in hook.parent.glob("pre-push*")) == ["pre-push.sample"]


def test_existing_hook_is_kept_run_first_and_restored(make_repo) -> None:
    repo: Path = make_repo()
    hooks = repo / ".git" / "hooks"
    write_hook(hooks / "pre-push")
    code, out, _ = swc(repo, "hook", "install")
    assert code == 0
    assert f"kept the previous hook as {hooks / 'pre-push.swc-orig'}; it runs first" in out
    assert (hooks / "pre-push.swc-orig").read_text() == ORIGINAL
    first = (hooks / "pre-push").read_text()
    assert MARKER in first

    # Installing again changes nothing and never hides the original twice.
    code, out, _ = swc(repo, "hook", "install")
    assert code == 0 and out.startswith("rewrote ")
    assert (hooks / "pre-push").read_text() == first
    assert (hooks / "pre-push.swc-orig").read_text() == ORIGINAL
    assert not (hooks / "pre-push.swc-orig.swc-orig").exists()

    code, out, _ = swc(repo, "hook", "uninstall")
    assert code == 0 and "restored the previous hook" in out
    assert (hooks / "pre-push").read_text() == ORIGINAL
    assert stat.S_IMODE((hooks / "pre-push").stat().st_mode) == 0o755
    assert not (hooks / "pre-push.swc-orig").exists()


def test_core_hooks_path_is_respected(make_repo) -> None:
    repo: Path = make_repo()
    git(repo, "config", "core.hooksPath", ".githooks")
    write_hook(repo / ".githooks" / "pre-push")
    code, out, _ = swc(repo, "hook", "install", "--blocking")
    assert code == 0 and "(blocking)" in out
    assert MARKER in (repo / ".githooks" / "pre-push").read_text()
    assert (repo / ".githooks" / "pre-push.swc-orig").read_text() == ORIGINAL
    assert not (repo / ".git" / "hooks" / "pre-push").exists()
    swc(repo, "hook", "uninstall")
    assert (repo / ".githooks" / "pre-push").read_text() == ORIGINAL


def test_refuses_to_overwrite_when_both_names_are_taken(make_repo) -> None:
    repo: Path = make_repo()
    hooks = repo / ".git" / "hooks"
    write_hook(hooks / "pre-push", "#!/bin/sh\nexit 0\n")
    write_hook(hooks / "pre-push.swc-orig")
    code, _, err = swc(repo, "hook", "install")
    assert code == 2 and "nothing was changed" in err
    assert (hooks / "pre-push").read_text() == "#!/bin/sh\nexit 0\n"


def test_uninstall_leaves_a_foreign_hook_alone(make_repo) -> None:
    repo: Path = make_repo()
    write_hook(repo / ".git" / "hooks" / "pre-push")
    code, out, _ = swc(repo, "hook", "uninstall")
    assert code == 0 and "was not installed by swc" in out
    assert (repo / ".git" / "hooks" / "pre-push").read_text() == ORIGINAL


@pytest.fixture
def pushable(make_repo, bare_remote: Path) -> Path:
    repo: Path = make_repo()
    git(repo, "remote", "add", "origin", str(bare_remote))
    return repo


def push(repo: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", "origin", "main"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def test_git_push_runs_the_original_hook_then_the_tests(pushable: Path, bare_remote: Path) -> None:
    write_hook(pushable / ".git" / "hooks" / "pre-push")
    (pushable / ".swc.toml").write_text('test_cmd = "true"\n')
    assert swc(pushable, "trust")[0] == 0
    assert swc(pushable, "hook", "install")[0] == 0
    proc = push(pushable)
    assert proc.returncode == 0, proc.stderr
    assert "original hook ran for refs/heads/main" in proc.stderr
    assert proc.stderr.index("original hook ran") < proc.stderr.index("swc hook: tests pass")
    assert git(bare_remote, "rev-parse", "main") == git(pushable, "rev-parse", "main")


def test_failing_original_hook_still_stops_the_push(pushable: Path, bare_remote: Path) -> None:
    write_hook(pushable / ".git" / "hooks" / "pre-push")
    (pushable / ".swc.toml").write_text('test_cmd = "true"\n')
    swc(pushable, "trust")
    swc(pushable, "hook", "install")
    proc = push(pushable, ORIGINAL_EXIT="3")
    assert proc.returncode != 0 and "original hook ran" in proc.stderr
    assert "swc hook" not in proc.stderr
    assert git(bare_remote, "for-each-ref") == ""


def test_an_untrusted_test_cmd_is_not_run_and_does_not_block_the_push(
    pushable: Path, bare_remote: Path
) -> None:
    """A test_cmd from a repository file the user never trusted: the hook runs nothing."""
    marker = pushable.parent / "ran"
    (pushable / ".swc.toml").write_text(f'test_cmd = "touch {marker}"\n')
    swc(pushable, "hook", "install")
    proc = push(pushable)
    assert proc.returncode == 0, proc.stderr
    assert "is not trusted: it sets test_cmd" in proc.stderr and "swc trust" in proc.stderr
    assert "not blocking the pre-push" in proc.stderr
    assert not marker.exists()
    assert git(bare_remote, "rev-parse", "main")


def test_broken_configuration_does_not_block_the_push(pushable: Path, bare_remote: Path) -> None:
    (pushable / ".swc.toml").write_text("test_cmd = [unclosed\n")
    swc(pushable, "hook", "install")
    proc = push(pushable)
    assert proc.returncode == 0, proc.stderr
    assert "not blocking the pre-push" in proc.stderr
    assert git(bare_remote, "rev-parse", "main")


def wait_for_exit(pid: int) -> None:
    os.waitpid(pid, 0)  # the test process is its parent: this reaps it too


FAKE_FIX = [
    sys.executable,
    "-c",
    "import os; print('fix started; GIT_DIR=' + str(os.environ.get('GIT_DIR'))"
    " + ' active=' + os.environ.get('SWC_HOOK_ACTIVE', ''))",
]


def test_failing_tests_start_a_fix_in_the_background(make_repo) -> None:
    repo = require_repo(make_repo())
    result = run_hook(
        repo,
        test_cmd="false",
        timeout=60,
        fix_argv=FAKE_FIX,
        environ={**os.environ, "GIT_DIR": ".git"},
    )
    assert result.exit_code == 0 and result.passed is False
    assert result.pid is not None and result.log_path is not None
    wait_for_exit(result.pid)
    assert result.log_path.parent == repo.state_dir / "logs"
    assert result.log_path.name.startswith("hook-")
    log = result.log_path.read_text()
    assert "fix started; GIT_DIR=None active=1" in log
    said = "\n".join(result.lines)
    assert "tests fail (false)" in said and "swc/" in said
    assert str(result.log_path.relative_to(repo.root)) in said


def test_blocking_hook_exits_1_and_still_starts_the_fix(make_repo) -> None:
    repo = require_repo(make_repo())
    result = run_hook(repo, test_cmd="false", timeout=60, blocking=True, fix_argv=FAKE_FIX)
    assert result.exit_code == 1
    assert result.pid is not None
    wait_for_exit(result.pid)
    assert "--no-verify" in result.lines[-1]


def test_only_one_background_fix_at_a_time(make_repo) -> None:
    repo = require_repo(make_repo())
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    first = run_hook(repo, test_cmd="false", timeout=60, fix_argv=sleeper)
    try:
        second = run_hook(repo, test_cmd="false", timeout=60, fix_argv=FAKE_FIX)
        assert second.pid is None
        assert f"still running (pid {first.pid})" in "\n".join(second.lines)
    finally:
        assert first.pid is not None
        os.kill(first.pid, 9)
        wait_for_exit(first.pid)
    third = run_hook(repo, test_cmd="false", timeout=60, fix_argv=FAKE_FIX)
    assert third.pid is not None and third.pid != first.pid
    wait_for_exit(third.pid)


def test_passing_tests_start_nothing(make_repo) -> None:
    repo = require_repo(make_repo())
    result = run_hook(repo, test_cmd="true", timeout=60, fix_argv=FAKE_FIX)
    assert result.exit_code == 0 and result.passed is True and result.pid is None
    assert not (repo.state_dir / "logs").exists()


def test_hook_started_by_swc_itself_does_nothing(make_repo) -> None:
    repo = require_repo(make_repo())
    result = run_hook(
        repo, test_cmd="false", timeout=60, fix_argv=FAKE_FIX, environ={ACTIVE_VAR: "1"}
    )
    assert result.exit_code == 0 and result.passed is None and result.lines == []


def test_no_test_command_is_said_and_skipped(make_repo) -> None:
    repo = require_repo(make_repo())
    result = run_hook(repo, test_cmd=None, timeout=60, fix_argv=FAKE_FIX)
    assert result.exit_code == 0 and "no test command found" in result.lines[0]


def test_hook_run_command_reports_on_stderr(make_repo) -> None:
    repo: Path = make_repo()
    commit(repo, ".swc.toml", 'test_cmd = "true"\n')
    assert swc(repo, "trust")[0] == 0
    code, out, err = swc(repo, "hook", "run")
    assert code == 0 and out == "" and "swc hook: tests pass (true)" in err


def test_cli_choices_match_the_supported_hooks() -> None:
    from swcollab.cli.hook_cmd import HOOK_CHOICES
    from swcollab.hooks import HOOK_NAMES

    assert HOOK_CHOICES == HOOK_NAMES


@pytest.mark.parametrize(
    ("test_cmd", "said"),
    [
        ("no-such-test-runner --all", "the test command could not be started"),
        ("sh -c 'exit 127'", "the test command could not be started"),
        (f"{sys.executable} -m pytest", "pytest collected no test"),
    ],
)
def test_a_test_command_that_cannot_judge_starts_no_fix(
    make_repo, test_cmd: str, said: str
) -> None:
    repo = require_repo(make_repo())
    result = run_hook(repo, test_cmd=test_cmd, timeout=60, blocking=True, fix_argv=FAKE_FIX)
    assert result.exit_code == 0 and result.pid is None
    assert said in result.lines[0] and "not starting a fix" in result.lines[0]
    assert not (repo.state_dir / "logs").exists()
