"""The local model servers one ``ModelClient`` started: one per model file, started on
its first call, checked when a call fails, stopped together when the client closes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .types import ModelSpec

if TYPE_CHECKING:
    from .local import LocalServer


class LocalServers:
    """Servers by model file; ``on_status(spec, text)`` hears when one starts and is ready."""

    def __init__(self, on_status: Callable[[ModelSpec, str], None]) -> None:
        self._on_status = on_status
        self._servers: dict[str, LocalServer] = {}
        self._lock = threading.RLock()

    def base_url(self, spec: ModelSpec) -> str:
        """Where ``spec``'s local model answers, its server started if it was not."""
        from .local import LocalServer, gguf_for

        gguf = gguf_for(spec.model)
        with self._lock:  # both tiers may name the same file: one server serves both
            server = self._servers.get(str(gguf))
            if server is None:
                server = LocalServer.for_gguf(gguf, spec.model[len("local/") :])
                self._servers[str(gguf)] = server
                self._on_status(
                    spec, f"starting the local model server for {spec.model} on {server.base_url}"
                )
                started = time.monotonic()
                try:
                    server.start()
                except BaseException:
                    del self._servers[str(gguf)]
                    raise
                self._on_status(
                    spec, f"local model server ready in {time.monotonic() - started:.1f}s"
                )
            return server.base_url

    def check(self) -> None:
        """A server that died makes every retry pointless: raise why it died."""
        with self._lock:
            for server in self._servers.values():
                code = server.process.poll() if server.process else None
                if code is not None:
                    raise server.exit_error(code)

    def pids(self) -> list[int]:
        with self._lock:
            return [s.pid for s in self._servers.values() if s.pid is not None]

    def stop_all(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.stop()
