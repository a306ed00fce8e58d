"""What the sandbox hides, binds back and blocks; bwrap's command line; the macOS profile;
the sanitised git config; masking of secrets in output."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from swcollab.sandbox import Worktree
from swcollab.sandbox.bwrap import bwrap_argv, explain_failure
from swcollab.sandbox.env import MASK, mask_secrets, masked_values
from swcollab.sandbox.gitconfig import sanitise_url, sanitised_text
from swcollab.sandbox.layout import build_layout, listening_sockets
from swcollab.sandbox.seatbelt import sbpl_string, seatbelt_profile

from .helpers import git


@pytest.fixture
def world(make_repo, tmp_path: Path):
    """A repository with a token in its config, a home with toolchains and credentials."""
    repo = make_repo({"app.py": "X = 1\n"})
    git(repo, "config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic T0KEN")
    git(repo, "config", "credential.helper", "store")
    git(repo, "config", "core.sshCommand", "ssh -i /keys/id")
    git(repo, "config", "url.https://user:pw@mirror/.insteadOf", "https://github.com/")
    git(repo, "remote", "add", "origin", "https://x-access-token:T0KEN@github.com/o/r.git?t=1")
    home = tmp_path / "home"
    for rel in (
        ".pyenv/versions/3.12/bin",
        ".cargo/bin",
        ".cargo/registry",
        ".ssh",
        ".aws",
        ".local/bin",
        "go/pkg/mod",
        "projects",
    ):
        (home / rel).mkdir(parents=True)
    (home / ".cargo" / "credentials.toml").write_text("token = 'x'\n")
    (repo / ".git" / "swc").mkdir()  # swc's state: ledger, reports
    return {"repo": repo, "home": home}


def _layout(world, wt_tmp: Path, extra_env: dict[str, str] | None = None):
    env = {
        "HOME": str(world["home"]),
        "PATH": f"{world['home']}/.local/bin:/usr/bin:/bin",
        **(extra_env or {}),
    }
    wt = Worktree(world["repo"], temp_dir=wt_tmp)
    run_dir = wt.path.parent / "swcrun-test"
    run_dir.mkdir()
    return wt, build_layout(wt.path, run_dir, env, argv0=sys.executable)


def test_homes_temp_dirs_checkout_and_state_are_hidden(world, wt_tmp: Path) -> None:
    wt, layout = _layout(world, wt_tmp)
    try:
        repo, home = world["repo"].resolve(), world["home"].resolve()
        for hidden in (Path("/tmp"), Path("/run"), home, repo, repo / ".git" / "swc"):
            assert hidden in layout.hidden, hidden
        assert layout.home == home and home in layout.scratch_dirs
        assert repo not in layout.scratch_dirs  # the checkout stays read-only
        # what the tests need comes back read-only; credentials never do
        readable = set(layout.readable)
        assert home / ".pyenv" in readable and home / ".cargo" / "bin" in readable
        assert home / ".local" / "bin" in readable and home / "go" / "pkg" / "mod" in readable
        assert repo / ".git" in readable
        for path in layout.readable:
            assert ".ssh" not in path.parts and ".aws" not in path.parts
            assert path not in (home, repo) and home / "projects" not in (path, *path.parents)
        assert home / ".cargo" not in readable  # it holds credentials.toml
        # the git config is replaced by a sanitised copy
        copy, real = layout.git_config
        assert real == repo / ".git" / "config" and "T0KEN" not in copy.read_text()
    finally:
        wt.remove()


def test_bwrap_command_line(world, wt_tmp: Path) -> None:
    wt, layout = _layout(world, wt_tmp)
    try:
        env = {
            "PATH": "/usr/bin",
            "HOME": str(world["home"]),
            "KEEP": "1",
            "XDG_RUNTIME_DIR": "/run/user/0",
            "DISPLAY": ":0",
        }
        cmd, inner = bwrap_argv("/usr/bin/bwrap", layout, ["python", "-m", "pytest"], env)
        text = " ".join(cmd)
        for option in (
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-net",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
        ):
            assert option in cmd
        assert cmd[cmd.index("--cap-drop") + 1] == "ALL"
        assert f"--bind {wt.path} {wt.path}" in text
        assert "--ro-bind / /" in text and "--proc /proc" in text and "--dev /dev" in text
        assert f"--remount-ro {world['repo'].resolve()}" in text
        assert cmd[-4:] == ["--", "python", "-m", "pytest"]
        # the environment inside: private HOME and TMPDIR, no pointers to host services
        assert inner["HOME"] == str(layout.home) and inner["TMPDIR"] == "/tmp"
        assert "XDG_RUNTIME_DIR" not in inner and "DISPLAY" not in inner
        assert inner["KEEP"] == "1"
        # every mount under a hidden directory comes after it
        order = [cmd[i + 1] for i, a in enumerate(cmd) if a in ("--tmpfs", "--ro-bind")]
        assert order.index(str(world["home"].resolve())) < order.index(
            str(world["home"].resolve() / ".pyenv")
        )
    finally:
        wt.remove()


def test_network_can_be_shared_on_purpose(world, wt_tmp: Path) -> None:
    wt, layout = _layout(world, wt_tmp)
    try:
        from dataclasses import replace

        cmd, _ = bwrap_argv("/usr/bin/bwrap", replace(layout, network=True), ["true"], {})
        assert "--unshare-net" not in cmd and "--unshare-pid" in cmd
    finally:
        wt.remove()


def test_sockets_left_visible_are_blocked(world, wt_tmp: Path, tmp_path: Path) -> None:
    repo = world["repo"].resolve()
    wt = Worktree(world["repo"], temp_dir=wt_tmp)
    try:
        run_dir = wt.path.parent / "run"
        run_dir.mkdir()
        sock = repo / ".git" / "fsmonitor.ipc"
        sock.write_text("")  # stands for a socket: the layout only needs its path
        layout = build_layout(
            wt.path,
            run_dir,
            {"HOME": str(world["home"])},
            sockets=[sock, Path("/tmp/.X11-unix/X0"), wt.path / "own.sock"],
        )
        assert sock in layout.blocked  # in the git directory, which is bound back
        assert Path("/tmp/.X11-unix/X0") not in layout.blocked  # /tmp is hidden anyway
        assert wt.path / "own.sock" not in layout.blocked  # the run's own
    finally:
        wt.remove()


def test_proc_net_unix_parsing(tmp_path: Path) -> None:
    table = tmp_path / "unix"
    table.write_text(
        "Num       RefCount Protocol Flags    Type St Inode Path\n"
        "0000: 00000002 00000000 00010000 0001 01 20 /run/docker.sock\n"
        "0000: 00000002 00000000 00010000 0001 01 21 @abstract-name\n"
        "0000: 00000003 00000000 00000000 0001 03 22\n"
    )
    assert listening_sockets(table) == [Path("/run/docker.sock")]


def test_sanitised_git_config_keeps_what_git_needs_only(world) -> None:
    text = sanitised_text(world["repo"] / ".git" / "config")
    assert "repositoryformatversion" in text and '[remote "origin"]' in text
    assert 'url = "https://github.com/o/r.git"' in text
    for gone in ("T0KEN", "extraheader", "credential", "sshCommand", "insteadOf", "user:pw"):
        assert gone not in text, gone
    assert sanitise_url("https://a:b@h/x?token=1") == "https://h/x"
    assert sanitise_url("git@github.com:o/r.git") == "git@github.com:o/r.git"


def test_masking_rule(monkeypatch) -> None:
    environ = {
        "OPENAI_API_KEY": "sk-long-secret-value",
        "AWS_REGION": "eu-1",
        "GITHUB_TOKEN": "ghp_abcdefgh",
        "GIT_DIR": "/some/long/path/.git",
        "AWS_CA_BUNDLE": "/etc/ssl/certs/ca.pem",
        "SSL_CERT_FILE": "/etc/ssl/certs/ca.pem",
        "DATABASE_URL": "postgres://u:pw@db/app",
        "PATH": "/usr/bin",
    }
    values = masked_values(environ)
    # long removed values, longest first; short ones, git paths and values a kept
    # variable also shows are left alone
    assert values == ("postgres://u:pw@db/app", "sk-long-secret-value", "ghp_abcdefgh")
    text = "key sk-long-secret-value region eu-1 ca /etc/ssl/certs/ca.pem"
    assert mask_secrets(text, values) == f"key {MASK} region eu-1 ca /etc/ssl/certs/ca.pem"


def test_output_of_a_run_is_masked(tmp_path: Path, monkeypatch) -> None:
    from swcollab.sandbox import TestCommand, run_tests

    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-1234567890")
    # the test cannot see the variable; it prints the value it guessed or was told
    cmd = TestCommand(("sh", "-c", "echo leaked tok-1234567890; exit 1"), "flag")
    run = run_tests(tmp_path, cmd, timeout=60)
    assert "tok-1234567890" not in run.output and f"leaked {MASK}" in run.output


def test_seatbelt_profile_text(world, wt_tmp: Path) -> None:
    """Untested on a Mac here: the profile's text is what can be checked."""
    wt, layout = _layout(world, wt_tmp)
    try:
        profile = seatbelt_profile(layout)
        lines = profile.splitlines()
        assert lines[:2] == ["(version 1)", "(deny default)"]
        deny_read = next(i for i, line in enumerate(lines) if line.startswith("(deny file-read*"))
        allow_read = [i for i, line in enumerate(lines) if line.startswith("(allow file-read* (")]
        assert allow_read and allow_read[-1] > deny_read  # toolchains re-allowed after
        assert sbpl_string(str(world["home"].resolve())) in lines[deny_read]
        assert (
            f"(literal {sbpl_string(str(world['repo'].resolve() / '.git' / 'config'))})" in profile
        )
        writes = next(line for line in lines if line.startswith("(allow file-write* (subpath"))
        assert sbpl_string(str(wt.path)) in writes and str(world["home"]) not in writes
        assert '(allow network-outbound (remote ip "localhost:*"))' in profile
        assert "(allow network*)" not in profile
        assert "com.apple.SecurityServer" not in profile
        assert profile.count("(") == profile.count(")")
        assert sbpl_string('a"b\\c') == '"a\\"b\\\\c"'
    finally:
        wt.remove()


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        ("bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted", "AppArmor"),
        ("bwrap: setting up uid map: Permission denied", "user namespaces"),
        ("bwrap: Failed to make / slave: Permission denied", "container"),
        ("bwrap: No permissions to create new namespace", "disabled"),
    ],
)
def test_known_bwrap_failures_are_explained(stderr: str, expected: str) -> None:
    why, fix = explain_failure(stderr)
    assert expected in why and fix


