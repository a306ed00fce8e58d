"""Running tests on untrusted code: secrets, time limit, process group, network, output."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from swcollab.errors import SandboxUnavailable
from swcollab.sandbox import (
    UNSANDBOXED,
    Isolation,
    TestCommand,
    clip_output,
    probe_sandbox,
    run_tests,
    scrubbed_env,
)

from .helpers import git, marked_processes, wait_until_gone, write

PYTEST = TestCommand((sys.executable, "-m", "pytest", "-q"), "flag")

SECRETS = {
    "OPENAI_API_KEY": "sk-openai-secret-1111",
    "ANTHROPIC_API_KEY": "sk-ant-secret-2222",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-3333",
    "AWS_REGION": "region-4444",
    "GITHUB_TOKEN": "ghp_secret5555",
    "GH_HOST": "gh-host-6666",
    "MY_SERVICE_TOKEN": "token-7777",
    "DB_PASSWORD": "hunter2-8888",
    "SOME_CREDENTIALS_FILE": "/creds-9999",
    "HF_HOME": "/hf-1010",
    "SSH_AUTH_SOCK": "/agent-1212",
    "DATABASE_URL": "postgres://user:pw-1313@db.invalid/app",
    "SWC_WEAK_MODEL": "model-1414",
    "LITELLM_MASTER": "lite-1515",
}
HARMLESS = {"KEEP_ME": "plain-value-1", "GIT_AUTHOR_NAME": "Someone", "LANG": "C.UTF-8"}


def test_scrubbed_env_drops_secrets_and_keeps_the_basics():
    env = scrubbed_env(
        {
            **SECRETS,
            **HARMLESS,
            "PATH": "/bin",
            "HOME": "/root",
            "VIRTUAL_ENV": "/venv",
            "LC_ALL": "C",
            "GIT_DIR": "/elsewhere",
        }
    )
    assert env == {
        **HARMLESS,
        "PATH": "/bin",
        "HOME": "/root",
        "VIRTUAL_ENV": "/venv",
        "LC_ALL": "C",
    }


def test_a_test_printing_its_environment_sees_no_secret(tmp_path: Path, monkeypatch):
    for name, value in {**SECRETS, **HARMLESS}.items():
        monkeypatch.setenv(name, value)
    write(
        tmp_path,
        {
            "test_env.py": (
                "import os\n\n"
                "def test_env():\n"
                "    print(sorted(os.environ.items()))\n"
                "    assert False, 'show the output'\n"
            )
        },
    )
    run = run_tests(tmp_path, PYTEST, timeout=120)
    assert run.sandboxed
    assert "KEEP_ME" in run.output and "plain-value-1" in run.output  # the print was seen
    assert "'PATH'" in run.output
    leaked = [value for value in SECRETS.values() if value in run.output]
    assert leaked == []
    assert "('PYTHONDONTWRITEBYTECODE', '1')" in run.output


@pytest.mark.slow  # waits out its 8 s time limit
def test_hanging_test_and_its_child_are_killed_at_the_time_limit(tmp_path: Path):
    marker = f"swc-hang-{os.getpid()}-{time.monotonic_ns()}"
    project = tmp_path / "project"
    write(
        project,
        {
            "test_hang.py": (
                "import subprocess, sys, time\n\n"
                "def test_hang():\n"
                "    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)', "
                f"{marker!r}])\n"
                "    time.sleep(3600)\n"
            )
        },
    )
    run = run_tests(project, PYTEST, timeout=8)
    assert run.timed_out and run.exit_code is None and not run.passed
    assert "killed at its time limit of 8 s" in run.output
    assert wait_until_gone(marker), f"still running: {marked_processes(marker)}"


def test_background_process_left_by_a_finished_run_is_killed(tmp_path: Path):
    marker = f"swc-bg-{os.getpid()}-{time.monotonic_ns()}"
    script = f"exec -a {marker} sleep 3600"
    cmd = TestCommand(("sh", "-c", f"bash -c {script!r} & sleep 0.5; echo done"), "flag")
    run = run_tests(tmp_path, cmd, timeout=60)
    assert run.exit_code == 0 and run.passed and "done" in run.output
    assert wait_until_gone(marker), f"still running: {marked_processes(marker)}"


@pytest.fixture
def loopback_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 in our own network namespace; yields its port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.sendall(b"hello from the parent\n")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(5)
    server.close()


def _network_project(root: Path, port: int) -> None:
    write(
        root,
        {
            "test_net.py": (
                "import socket\n\n"
                "def test_connect():\n"
                f"    with socket.create_connection(('127.0.0.1', {port}), timeout=5) as s:\n"
                "        assert s.recv(100).startswith(b'hello')\n\n"
                "def test_own_loopback_works():\n"
                "    srv = socket.socket()\n"
                "    srv.bind(('127.0.0.1', 0))\n"
                "    srv.listen(1)\n"
                "    socket.create_connection(srv.getsockname(), timeout=5).close()\n"
            )
        },
    )


def test_network_connection_fails_inside_the_sandbox(tmp_path: Path, loopback_server: int):
    _network_project(tmp_path, loopback_server)
    run = run_tests(tmp_path, PYTEST, timeout=120)
    assert run.sandboxed and run.network_isolated
    assert run.status_of("test_net.py::test_connect") == "failed"
    # the namespace's own loopback is up: projects' local servers still work
    assert run.status_of("test_net.py::test_own_loopback_works") == "passed"


@pytest.mark.parametrize(
    "isolation",
    [Isolation(network=True), UNSANDBOXED],
    ids=["sandbox-sharing-network", "no-sandbox"],
)
def test_without_network_isolation_the_same_connection_works(
    tmp_path: Path, loopback_server: int, isolation: Isolation
):
    """The control for the test above: the server is reachable when not isolated."""
    _network_project(tmp_path, loopback_server)
    run = run_tests(tmp_path, PYTEST, timeout=120, isolation=isolation)
    assert not run.network_isolated and run.sandboxed == isolation.sandbox
    assert run.status_of("test_net.py::test_connect") == "passed", run.output


def test_without_bwrap_a_run_is_refused_naming_the_package(tmp_path: Path, monkeypatch):
    write(tmp_path, {"test_a.py": "def test_a():\n    pass\n"})
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))  # no bwrap to be found
    probe_sandbox.cache_clear()
    try:
        with pytest.raises(SandboxUnavailable) as caught:
            run_tests(tmp_path, PYTEST, timeout=120)
        assert "bwrap (bubblewrap) is not installed" in caught.value.message
        assert "apt install bubblewrap" in (caught.value.hint or "")
        assert 'sandbox = "off"' in (caught.value.hint or "")
        assert caught.value.exit_code == 3
        # turned off on purpose, it runs (and says it was not sandboxed)
        run = run_tests(tmp_path, PYTEST, timeout=120, isolation=UNSANDBOXED)
        assert run.passed and not run.sandboxed
    finally:
        monkeypatch.undo()
        probe_sandbox.cache_clear()


def test_run_leaves_no_cache_or_bytecode_in_the_tree(tmp_path: Path):
    root = tmp_path / "repo"
    write(
        root,
        {
            "mod.py": "X = 1\n",
            "tests/test_mod.py": "import mod\n\ndef test_x():\n    assert mod.X == 1\n",
        },
    )
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "init")
    run = run_tests(root, PYTEST, timeout=120)
    assert run.passed and run.status_of("tests/test_mod.py::test_x") == "passed"
    assert git(root, "status", "--porcelain", "--ignored") == ""


def test_worktree_code_shadows_the_same_package_elsewhere_on_the_path(tmp_path: Path, monkeypatch):
    """An editable install of the user's checkout must not hide the patched worktree."""
    elsewhere = tmp_path / "checkout"
    write(elsewhere, {"src/pkgx/__init__.py": "VALUE = 'from the checkout'\n"})
    monkeypatch.setenv("PYTHONPATH", str(elsewhere / "src"))
    work = tmp_path / "work"
    write(
        work,
        {
            "src/pkgx/__init__.py": "VALUE = 'from the worktree'\n",
            "tests/test_v.py": "import pkgx\n\ndef test_v():\n"
            "    assert pkgx.VALUE == 'from the worktree'\n",
        },
    )
    run = run_tests(work, PYTEST, timeout=120)
    assert run.passed, run.output


