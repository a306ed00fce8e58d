"""What a run pays, through the seam: a cheaper tier is shown what its price buys, every
request of a tier starts with the same long prefix, a tier's candidates share one
request, and the ledger charges cached tokens at the cache's price."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from engine.conftest import GOOD_PATCH, GOOD_TEST, WRONG_PATCH
from engine.seam import TASK, fake_settings, fix
from swcollab.config import TierSettings
from swcollab.engine import VERDICT_FIXED
from swcollab.models import Ledger
from swcollab.models.fake import FakeModel
from swcollab.prompts import SHARED_PREFIX

ANSWERS = {"tests": GOOD_TEST, "weak:patch": WRONG_PATCH, "strong:patch": GOOD_PATCH}


def listed(name: str, model: str, **fields) -> TierSettings:
    """A tier of a model litellm's map lists: its prices and window come from the map."""
    return TierSettings(name, model=model, api_base="http://127.0.0.1:9/v1", tests=1, **fields)


def priced(weak_model: str, **overrides) -> dict:
    return {
        "settings": fake_settings(
            weak=listed("weak", weak_model, candidates=2),
            strong=listed("strong", "gpt-4o", candidates=1),
            **overrides,
        )
    }


@pytest.mark.parametrize(
    ("weak_model", "tokens"),
    [("gpt-4.1-mini", 20_800), ("gpt-4o-mini", 61_600), ("gpt-4.1-nano", 64_000)],
)
def test_a_cheaper_tier_is_shown_what_a_fifth_of_a_strong_prompt_buys(
    project: Path, weak_model: str, tokens: int
) -> None:
    """gpt-4o's prompt of ~19,548 tokens costs $0.049; a fifth of that buys 24,435 tokens
    of gpt-4.1-mini ($0.40/M), less the map and the rest of the prompt: 20,800 of code.
    gpt-4.1-nano could buy more than the 64,000 a cheaper tier is ever shown."""
    result = fix(project, FakeModel(ANSWERS), **priced(weak_model))
    weak, strong = result.plan
    assert (weak.view.context_tokens, strong.view.context_tokens) == (tokens, 16_000)
    assert strong.view.context_why == "the strong tier's default"
    assert "of the strong tier's" in weak.view.context_why
    if tokens < 64_000:
        assert "0.20 of the strong tier's" in weak.view.context_why
    else:
        assert "at most 64,000" in weak.view.context_why
    # the report and --json say it too
    from swcollab.report import render_markdown, result_as_json

    assert f"code {tokens:,} tokens (a patch prompt of ~" in render_markdown(result)
    assert result_as_json(result)["plan"][0]["view"]["context_why"] == weak.view.context_why


def test_the_share_is_a_setting_and_the_users_budget_wins(project: Path) -> None:
    half = fix(project, FakeModel(ANSWERS), **priced("gpt-4.1-mini", context_cost_share=0.1))
    assert half.plan[0].view.context_tokens == 8_600  # 12,217 tokens buy 8,669 of code
    own = priced("gpt-4.1-mini")
    own["settings"] = replace(
        own["settings"], weak=replace(own["settings"].weak, context_tokens=30_000)
    )
    chosen = fix(project, FakeModel(ANSWERS), **own)
    assert chosen.plan[0].view.context_tokens == 30_000
    assert chosen.plan[0].view.context_why == "set in the configuration"


def test_a_floor_keeps_a_pricey_weak_tier_useful_and_says_the_share_is_missed(
    project: Path,
) -> None:
    """A 'weak' model costing as much as the strong one cannot meet a fifth: it is shown
    the floor of 8,000 tokens, and the plan says so."""
    result = fix(project, FakeModel(ANSWERS), **priced("gpt-4o"))
    weak = result.plan[0]
    assert weak.view.context_tokens == 8_000
    assert "no less than 8,000" in weak.view.context_why


def test_every_request_of_a_tier_starts_with_the_same_shared_prefix(project: Path) -> None:
    model = FakeModel(ANSWERS)
    result = fix(project, model)
    assert result.verdict == VERDICT_FIXED
    for tier in ("weak", "strong"):
        calls = [c for c in model.calls if c.tier == tier]
        assert [c.purpose for c in calls] == ["tests", "patch"]
        cuts = {c.messages[1][SHARED_PREFIX] for c in calls}
        assert len(cuts) == 1, f"{tier}: its requests do not share one prefix"
        [cut] = cuts
        prefixes = {c.messages[1]["content"][:cut] for c in calls}
        assert len(prefixes) == 1
        [prefix] = prefixes
        assert "calc/ops.py" in prefix and TASK not in prefix  # the code, not the task
        assert {c.messages[0]["content"] for c in calls} == {calls[0].messages[0]["content"]}
        # the task comes after the shared part, in every request
        assert all(TASK in c.messages[1]["content"][cut:] for c in calls)


