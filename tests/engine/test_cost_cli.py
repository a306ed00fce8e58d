"""What a run costs, through the CLI and litellm's real HTTP path: a tier's candidates in
one request with n samples, the provider's cached prompt tokens charged at the cache
price, and `swc runs show` / `swc stats` saying what the cache saved."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.conftest import GOOD_PATCH, WRONG_PATCH, Script, purpose_of
from swcollab.cli import cli
from tests.fakes.model_config import configure_fake_tiers
from tests.fakes.openai_server import FakeOpenAI

PROMPT = "add(2, 3) returns -1 instead of 5: the sum is wrong"


@pytest.fixture
def caching_llm() -> Iterator[FakeOpenAI]:
    # the test project is small: any shared start of 8 words or more is cached
    with FakeOpenAI(prefix_cache=True, cache_min=8, cache_step=1) as fake:
        yield fake


def swc(project: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--repo", str(project), *args], catch_exceptions=False)
    return result.exit_code, result.stdout


def test_a_fix_pays_for_its_prompt_once_and_the_ledger_says_what_the_cache_saved(
    project: Path, caching_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    xdg = project.parent / "xdg"
    configure_fake_tiers(monkeypatch, xdg, caching_llm.base_url, weak_candidates=3)
    monkeypatch.setenv("SWC_WEAK_CACHED_INPUT_COST_PER_MTOK", "0.1")  # a tenth of the price
    script = Script(weak_patches=[WRONG_PATCH, WRONG_PATCH, GOOD_PATCH])  # the third fixes it
    caching_llm.set_handler(script.answer)
    code, out = swc(project, "fix", "--prompt", PROMPT, "--json")
    doc = json.loads(out)
    assert code == 0 and doc["verdict"] == "fixed"
    patches = [r for r in caching_llm.requests if purpose_of(r) == "patch"]
    assert [r.get("n") for r in patches] == [3]  # one request, three samples
    assert doc["winner"]["tier"] == "weak" and doc["winner"]["candidate"] == 3
    assert doc["tokens"]["cached"] > 0 and doc["cache_saving_usd"] > 0
    code, out = swc(project, "runs", "show", doc["run_id"], "--json")
    shown = json.loads(out)
    tests_call, patch_call = shown["calls"]
    assert (patch_call["samples"], patch_call["answers"]) == (3, 3)
    assert patch_call["cached_tokens"] > 0 and tests_call["cached_tokens"] == 0
    assert shown["run"]["cached_tokens"] == doc["tokens"]["cached"]
    code, text = swc(project, "runs", "show", doc["run_id"])
    assert "prompt tokens from the providers' caches" in text and "(3/3)" in text
    code, out = swc(project, "stats", "--json")
    stats = json.loads(out)
    assert stats["cached_tokens"] == doc["tokens"]["cached"]
    assert stats["cache_saving_usd"] == pytest.approx(doc["cache_saving_usd"], abs=1e-6)