def test_other_runners_report_the_exit_code_and_output(tmp_path: Path):
    cmd = TestCommand(("sh", "-c", "echo out; echo err >&2; printf '\\377'; exit 3"), "flag")
    run = run_tests(tmp_path, cmd, timeout=60)
    assert run.exit_code == 3 and not run.passed and not run.timed_out
    assert run.results == ()
    assert "out\n" in run.output and "err\n" in run.output and "\ufffd" in run.output
    assert run.command[:2] == ("sh", "-c")


@pytest.mark.parametrize("isolation", [Isolation(), UNSANDBOXED], ids=["sandbox", "no-sandbox"])
def test_missing_program_is_a_result_not_an_exception(tmp_path: Path, isolation: Isolation):
    cmd = TestCommand(("no-such-program-xyz",), "config")
    run = run_tests(tmp_path, cmd, timeout=10, isolation=isolation)
    assert run.exit_code == 127 and not run.passed
    assert "[swc: cannot run no-such-program-xyz: No such file or directory]" in run.output


def test_selection_runs_only_the_named_tests(tmp_path: Path):
    write(
        tmp_path,
        {
            "tests/test_a.py": "def test_one():\n    pass\n\ndef test_two():\n    assert False\n",
            "tests/test_b.py": "def test_three():\n    assert False\n",
        },
    )
    run = run_tests(tmp_path, PYTEST, timeout=120, selection=["tests/test_a.py::test_one"])
    assert [r.test_id for r in run.results] == ["tests/test_a.py::test_one"]
    assert run.passed
    whole_file = run_tests(tmp_path, PYTEST, timeout=120, selection=["tests/test_b.py"])
    assert [r.test_id for r in whole_file.results] == ["tests/test_b.py::test_three"]
    assert whole_file.status_of("tests/test_b.py") == "failed"