def test_the_candidates_of_a_tier_are_one_request_or_one_each_without_n(
    project: Path,
) -> None:
    together = FakeModel({"tests": GOOD_TEST, "patch": [WRONG_PATCH, GOOD_PATCH]})
    result = fix(project, together, strategy="weak")
    assert result.verdict == VERDICT_FIXED and result.winner.index == 2
    assert [(c.purpose, c.samples) for c in together.calls] == [("tests", 1), ("patch", 2)]
    # a provider without n: one request a candidate, told apart only at the end
    alone = FakeModel({"tests": GOOD_TEST, "patch": [WRONG_PATCH, GOOD_PATCH]}, takes_samples=False)
    result = fix(project, alone, strategy="weak")
    assert result.verdict == VERDICT_FIXED and result.winner.index == 2
    patches = [c for c in alone.calls if c.purpose == "patch"]
    assert [c.samples for c in patches] == [1, 1]
    first, second = (c.messages[1]["content"] for c in patches)
    assert "candidate 1 of 2" in first and "candidate 2 of 2" in second
    cut = patches[0].messages[1][SHARED_PREFIX]
    assert first[:cut] == second[:cut]


def test_the_ledger_charges_cached_tokens_at_the_cache_price(project: Path) -> None:
    """The fake reports as cached the words a prompt shares with an earlier one of its
    tier; with the cache at a tenth of the price, the run costs what that bills."""
    settings = fake_settings()
    cheap_cache = replace(settings.weak, cached_input_cost_per_mtok=0.1)
    model = FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH}, caching=True)
    result = fix(project, model, settings=replace(settings, weak=cheap_cache))
    assert result.verdict == VERDICT_FIXED
    ledger = Ledger.open(project / ".git" / "swc")
    try:
        tests_call, patch_call = ledger.calls(result.run_id)
    finally:
        ledger.close()
    assert tests_call["cached_tokens"] == 0 < patch_call["cached_tokens"]
    cached, prompt = patch_call["cached_tokens"], patch_call["prompt_tokens"]
    completion = patch_call["completion_tokens"]
    billed = ((prompt - cached) * 1.0 + cached * 0.1 + completion * 2.0) / 1e6
    assert patch_call["cost_usd"] == pytest.approx(billed)
    assert result.cached_tokens == cached
    assert result.cache_saving_usd == pytest.approx(cached * 0.9 / 1e6)
    assert result.cost_usd == pytest.approx(tests_call["cost_usd"] + billed)


def unset_tests(settings):
    """The tiers' ``tests`` left to the plan, as a user who never set them has them."""
    return replace(
        settings,
        weak=replace(settings.weak, tests=None),
        strong=replace(settings.strong, tests=None),
    )


def test_the_strong_tier_writes_no_tests_when_the_weak_ones_judge(project: Path) -> None:
    """Weak's tests fail on the base and judge every candidate: strong's turn is one patch
    request (its tests call would repeat, at strong's price, what already judges)."""
    model = FakeModel(ANSWERS)
    result = fix(project, model, settings=unset_tests(fake_settings()))
    assert result.verdict == VERDICT_FIXED and result.winner.tier == "strong"
    assert model.asked() == [("weak", "tests"), ("weak", "patch"), ("strong", "patch")]
    assert [g.tier for g in result.generated_tests] == ["weak"]
    # the strong tier is still shown the tests its patch must pass
    assert "def test_add_sums" in model.calls[-1].prompt


def test_the_strong_tier_writes_tests_when_none_of_the_weak_ones_survive(project: Path) -> None:
    useless = "tests/test_x.py\n```python\ndef test_nothing():\n    assert True\n```\n"
    model = FakeModel({**ANSWERS, "weak:tests": useless, "strong:tests": GOOD_TEST})
    result = fix(project, model, settings=unset_tests(fake_settings()))
    assert result.verdict == VERDICT_FIXED and result.winner.tier == "strong"
    assert ("strong", "tests") in model.asked()
    assert [g.tier for g in result.generated_tests if g.kept_ids] == ["strong"]
