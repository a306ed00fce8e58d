"""The checks that need litellm, run in the background while a run prepares its work.

Importing litellm takes 3 to 7 s; nothing before the first model call needs it except
the credential check (litellm says which variables a provider needs) and the prices. So
the check runs in a daemon thread, importing litellm as it goes, while the main thread
makes the worktree, builds the map and runs the baseline tests; the run waits for it
before it plans the tiers' budgets and before its first model call. Importing in a thread
is safe: Python takes a lock per module, and a thread that needs a module another thread
is importing waits for it (tests/engine/test_preflight.py imports both ways at once).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Settings
    from ..models import Budget, Model


class Preflight:
    """``check_credentials`` of every tier, started now, its outcome collected by ``wait``."""

    def __init__(self, settings: Settings, budget: Budget, model: Model | None = None) -> None:
        self._settings = settings
        self._budget = budget
        self._model = model
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._check, name="swc-preflight", daemon=True)
        self._thread.start()

    def _check(self) -> None:
        from ..models import ModelClient
        from ..models._litellm import litellm

        try:
            litellm()  # the import itself: every tier needs it, keys or not
            with ModelClient(self._settings, budget=self._budget, model=self._model) as probe:
                probe.check_credentials()
        except BaseException as exc:  # handed to the main thread by wait()
            self._error = exc

    def wait(self) -> None:
        """Block until the check is done; raise what it raised (missing credentials, ...)."""
        self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
