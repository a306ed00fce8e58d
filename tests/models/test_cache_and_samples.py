"""A prompt paid for once: n samples in one request, cached prompt tokens charged at the
cache's price, the shared prefix marked for Claude. litellm's real HTTP client runs
against the loopback server, which answers ``n`` and reports cached tokens as OpenAI does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from swcollab.engine.sampling import SamplePool
from swcollab.models._litellm import Route, provider_messages
from swcollab.prompts import SHARED_PREFIX
from tests.fakes.openai_server import CACHE_MIN, FakeOpenAI, FakeResponse

from .helpers import STRONG_PRICES, WEAK_PRICES, Harness, fake_settings, user


@pytest.fixture
def caching_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(prefix_cache=True) as fake:
        yield fake


@pytest.fixture
def harness_for(tmp_path: Path) -> Iterator:
    made: list[Harness] = []

    def make(settings, **kwargs) -> Harness:
        harness = Harness(settings, tmp_path / "state", **kwargs)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()


def test_three_samples_are_one_request_billed_for_the_prompt_once(fake_llm, harness_for):
    h = harness_for(fake_settings(fake_llm))
    fake_llm.enqueue(
        FakeResponse("first", prompt_tokens=1000, completion_tokens=10),
        FakeResponse("second", completion_tokens=20),
        FakeResponse("third", completion_tokens=30),
    )
    reply = h.client.complete("weak", user("fix it"), purpose="patch", samples=3)
    assert len(fake_llm.requests) == 1 and fake_llm.requests[0]["n"] == 3
    assert reply.samples == ("first", "second", "third")
    assert (reply.prompt_tokens, reply.completion_tokens) == (1000, 60)
    expected = (1000 * WEAK_PRICES[0] + 60 * WEAK_PRICES[1]) / 1e6
    assert reply.cost_usd == pytest.approx(expected)
    [call] = h.calls()
    assert (call["samples"], call["answers"]) == (3, 3)
    assert call["max_tokens"] == 3 * 256  # the budget held three replies
    assert call["reserved_usd"] >= 3 * 256 * WEAK_PRICES[1] / 1e6


def test_one_sample_sends_no_n(fake_llm, harness_for):
    h = harness_for(fake_settings(fake_llm))
    fake_llm.enqueue("only")
    h.client.complete("weak", user("fix it"), purpose="patch")
    assert "n" not in fake_llm.requests[0]


def test_a_provider_that_returns_fewer_samples_is_asked_again(fake_llm, harness_for):
    """A server that ignores n (llama.cpp's does) answers once; the next candidate asks
    for what is still missing, and nothing is lost."""
    h = harness_for(fake_settings(fake_llm))
    one_choice = {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "weak-model",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "a"}}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
    fake_llm.enqueue(FakeResponse(body=one_choice), "b", "c")
    pool = SamplePool.for_tier(h.client, "weak", 3)
    assert pool.together
    answers = [pool.take(h.client, user("fix it"), i, 0.7) for i in (1, 2, 3)]
    assert answers == ["a", "b", "c"]
    assert [r.get("n") for r in fake_llm.requests] == [3, 2]


def test_cached_prompt_tokens_are_charged_at_the_cache_price(caching_llm, harness_for):
    h = harness_for(fake_settings(caching_llm, weak={"cached_input_cost_per_mtok": 0.1}))
    shared = " ".join(f"w{i}" for i in range(1500))
    caching_llm.enqueue("one", "two")
    first = h.client.complete("weak", user(shared + " first ask"), purpose="tests")
    second = h.client.complete("weak", user(shared + " second ask"), purpose="patch")
    assert first.cached_tokens == 0
    cached = 1500 // 128 * 128  # OpenAI caches in steps of 128 tokens
    assert second.cached_tokens == cached > CACHE_MIN
    prompt = second.prompt_tokens
    expected = ((prompt - cached) * WEAK_PRICES[0] + cached * 0.1 + 1 * WEAK_PRICES[1]) / 1e6
    assert second.cost_usd == pytest.approx(expected)
    calls = h.calls()
    assert [c["cached_tokens"] for c in calls] == [0, cached]
    uncached = (prompt * WEAK_PRICES[0] + 1 * WEAK_PRICES[1]) / 1e6
    assert calls[1]["uncached_cost_usd"] == pytest.approx(uncached)
    assert h.budget.spent == pytest.approx(first.cost_usd + second.cost_usd)
    # the strong-only estimate charges the same cached tokens at the strong cache price
    # (none configured: the strong prompt price)
    assert calls[1]["strong_cost_usd"] == pytest.approx(
        (prompt * STRONG_PRICES[0] + 1 * STRONG_PRICES[1]) / 1e6
    )


def test_the_cache_price_of_a_listed_model_comes_from_litellms_map(caching_llm, harness_for):
    h = harness_for(
        fake_settings(
            caching_llm,
            weak={"model": "gpt-4.1-mini", "input_cost_per_mtok": None},
        )
    )
    prices = h.client.prices("weak")
    assert prices.prompt == pytest.approx(0.40 / 1e6)
    assert prices.cache_read == pytest.approx(0.10 / 1e6)


def test_a_short_shared_start_is_not_cached(caching_llm, harness_for):
    h = harness_for(fake_settings(caching_llm))
    caching_llm.enqueue("one", "two")
    h.client.complete("weak", user("same start, then a"), purpose="tests")
    reply = h.client.complete("weak", user("same start, then b"), purpose="patch")
    assert reply.cached_tokens == 0


def test_only_claude_gets_the_cache_mark_and_no_provider_sees_swcs_key(fake_llm, harness_for):
    messages = [
        {"role": "system", "content": "be careful"},
        {"role": "user", "content": "SHARED PART|the task", SHARED_PREFIX: len("SHARED PART|")},
    ]
    claude = provider_messages(Route("claude-sonnet-4-5", None, None, "anthropic"), messages)
    assert claude[1]["content"] == [
        {"type": "text", "text": "SHARED PART|", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "the task"},
    ]
    openai = provider_messages(Route("gpt-4o", None, None, "openai"), messages)
    assert openai[1] == {"role": "user", "content": "SHARED PART|the task"}
    # through litellm to the server: the key never leaves swc
    h = harness_for(fake_settings(fake_llm))
    fake_llm.enqueue("ok")
    h.client.complete("weak", messages, purpose="patch")
    assert all(set(m) == {"role", "content"} for m in fake_llm.requests[0]["messages"])
