"""The budget is checked before each call, and the ledger's total never exceeds it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from swcollab.errors import EXIT_BUDGET, BudgetExhausted
from swcollab.models import Budget
from tests.fakes.openai_server import FakeOpenAI, FakeResponse

from .helpers import Harness, fake_settings, user


def test_budget_holds_and_settles():
    budget = Budget(1.0)
    budget.reserve(0.6, "first")
    with pytest.raises(BudgetExhausted) as caught:
        budget.reserve(0.5, "second")  # 0.6 held + 0.5 > 1.0
    assert caught.value.exit_code == EXIT_BUDGET
    assert "second could cost up to $0.5000" in caught.value.message
    budget.settle(0.6, 0.1)
    assert budget.spent == pytest.approx(0.1)
    assert budget.remaining() == pytest.approx(0.9)
    budget.reserve(0.9, "exact fit")  # exactly what is left is allowed


def test_unlimited_budget():
    budget = Budget(None)
    budget.reserve(1e9, "anything")
    assert budget.remaining() is None


def test_refused_call_is_not_made(fake_llm: FakeOpenAI, tmp_path: Path):
    h = Harness(fake_settings(fake_llm), tmp_path, budget=0.0001)
    fake_llm.enqueue("never sent")
    with pytest.raises(BudgetExhausted) as caught:
        # worst case: 256 max tokens at $2/M alone is $0.000512 > $0.0001
        h.client.complete("weak", user("fix it"), purpose="patch")
    assert fake_llm.requests == []
    assert "the weak model's patch call could cost up to" in caught.value.message
    [call] = h.calls()
    assert call["outcome"] == "refused" and call["cost_usd"] == 0
    assert "refused" in h.kinds()
    h.close()


def test_max_tokens_is_part_of_the_worst_case(fake_llm: FakeOpenAI, tmp_path: Path):
    h = Harness(fake_settings(fake_llm), tmp_path, budget=0.0001)
    fake_llm.enqueue("short")
    # 16 reply tokens at $2/M plus a tiny prompt fits in $0.0001
    reply = h.client.complete("weak", user("fix it"), purpose="patch", max_tokens=16)
    assert reply.text == "short" and fake_llm.requests[0]["max_tokens"] == 16
    h.close()


def test_ledger_total_never_exceeds_the_budget(fake_llm: FakeOpenAI, tmp_path: Path):
    """Many calls of random sizes until the budget refuses one: the total stays within it."""
    rng = random.Random(4)

    def reply(body: dict) -> str:
        # like a real provider: never more completion tokens than max_tokens
        return " ".join(["tok"] * rng.randint(1, body["max_tokens"]))

    fake_llm.set_handler(reply)
    limit = 0.1
    h = Harness(fake_settings(fake_llm), tmp_path, budget=limit)
    made = 0
    with pytest.raises(BudgetExhausted):
        for _ in range(10_000):
            tier = rng.choice(["weak", "strong", "strong"])
            prompt = user(" ".join(["word"] * rng.randint(1, 400)))
            h.client.complete(tier, prompt, purpose="patch", max_tokens=rng.choice([None, 64, 128]))
            made += 1
    total = h.ledger.total_cost(h.run_id)
    assert made > 10
    assert total <= limit
    assert total == pytest.approx(h.budget.spent)
    assert len(fake_llm.requests) == made  # the refused call never reached the server
    assert [c["outcome"] for c in h.calls()].count("refused") == 1
    h.close()


def _our_count(body: dict) -> int:
    """What swc's tokenizer counts for a request (the scripted provider scales it)."""
    from swcollab.models import _litellm as lib

    return lib.token_count(str(body["model"]), messages=body["messages"])


