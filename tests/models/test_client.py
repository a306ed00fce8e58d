"""ModelClient against the loopback server: litellm's real HTTP client runs every time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from swcollab.errors import EXIT_ENVIRONMENT, ModelError
from tests.fakes.openai_server import FakeOpenAI, FakeResponse

from .helpers import FAST, STRONG_PRICES, WEAK_PRICES, Harness, fake_settings, user


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


def test_success_returns_text_tokens_cost_and_is_recorded(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(fake_settings(fake_llm))
    fake_llm.enqueue(
        FakeResponse(content="def add(a, b): return a + b", prompt_tokens=120, completion_tokens=30)
    )
    reply = h.client.complete("weak", user("fix add please"), purpose="patch")

    assert reply.text == "def add(a, b): return a + b"
    assert (reply.prompt_tokens, reply.completion_tokens) == (120, 30)
    expected = (120 * WEAK_PRICES[0] + 30 * WEAK_PRICES[1]) / 1e6
    assert reply.cost_usd == pytest.approx(expected)
    assert reply.cost_known and reply.model == "openai/weak-model" and reply.tier == "weak"
    assert reply.latency_s > 0
    # what reached the server: the model name without the provider, our max_tokens
    sent = fake_llm.requests[0]
    assert sent["model"] == "weak-model" and sent["max_tokens"] == 256
    assert fake_llm.prompts("weak-model") == ["fix add please"]
    [call] = h.calls()
    assert call["outcome"] == "ok" and call["purpose"] == "patch" and call["tier"] == "weak"
    assert (call["prompt_tokens"], call["completion_tokens"]) == (120, 30)
    assert call["cost_usd"] == pytest.approx(expected)
    assert call["strong_cost_usd"] == pytest.approx(
        (120 * STRONG_PRICES[0] + 30 * STRONG_PRICES[1]) / 1e6
    )
    assert h.budget.spent == pytest.approx(expected)


def test_default_usage_is_what_the_fixture_counted(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(fake_settings(fake_llm))
    fake_llm.enqueue("three words here")
    reply = h.client.complete("strong", user("one two three four five"), purpose="plan")
    assert (reply.prompt_tokens, reply.completion_tokens) == (5, 3)
    assert reply.cost_usd == pytest.approx((5 * 10.0 + 3 * 40.0) / 1e6)


def test_rate_limit_then_success(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(fake_settings(fake_llm))
    fake_llm.enqueue(
        FakeResponse(status=429, content="slow down", headers={"Retry-After": "5"}), "finally"
    )
    reply = h.client.complete("weak", user("hi"), purpose="tests")
    assert reply.text == "finally"
    assert len(fake_llm.requests) == 2
    retries = [e for e in h.events if e.kind == "retry"]
    assert len(retries) == 1 and "slow down" in retries[0].text
    # Retry-After was read (5 s asked), and capped (tests use a 0.05 s cap)
    assert retries[0].delay_s == FAST.retry_after_cap
    [call] = h.calls()
    assert call["outcome"] == "ok" and call["detail"] == "2 attempts"


def test_server_error_every_time_gives_clear_error_after_retries(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(fake_settings(fake_llm, retries=2))
    fake_llm.set_handler(lambda body: FakeResponse(status=500, content="upstream exploded"))
    with pytest.raises(ModelError) as caught:
        h.client.complete("weak", user("hi"), purpose="patch")
    assert len(fake_llm.requests) == 3  # one try and two retries, litellm adds none
    message = str(caught.value)
    assert "weak model openai/weak-model failed after 3 attempts" in message
    assert "upstream exploded" in message and "litellm.InternalServerError" not in message
    assert caught.value.exit_code == EXIT_ENVIRONMENT
    [call] = h.calls()
    assert call["outcome"] == "error" and call["cost_usd"] == 0
    assert "upstream exploded" in call["detail"]
    assert h.budget.spent == 0 and h.budget.remaining() is None


def test_client_error_is_not_retried(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(fake_settings(fake_llm))
    fake_llm.enqueue(FakeResponse(status=400, content="context too long for this model"))
    with pytest.raises(ModelError, match="context too long for this model"):
        h.client.complete("weak", user("hi"), purpose="patch")
    assert len(fake_llm.requests) == 1


def test_authentication_error_names_the_key_variable(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(
        fake_settings(fake_llm, weak={"api_key_env": "MY_KEY"}), environ={"MY_KEY": "sk-wrong"}
    )
    fake_llm.enqueue(FakeResponse(status=401, content="invalid api key"))
    with pytest.raises(ModelError) as caught:
        h.client.complete("weak", user("hi"), purpose="patch")
    assert "invalid api key" in str(caught.value) and "MY_KEY" in str(caught.value)
    assert fake_llm.headers[0]["authorization"] == "Bearer sk-wrong"


def test_malformed_response(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(fake_settings(fake_llm, retries=1))
    fake_llm.set_handler(lambda body: FakeResponse(body="this is {not json"))
    with pytest.raises(ModelError) as caught:
        h.client.complete("weak", user("hi"), purpose="patch")
    assert "weak model openai/weak-model failed" in str(caught.value)
    assert h.calls()[0]["outcome"] == "error"


def test_response_without_choices(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(fake_settings(fake_llm, retries=0))
    fake_llm.enqueue(FakeResponse(body={"unexpected": True}))
    with pytest.raises(ModelError, match="choices"):
        h.client.complete("weak", user("hi"), purpose="patch")


def test_timeout(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(fake_settings(fake_llm, retries=1, timeout=0.5))
    fake_llm.set_handler(lambda body: FakeResponse(content="too late", delay=2.0))
    with pytest.raises(ModelError) as caught:
        h.client.complete("weak", user("hi"), purpose="patch")
    assert "after 2 attempts" in str(caught.value)
    assert "timed out" in str(caught.value).lower()
    assert [c["outcome"] for c in h.calls()] == ["error"]


def test_connection_refused(fake_llm: FakeOpenAI, harness_for):
    settings = fake_settings(fake_llm, retries=1)
    fake_llm.stop()
    h = harness_for(settings)
    with pytest.raises(ModelError, match="failed after 2 attempts"):
        h.client.complete("weak", user("hi"), purpose="patch")


def test_streaming_emits_tokens_and_counts_usage(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(fake_settings(fake_llm))
    fake_llm.enqueue(FakeResponse(content="tokens arrive one by one", completion_tokens=7))
    reply = h.client.complete("strong", user("stream please"), purpose="patch", stream=True)
    pieces = [e.text for e in h.events if e.kind == "token"]
    assert len(pieces) > 1 and "".join(pieces) == "tokens arrive one by one"
    assert reply.text == "tokens arrive one by one"
    assert (reply.prompt_tokens, reply.completion_tokens) == (2, 7)
    assert fake_llm.requests[0]["stream"] is True
    assert h.calls()[0]["completion_tokens"] == 7


def test_interrupt_mid_stream_is_recorded_and_propagates(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(fake_settings(fake_llm), budget=1.0)

    def stop_on_first_token(event):
        if event.kind == "token":
            raise KeyboardInterrupt

    h.client.on_event = stop_on_first_token
    fake_llm.enqueue("a b c d")
    with pytest.raises(KeyboardInterrupt):
        h.client.complete("weak", user("hi"), purpose="patch", stream=True)
    assert [c["outcome"] for c in h.calls()] == ["interrupted"]
    assert h.budget.remaining() == pytest.approx(1.0)  # the hold was released


def test_unknown_price_costs_zero_and_says_so_once(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(
        fake_settings(fake_llm, weak={"input_cost_per_mtok": None, "output_cost_per_mtok": None})
    )
    fake_llm.enqueue("one", "two")
    first = h.client.complete("weak", user("hi"), purpose="patch")
    h.client.complete("weak", user("hi again"), purpose="patch")
    assert first.cost_usd == 0 and not first.cost_known
    assert len(h.client.warnings) == 1 and "no price is known" in h.client.warnings[0]
    assert "weak.input_cost_per_mtok" in h.client.warnings[0]
    assert h.kinds().count("warning") == 1
    assert [c["cost_known"] for c in h.calls()] == [False, False]
    assert h.client.price("weak") == (0.0, 0.0) and not h.client.price_known("weak")


def test_known_model_is_priced_from_litellm(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(
        fake_settings(
            fake_llm,
            weak={
                "model": "gpt-4o-mini",
                "input_cost_per_mtok": None,
                "output_cost_per_mtok": None,
            },
        )
    )
    prompt, completion = h.client.price("weak")
    assert prompt > 0 and completion > prompt  # litellm's map, offline
    fake_llm.enqueue(FakeResponse(content="x", prompt_tokens=1000, completion_tokens=100))
    reply = h.client.complete("weak", user("hi"), purpose="patch")
    assert reply.cost_known
    assert reply.cost_usd == pytest.approx(1000 * prompt + 100 * completion)
    assert fake_llm.requests[0]["model"] == "gpt-4o-mini"


def test_keyless_openai_compatible_server_never_gets_the_openai_key(
    fake_llm: FakeOpenAI, harness_for, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key")
    h = harness_for(fake_settings(fake_llm, weak={"model": "my-vllm-model"}))
    h.client.check_credentials()
    fake_llm.enqueue("ok")
    h.client.complete("weak", user("hi"), purpose="patch")
    assert fake_llm.requests[0]["model"] == "my-vllm-model"
    assert "sk-real-openai-key" not in fake_llm.headers[0].get("authorization", "")


def test_estimates_and_small_models(fake_llm: FakeOpenAI, harness_for):
    h = harness_for(fake_settings(fake_llm, strong={"model": "ollama/qwen2.5-coder:7b"}))
    short = h.client.estimate_tokens("weak", user("hello"))
    long = h.client.estimate_tokens("weak", user("hello " * 200))
    assert 0 < short < long
    assert not h.client.is_small("weak") and h.client.is_small("strong")