def test_selected_ids_that_do_not_exist_are_left_out(tmp_path: Path):
    write(tmp_path, {"tests/test_a.py": "def test_one():\n    pass\n"})
    run = run_tests(
        tmp_path,
        PYTEST,
        timeout=120,
        selection=[
            "tests/test_a.py::test_one",
            "tests/test_a.py::test_gone",
            "tests/test_gone.py",
        ],
    )
    assert run.passed and [r.test_id for r in run.results] == ["tests/test_a.py::test_one"]
    assert "not found, left out of the run: tests/test_gone.py" in run.output
    assert "not found, left out of the run: tests/test_a.py::test_gone" in run.output
    assert run.status_of("tests/test_a.py::test_gone") is None
    nothing = run_tests(tmp_path, PYTEST, timeout=120, selection=["tests/test_gone.py"])
    assert nothing.exit_code == 4 and not nothing.passed and nothing.results == ()
    gone = run_tests(tmp_path, PYTEST, timeout=120, selection=["tests/test_a.py::test_gone"])
    assert gone.exit_code == 4 and not gone.passed and gone.results == ()
    assert "not found, left out of the run: tests/test_a.py::test_gone" in gone.output


def test_clip_output_keeps_head_and_tail():
    text = "HEAD" + "x" * 10_000 + "TAIL"
    clipped = clip_output(text, 1000)
    assert clipped.startswith("HEAD") and clipped.endswith("TAIL")
    assert "... 9008 characters elided ..." in clipped
    assert len(clipped) < 1100
    assert clip_output("short", 1000) == "short"
