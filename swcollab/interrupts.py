"""Ctrl-C at the right moment: steps that must not be cut in half, and a test seam.

``deferred_interrupts`` holds SIGINT and SIGTERM back while a short step runs that would
leave something behind if cut (creating or removing a worktree, creating the branch and
recording that it exists, closing the run in the ledger); a signal that came meanwhile
is delivered as soon as the step is done.

``watching_interrupts`` is held while a command runs: Ctrl-C and SIGTERM raise as usual
*and* are written down, and ``checkpoint()`` (before every model call, test run, eval
task and stage) raises again while one is written down. A raise can be swallowed (it
may land in a finalizer, a weakref callback or a library's ``except BaseException``, and
Python then prints "Exception ignored" and goes on); the next checkpoint stops the run
all the same.

``PauseSeam`` lets a test stop a real ``swc`` process at a chosen stage boundary and send
it a signal there, deterministically: it is read from ``SWC_TEST_PAUSE_AT`` and does
nothing when that variable is unset (as it always is outside the test suite).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn

from .errors import EXIT_INTERRUPTED, Terminated

PAUSE_AT_ENV = "SWC_TEST_PAUSE_AT"  # "stage" or "stage#N" (the Nth time it is reached)
PAUSE_FILE_ENV = "SWC_TEST_PAUSE_FILE"  # written with the stage's name once paused
PAUSE_SECONDS = 60.0

_HELD = (signal.SIGINT, signal.SIGTERM)
_depth = 0  # deferred blocks open in the main thread (signals are process-wide state)
_watching = 0  # watching_interrupts blocks open in the main thread
_requested: int | None = None  # the signal that asked the command to stop, until it ends


def interrupt_for(signum: int) -> KeyboardInterrupt:
    """What a stop signal raises: KeyboardInterrupt for Ctrl-C, Terminated for SIGTERM."""
    if signum == signal.SIGTERM:
        return Terminated("terminated by SIGTERM")
    return KeyboardInterrupt()


def stop_requested(signum: int, _frame: FrameType | None = None) -> None:
    """The handler of SIGINT and SIGTERM while a command runs: note it, then raise."""
    global _requested
    if _requested is None or _requested == signal.SIGINT:
        _requested = signum  # SIGTERM is the stronger request: it is kept
    raise interrupt_for(signum)


def checkpoint() -> None:
    """Raise again if the command was asked to stop (its first raise may have been lost).

    Inside a ``deferred_interrupts`` block nothing is raised: the block is let finish.
    """
    requested = _requested
    if requested is not None and not _depth:
        raise interrupt_for(requested)


@contextmanager
def watching_interrupts() -> Iterator[None]:
    """Run a command with SIGINT and SIGTERM noted as well as raised (see module docs).

    A stop that was asked for and swallowed until the command's end raises there. Only
    the main thread can set handlers; the outermost block owns them.
    """
    global _watching, _requested
    if threading.current_thread() is not threading.main_thread() or _watching:
        yield
        return
    _requested = None
    previous = {sig: signal.signal(sig, stop_requested) for sig in _HELD}
    _watching += 1
    try:
        yield
        checkpoint()
    finally:
        _watching -= 1
        _requested = None
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Run the block whole: Ctrl-C and SIGTERM arriving meanwhile take effect after it.

    Two holds, because either alone leaks: the signals are blocked in this thread, so the
    git processes it starts inherit the block and finish even when Ctrl-C reaches the
    whole process group; and Python-level handlers only note the signal, because the
    kernel may hand a blocked signal to another thread (litellm starts some), whose C
    handler would still make the main thread raise mid-block. Only the main thread
    receives Python's signals; elsewhere this does nothing.
    """
    global _depth
    if threading.current_thread() is not threading.main_thread() or _depth:
        yield
        return
    noted: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, _frame: noted.append(signum)) for sig in _HELD
    }
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        noted.extend(_take_pending())
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if noted:
            _deliver(noted[0], previous[noted[0]])


def _take_pending() -> list[int]:
    """Signals that arrived while blocked, consumed so that they are delivered once."""
    taken = []
    for sig in set(signal.sigpending()) & set(_HELD):
        if signal.sigtimedwait([sig], 0) is not None:
            taken.append(sig)
    return taken


def _deliver(signum: int, handler: object) -> None:
    """What the signal would have done had it not waited: usually KeyboardInterrupt."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)


def run_to_exit(main: Callable[[], object]) -> NoReturn:
    """Run a program's ``main`` and end the process with its exit code (``swc``'s entry).

    Once ``main`` is done the process ends at once: exit handlers run (they stop local
    model servers and remove temporary directories) and output is flushed, but the
    interpreter's teardown, which frees every object one at a time, is skipped. With
    litellm loaded it takes seconds, and more than 30 s on a busy machine, between a
    Ctrl-C and the end of swc. A Ctrl-C or SIGTERM from then on ends the process at once
    with the same code (left to Python, it could abort joining a library's worker threads
    and hang the exit for good).
    """
    try:
        main()
    except KeyboardInterrupt:
        _end(EXIT_INTERRUPTED, "interrupted")
    except SystemExit as done:
        code = done.code
        if code is None or isinstance(code, int):
            _end(code or 0, "")
        _end(1, str(code))
    _end(0, "")


def _end(status: int, message: str) -> NoReturn:
    def now(_signum: int, _frame: FrameType | None) -> None:
        os._exit(status)

    for sig in _HELD:
        signal.signal(sig, now)
    if message:
        from .output import visible

        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(visible(message) + "\n")
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


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
