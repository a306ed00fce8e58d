"""Fixtures shared by the whole suite. Keep this small; add yours at the end."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from tests.fakes.openai_server import FakeOpenAI

# A test runner started in the background by a script (``.ci/run &``, ``nohup``) inherits
# SIGINT ignored, and so would every process it starts: the Ctrl-C tests need it to
# arrive, as it does for a user at a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Environment variables that could make a test reach a real provider or read the
# developer's own configuration.
_PROVIDER_KEYS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "TOGETHERAI_API_KEY",
    "AZURE_API_KEY",
    "AZURE_API_BASE",
    "AZURE_OPENAI_API_KEY",
    "COHERE_API_KEY",
    "OLLAMA_API_BASE",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "LITELLM_API_KEY",
)


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads the user's config, a SWC_* variable or a real provider key."""
    config_home: Path = tmp_path_factory.mktemp("xdg-config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    for name in list(os.environ):
        if name.startswith("SWC_") or name in _PROVIDER_KEYS:
            monkeypatch.delenv(name, raising=False)
    # an activated environment would be taken for the test projects' own (ecosystems/python_env.py)
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_PROJECT_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    """A loopback OpenAI-compatible server (``tests/fakes/openai_server.py``)."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()


# The test taxonomy (README "Running the tests"): ``pytest -m "not e2e and not slow"`` is
# the contributor's loop. Whole directories run swc end to end: the engine and the eval
# through the loopback model server, with real worktrees and sandboxed test runs; the
# modules listed after them are the in-process exceptions there, or end-to-end elsewhere.
_E2E_DIRECTORIES = ("engine", "evaluation")
_IN_PROCESS = frozenset(
    {
        "engine/test_spans.py",  # span selection on files in a temporary directory
        "engine/test_context_history.py",  # span scoring and git history, no model
        "evaluation/test_units.py",  # shards, pairs, budget, frontier, chart
        # the engine's seam: FakeModel and an in-process test runner, real git worktrees
        "engine/test_seam_units.py",
        "engine/test_seam_cascade.py",
        "engine/test_seam_strategies.py",
        "engine/test_seam_flaky.py",
        "engine/test_seam_limits.py",
        "engine/test_seam_cost.py",
        "engine/test_seam_test_changes.py",
    }
)
_E2E_MODULES = frozenset(
    {
        "models/test_local.py",  # local model servers as real processes, a stand-in swc
        # each ecosystem through the CLI on a small project with its real toolchain
        "ecosystems/test_rust_e2e.py",
        "ecosystems/test_go_e2e.py",
        "ecosystems/test_node_e2e.py",
        "ecosystems/test_jvm_e2e.py",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        try:
            module = PurePosixPath(Path(item.path).resolve().relative_to(here).as_posix())
        except ValueError:
            continue
        name = str(module)
        if name in _E2E_MODULES or (
            module.parts[0] in _E2E_DIRECTORIES and name not in _IN_PROCESS
        ):
            item.add_marker(pytest.mark.e2e)
