"""Ctrl-C at the right moment: steps that must not be cut in half, and a test seam.

``deferred_interrupts`` holds SIGINT and SIGTERM back while a short step runs that would
leave something behind if cut (creating or removing a worktree, creating the branch and
recording that it exists, closing the run in the ledger); a signal that came meanwhile
is delivered as soon as the step is done.

``PauseSeam`` lets a test stop a real ``swc`` process at a chosen stage boundary and send
it a signal there, deterministically: it is read from ``SWC_TEST_PAUSE_AT`` and does
nothing when that variable is unset (as it always is outside the test suite).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PAUSE_AT_ENV = "SWC_TEST_PAUSE_AT"  # "stage" or "stage#N" (the Nth time it is reached)
PAUSE_FILE_ENV = "SWC_TEST_PAUSE_FILE"  # written with the stage's name once paused
PAUSE_SECONDS = 60.0

_HELD = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Run the block whole: Ctrl-C and SIGTERM arriving meanwhile take effect after it.

    Only the main thread receives Python's signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class PauseSeam:
    """Pauses the run the Nth time it reaches one named stage (tests only)."""

    def __init__(self, stage: str, occurrence: int, marker: Path | None) -> None:
        self.stage = stage
        self.occurrence = occurrence
        self.marker = marker
        self._seen = 0

    @classmethod
    def from_environment(cls) -> PauseSeam | None:
        wanted = os.environ.get(PAUSE_AT_ENV, "").strip()
        if not wanted:
            return None
        stage, _, nth = wanted.partition("#")
        marker = os.environ.get(PAUSE_FILE_ENV)
        return cls(stage, int(nth) if nth.isdigit() else 1, Path(marker) if marker else None)

    def reached(self, stage: str) -> None:
        if stage != self.stage:
            return
        self._seen += 1
        if self._seen != self.occurrence:
            return
        if self.marker is not None:
            self.marker.write_text(stage, encoding="utf-8")
        deadline = time.monotonic() + PAUSE_SECONDS
        while time.monotonic() < deadline:  # a signal ends the sleep with its exception
            time.sleep(0.02)
