"""Local model servers: started, waited for, routed to, and always stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from swcollab.errors import EnvironmentProblem
from swcollab.models.local import LocalServer, free_port

from .helpers import alive, wait_dead

HERE = Path(__file__).resolve().parent
FAKE_SERVER = HERE.parent / "fakes" / "openai_server.py"


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_server_answers_and_stop_kills_its_whole_group():
    port = free_port()
    # a server that starts a child of its own before serving: both must go
    code = (
        "import runpy, subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        "print('child', child.pid, flush=True)\n"
        f"sys.argv = ['server', '--port', '{port}']\n"
        f"runpy.run_path({str(FAKE_SERVER)!r}, run_name='__main__')\n"
    )
    server = LocalServer(python(code), port, name="stand-in", start_timeout=60)
    server.start()
    pid = server.pid
    assert pid is not None and alive(pid)
    child = int(server.log_path.read_text().split("child", 1)[1].split()[0])
    assert alive(child)
    assert os.getpgid(pid) == pid != os.getpgid(0)  # its own process group
    server.stop()
    assert wait_dead(pid) and wait_dead(child)
    assert not server.log_path.exists()


def test_early_exit_shows_the_log_tail():
    server = LocalServer(
        python("print('cannot load model: bad magic'); raise SystemExit(7)"),
        free_port(),
        name="broken",
    )
    with pytest.raises(EnvironmentProblem) as caught:
        server.start()
    assert "exited with code 7" in caught.value.message
    assert "cannot load model: bad magic" in caught.value.message


def test_illegal_instruction_names_the_rebuild():
    server = LocalServer(
        python("import os, signal; os.kill(os.getpid(), signal.SIGILL)"),
        free_port(),
        name="smollm2",
    )
    with pytest.raises(EnvironmentProblem) as caught:
        server.start()
    text = str(caught.value)
    assert "illegal instruction" in text
    assert "pip cache remove llama_cpp_python" in text
    assert "-DGGML_NATIVE=OFF" in text and "--force-reinstall --no-cache-dir" in text


def test_a_server_that_never_answers_is_stopped():
    server = LocalServer(
        python("import time; print('loading', flush=True); time.sleep(600)"),
        free_port(),
        name="mute",
        start_timeout=1.5,
    )
    with pytest.raises(EnvironmentProblem, match="did not answer within 2s") as caught:
        server.start()
    assert "loading" in caught.value.message
    assert server.process is None  # stopped, not left running


def _run_standin(tmp_path: Path, mode: str) -> tuple[subprocess.Popen[str], list[int]]:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1])}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "standin_client.py"), str(gguf), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    reply = proc.stdout.readline()
    pids_line = proc.stdout.readline()
    assert reply.startswith("reply 'hi from "), reply + (proc.stderr.read() if proc.stderr else "")
    assert "cost 0.0" in reply  # local calls are free, even with a $0 budget
    pids = [int(p) for p in pids_line.split()[1:]]
    assert len(pids) == 1  # both tiers name the same file: one server
    return proc, pids


def test_ctrl_c_stops_the_local_server(tmp_path: Path):
    proc, [pid] = _run_standin(tmp_path, "sigint")
    assert alive(pid)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    assert wait_dead(pid), "the local model server outlived an interrupted swc"


def test_exiting_without_close_stops_the_local_server(tmp_path: Path):
    proc, [pid] = _run_standin(tmp_path, "exit")
    assert proc.wait(timeout=30) == 0
    assert wait_dead(pid), "the local model server outlived swc"


def test_server_ends_when_swc_is_killed_outright(tmp_path: Path):
    """SIGKILL leaves swc no chance to clean up: the watchdog in the server process does."""
    code = (
        "import time\n"
        "from swcollab.models.local import LocalServer, free_port, watched_module_command\n"
        "port = free_port()\n"
        "server = LocalServer(watched_module_command('tests.fakes.openai_server',\n"
        "                     ['--port', str(port)]), port, name='stand-in')\n"
        "server.start()\n"
        "print(server.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1])}
    parent = subprocess.Popen(python(code), stdout=subprocess.PIPE, text=True, env=env)
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    assert alive(pid)
    parent.kill()
    parent.wait(timeout=10)
    assert wait_dead(pid, timeout=20), "the server outlived a killed swc"
