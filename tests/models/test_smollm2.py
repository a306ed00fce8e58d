"""The real SmolLM2-135M through `local/smollm2`: llama.cpp's server, started and stopped."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from swcollab.cli import cli
from swcollab.config import Settings
from swcollab.models import Budget, Ledger, ModelClient, ModelEvent

from .helpers import wait_dead

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama_cpp is not installed (pip install 'swcollab[local]')",
    ),
]


def test_default_model_is_local_smollm2_end_to_end(tmp_path: Path):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    state = repo / ".git" / "swc"
    ledger = Ledger.open(state)
    run_id = ledger.start_run(
        task="say hi", strategy="weak", tiers={"weak": "local/smollm2"}, base="HEAD"
    )
    events: list[ModelEvent] = []
    # No model configured anywhere: both tiers fall back to the embedded local model.
    client = ModelClient(
        Settings(), budget=Budget(0.0), ledger=ledger, run_id=run_id, on_event=events.append
    )
    with client:
        specs = client.specs()
        assert {s.model for s in specs.values()} == {"local/smollm2"}
        client.check_credentials()
        assert client.is_small("weak") and client.price("weak") == (0.0, 0.0)
        messages = [{"role": "user", "content": "Say hello in one word."}]
        reply = client.complete("weak", messages, purpose="test", max_tokens=8, temperature=0.0)
        streamed = client.complete(
            "strong", messages, purpose="test", max_tokens=8, temperature=0.0, stream=True
        )
        [pid] = client.local_server_pids()  # one server serves both tiers
    assert wait_dead(pid), "the llama.cpp server outlived the client"

    for answer in (reply, streamed):
        assert answer.text.strip()
        assert answer.prompt_tokens > 0 and 0 < answer.completion_tokens <= 8
        assert answer.cost_usd == 0 and answer.cost_known
    assert [e for e in events if e.kind == "token"]
    assert any("no model is configured" in w for w in client.warnings)

    ledger.finish_run(
        run_id,
        verdict="unverified",
        branch=None,
        cost_usd=0.0,
        strong_only_cost_usd=0.0,
        report_path=None,
    )
    ledger.close()
    listed = CliRunner().invoke(cli, ["--repo", str(repo), "runs", "--json"])
    [row] = json.loads(listed.stdout)
    assert row["id"] == run_id and row["calls"] == 2 and row["cost_usd"] == 0
