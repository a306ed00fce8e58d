"""``python -m swcollab.models._watchdog PARENT_PID MODULE ARGS...``: run MODULE as a script,
and end its whole process group as soon as PARENT_PID is no longer our parent.

swc stops its local model server itself on normal exit, errors and Ctrl-C; this covers
the one case it cannot: swc being killed outright (SIGKILL, a closed terminal), which
would otherwise leave the server running, holding memory, forever.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import threading
import time

_CHECK_EVERY_S = 0.5


def _watch(parent: int) -> None:
    while True:
        time.sleep(_CHECK_EVERY_S)
        if os.getppid() != parent:
            os.killpg(os.getpgid(0), signal.SIGKILL)


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit("usage: python -m swcollab.models._watchdog PARENT_PID MODULE [ARGS...]")
    parent, module = int(sys.argv[1]), sys.argv[2]
    if os.getppid() != parent:
        sys.exit(f"parent {parent} is already gone")
    threading.Thread(target=_watch, args=(parent,), name="swc-watchdog", daemon=True).start()
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