def _over_reporting(rng: random.Random, mode: str):
    """A provider whose prompt count is some multiple (up to 3x) of ours, by ``mode``."""
    constant = rng.uniform(0.2, 3.0)
    made = []

    def reply(body: dict) -> FakeResponse:
        made.append(body)
        if mode == "constant":
            factor = constant
        elif mode == "random":
            factor = rng.uniform(0.0, 3.0)
        elif mode == "low-then-high":  # learnt low, then jumps to the most it may
            factor = 0.5 if len(made) < 4 else 3.0
        else:  # "spiky": mostly honest, now and then the most it may
            factor = 3.0 if rng.random() < 0.2 else 1.0
        prompt = int(_our_count(body) * factor)
        return FakeResponse(
            content="ok", prompt_tokens=prompt, completion_tokens=rng.randint(0, body["max_tokens"])
        )

    return reply


@pytest.mark.parametrize("seed", range(12))
def test_total_charged_never_exceeds_the_budget_whatever_the_provider_reports(
    fake_llm: FakeOpenAI, tmp_path: Path, seed: int
):
    """Property: a provider reporting up to 3x the prompt tokens swc counted (constant,
    random per call, low then high, or spiky) never makes the total exceed the budget."""
    rng = random.Random(seed)
    mode = ["constant", "random", "low-then-high", "spiky"][seed % 4]
    fake_llm.set_handler(_over_reporting(rng, mode))
    limit = rng.choice([0.05, 0.1, 0.3])
    h = Harness(fake_settings(fake_llm), tmp_path, budget=limit)
    with pytest.raises(BudgetExhausted):
        for _ in range(2_000):
            tier = rng.choice(["weak", "strong"])
            prompt = user(
                " ".join(
                    rng.choice(["word", "x", "éé", "def f():", "{}"])
                    for _ in range(rng.randint(1, 600))
                )
            )
            h.client.complete(tier, prompt, purpose="patch", max_tokens=rng.choice([None, 16, 64]))
    calls = h.calls()
    total = h.ledger.total_cost(h.run_id)
    assert total <= limit, (mode, total, limit)
    assert total == pytest.approx(h.budget.spent)
    for made in calls:
        assert made["cost_usd"] <= made["reserved_usd"] + 1e-12, made
    assert sum(1 for c in calls if c["outcome"] == "ok") >= 1
    h.close()


def test_a_provider_counting_more_than_the_floor_raises_the_next_reservation(
    fake_llm: FakeOpenAI, tmp_path: Path
):
    """Learnt within a run and, through the ledger, by the next run's first call."""
    fake_llm.set_handler(
        lambda body: FakeResponse(content="ok", prompt_tokens=_our_count(body) * 5)
    )
    h = Harness(fake_settings(fake_llm), tmp_path)
    prompt = user("word " * 200)
    h.client.complete("weak", prompt, purpose="patch", max_tokens=16)
    h.client.complete("weak", prompt, purpose="patch", max_tokens=16)
    first, second = h.calls()
    assert second["prompt_tokens"] == first["prompt_tokens"]
    assert second["reserved_usd"] > second["cost_usd"] > 0
    # the first call had no history: it was held at the prompt's byte size (1000+ tokens)
    assert first["reserved_usd"] >= first["cost_usd"]
    h.close()
    later = Harness(fake_settings(fake_llm), tmp_path)  # same ledger, a new run
    later.client.complete("weak", prompt, purpose="patch", max_tokens=16)
    [third] = later.calls()
    assert third["reserved_usd"] == pytest.approx(second["reserved_usd"])
    later.close()


def test_negative_usage_is_not_a_refund(fake_llm: FakeOpenAI, tmp_path: Path):
    fake_llm.enqueue(FakeResponse(content="ok", prompt_tokens=-10_000, completion_tokens=-5))
    h = Harness(fake_settings(fake_llm), tmp_path, budget=1.0)
    reply = h.client.complete("weak", user("fix it"), purpose="patch")
    [call] = h.calls()
    assert reply.prompt_tokens == call["prompt_estimate"] > 0
    assert call["cost_usd"] > 0 and h.budget.spent == pytest.approx(call["cost_usd"])
    h.close()
