"""litellm is imported in a thread while the run builds its map: no deadlock, same errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# The main thread imports what a run imports while it prepares (tree-sitter, numpy, the
# repo map, jinja2, sqlite3, rich) while the preflight thread imports litellm, whose own
# imports overlap (jinja2, httpx, pydantic, ...). Each order is tried in a fresh process.
SCRIPT = textwrap.dedent("""
    import os, sys, threading, time
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    from swcollab.config import Settings, TierSettings
    from swcollab.engine.preflight import Preflight
    from swcollab.models import Budget

    os.environ["PREFLIGHT_KEY"] = "x"
    tiers = [TierSettings(t, model="openai/gpt-4o-mini", api_key_env="PREFLIGHT_KEY")
             for t in ("weak", "strong")]
    settings = Settings(weak=tiers[0], strong=tiers[1])
    preflight = Preflight(settings, Budget(1.0))
    if sys.argv[1] == "sleep":
        time.sleep(0.05)  # let the thread get into litellm's imports first
    import jinja2, sqlite3, numpy, rich.console, tree_sitter
    from swcollab.repomap import builder, tags
    from swcollab.engine import context, spans
    preflight.wait()
    assert "litellm" in sys.modules
    print("ok", threading.active_count())
""")


def test_importing_litellm_in_a_thread_does_not_deadlock_with_the_main_thread():
    for order in ("now", "sleep", "now"):
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, order], capture_output=True, text=True, timeout=180
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("ok"), proc.stdout


def test_the_preflight_hands_its_error_to_the_main_thread(monkeypatch):
    import pytest

    from swcollab.config import Settings, TierSettings
    from swcollab.engine.preflight import Preflight
    from swcollab.errors import MissingCredentials
    from swcollab.models import Budget

    monkeypatch.delenv("PREFLIGHT_MISSING_KEY", raising=False)
    tiers = [
        TierSettings(t, model="openai/gpt-4o-mini", api_key_env="PREFLIGHT_MISSING_KEY")
        for t in ("weak", "strong")
    ]
    preflight = Preflight(Settings(weak=tiers[0], strong=tiers[1]), Budget(1.0))
    with pytest.raises(MissingCredentials, match="PREFLIGHT_MISSING_KEY"):
        preflight.wait()