def test_doctor_names_the_sandbox(tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from swcollab.cli import cli
    from swcollab.sandbox import probe_sandbox

    result = CliRunner().invoke(cli, ["doctor", "--json"])
    import json

    facts = {f["name"]: f for f in json.loads(result.stdout)["facts"]}
    assert facts["sandbox"]["details"]["kind"] == "bwrap" and facts["sandbox"]["ok"]
    assert result.exit_code == 0
    only_git = tmp_path / "bin"
    only_git.mkdir()
    (only_git / "git").symlink_to("/usr/bin/git")
    monkeypatch.setenv("PATH", str(only_git))
    probe_sandbox.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["doctor"])
    finally:
        monkeypatch.undo()
        probe_sandbox.cache_clear()
    assert result.exit_code == 3
    assert "bwrap (bubblewrap) is not installed" in result.stdout
    assert "apt install bubblewrap" in result.stdout
    assert os.environ.get("PATH")  # restored


def test_a_hidden_directory_on_path_is_not_bound_back(world, wt_tmp: Path) -> None:
    """/tmp or $HOME named on PATH (or PYTHONPATH) must not undo the hiding."""
    home = world["home"]
    wt, layout = _layout(
        world,
        wt_tmp,
        {"PATH": f"/tmp:{home}:/home:/usr/bin", "PYTHONPATH": f"{world['repo']}:/run"},
    )
    try:
        for path in (
            Path("/tmp"),
            home.resolve(),
            Path("/home"),
            Path("/run"),
            world["repo"].resolve(),
        ):
            assert path not in layout.readable, path
    finally:
        wt.remove()
