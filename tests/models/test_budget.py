"""The budget is checked before each call, and the ledger's total never exceeds it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from swcollab.errors import EXIT_BUDGET, BudgetExhausted
from swcollab.models import Budget
from tests.fakes.openai_server import FakeOpenAI

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
            h.client.complete(tier, prompt, purpose="patch",
                              max_tokens=rng.choice([None, 64, 128]))
            made += 1
    total = h.ledger.total_cost(h.run_id)
    assert made > 10
    assert total <= limit
    assert total == pytest.approx(h.budget.spent)
    assert len(fake_llm.requests) == made  # the refused call never reached the server
    assert [c["outcome"] for c in h.calls()].count("refused") == 1
    h.close()
