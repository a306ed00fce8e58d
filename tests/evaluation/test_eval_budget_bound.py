"""``swc eval`` never spends more than ``--budget``, whatever the provider counts."""

from __future__ import annotations

import pytest

from tests.evaluation.conftest import Models
from tests.evaluation.test_eval import swc
from tests.fakes.openai_server import FakeResponse, word_count

PRICES = {"weak": (1.0, 2.0), "strong": (10.0, 40.0)}  # USD per million, as configured


class OverReporting:
    """The scripted models, billing 3x the prompt tokens swc counts; keeps every bill."""

    def __init__(self, models: Models, factor: float) -> None:
        self.models = models
        self.factor = factor
        self.bills: list[float] = []

    def __call__(self, body: dict) -> FakeResponse:
        from swcollab.models import _litellm as lib

        counted = lib.token_count(str(body["model"]), messages=body["messages"])
        reply = self.models.answer(body)
        prompt = int(counted * self.factor)
        tier = "strong" if "strong" in str(body["model"]) else "weak"
        price_in, price_out = PRICES[tier]
        self.bills.append((prompt * price_in + word_count(reply) * price_out) / 1e6)
        return FakeResponse(content=reply, prompt_tokens=prompt)


@pytest.mark.parametrize("budget", ["0.004", "0.02"])
def test_eval_with_an_over_reporting_provider_stays_within_budget(
    history, models: Models, fake_llm, tmp_path, monkeypatch, budget
):
    """Two workers share the budget; the provider bills 3x the prompt tokens swc counts."""
    root, _ = history
    monkeypatch.setenv("SWC_WEAK_MAX_TOKENS", "64")
    monkeypatch.setenv("SWC_STRONG_MAX_TOKENS", "64")
    provider = OverReporting(models, 3.0)
    fake_llm.set_handler(provider)
    code, doc, err = swc(
        root,
        "--from-history",
        "--strategies",
        "weak,cascade",
        "-j",
        "2",
        "--db",
        str(tmp_path / "eval.db"),
        "--budget",
        budget,
        "--json",
    )
    assert code in (0, 1, 4), err
    assert provider.bills, "no call fitted the budget: the test proves nothing"
    assert sum(provider.bills) <= float(budget), (sum(provider.bills), code)
    assert doc["spent_usd"] == pytest.approx(sum(provider.bills))
