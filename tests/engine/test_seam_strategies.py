"""Every strategy's path through the seam (in-process): judge, faq, plan, route,
strong-first, best-of-n, a middle tier, the budget."""

from __future__ import annotations

import subprocess
from pathlib import Path

from engine.conftest import GOOD_PATCH, GOOD_TEST, PASSING_TEST, WRONG_PATCH
from engine.seam import fix
from swcollab.engine import VERDICT_BUDGET, VERDICT_FIXED, VERDICT_UNVERIFIED
from swcollab.models.fake import FakeModel

FAQ = "Q: where is add? A: calc/ops.py, FAQ-MARK"
PLAN = "Step 1: turn the minus into a plus, PLAN-MARK"


def show(root: Path, ref: str) -> str:
    return subprocess.run(
        ["git", "show", ref], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def patch_prompts(model: FakeModel, tier: str) -> list[str]:
    return [c.prompt for c in model.calls if c.tier == tier and c.purpose == "patch"]


def test_no_test_can_judge_the_most_common_change_wins_unverified(project: Path) -> None:
    model = FakeModel(
        {"tests": PASSING_TEST, "weak:patch": GOOD_PATCH, "strong:patch": WRONG_PATCH}
    )
    result = fix(project, model)
    assert result.verdict == VERDICT_UNVERIFIED
    # each tier tried twice (one retry); strong's were borrowed: weak's all passed on base
    assert model.count("weak", "tests") == model.count("strong", "tests") == 2
    assert result.winner is not None and result.winner.tier == "weak"
    assert any("self-consistency: 2 of 3" in n for n in result.notes)
    assert result.branch is not None and result.branch.endswith("-unverified")
    assert "return a + b" in show(project, f"{result.branch}:calc/ops.py")
    assert {d.reason for d in result.discarded_tests} == {
        "passes on the unpatched code, so it proves nothing"
    }


def test_the_strong_judge_picks_when_asked(project: Path) -> None:
    model = FakeModel(
        {
            "tests": PASSING_TEST,
            "weak:patch": GOOD_PATCH,
            "strong:patch": WRONG_PATCH,
            "judge": '{"choice": 3, "reason": "the strong one"}',
        }
    )
    result = fix(project, model, judge="strong")
    assert result.verdict == VERDICT_UNVERIFIED
    assert model.count("strong", "judge") == 1
    assert result.winner is not None and result.winner.tier == "strong"
    judge_prompt = model.calls[-1].prompt
    assert "return a * b" in judge_prompt and "return a + b" in judge_prompt


def test_faq_is_shown_to_the_weak_tier_only(project: Path) -> None:
    model = FakeModel(
        {"tests": GOOD_TEST, "faq": FAQ, "weak:patch": WRONG_PATCH, "strong:patch": GOOD_PATCH}
    )
    result = fix(project, model, strategy="faq")
    assert result.verdict == VERDICT_FIXED
    assert model.asked()[0] == ("strong", "faq")
    assert all("Questions and answers:\n" + FAQ in p for p in patch_prompts(model, "weak"))
    assert not any("FAQ-MARK" in p for p in patch_prompts(model, "strong"))
    assert any(n.startswith("faq by the strong model") for n in result.notes)


def test_plan_guides_the_weak_tier_but_not_a_middle_one(project: Path) -> None:
    model = FakeModel(
        {
            "tests": GOOD_TEST,
            "plan": PLAN,
            "weak:patch": WRONG_PATCH,
            "mid:patch": WRONG_PATCH,
            "strong:patch": GOOD_PATCH,
        }
    )
    result = fix(project, model, strategy="plan", tier_order="weak,mid,strong")
    assert result.verdict == VERDICT_FIXED
    assert [p.tier for p in result.plan] == ["weak", "mid", "strong"]
    views = {p.tier: p.view for p in result.plan}
    assert views["weak"].guidance and not views["mid"].guidance
    assert views["mid"].brief and views["mid"].previous and not views["strong"].brief
    assert all("Plan from a senior engineer:\n" + PLAN in p for p in patch_prompts(model, "weak"))
    [mid_prompt] = patch_prompts(model, "mid")
    assert "PLAN-MARK" not in mid_prompt and "An earlier attempt" in mid_prompt
    assert result.winner is not None and result.winner.tier == "strong"


def test_the_router_sends_a_hard_task_to_strong(project: Path) -> None:
    model = FakeModel(
        {"tests": GOOD_TEST, "patch": GOOD_PATCH, "route": '{"tier": "strong", "reason": "hard"}'}
    )
    result = fix(project, model, strategy="route")
    assert model.asked() == [("weak", "route"), ("strong", "tests"), ("strong", "patch")]
    assert result.route == "strong" and result.winner is not None
    assert result.winner.tier == "strong"


def test_an_unusable_route_falls_back_to_the_cascade(project: Path) -> None:
    model = FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH, "route": "strong, I think"})
    result = fix(project, model, strategy="route")
    assert result.route == "fallback"
    assert result.winner is not None and result.winner.tier == "weak"
    assert any("router answer unusable" in n for n in result.notes)


def test_strong_first_drafts_with_strong_and_only_strong_writes_tests(project: Path) -> None:
    model = FakeModel({"tests": GOOD_TEST, "strong:patch": WRONG_PATCH, "weak:patch": GOOD_PATCH})
    result = fix(project, model, strategy="strong-first")
    assert model.asked()[:2] == [("strong", "tests"), ("strong", "patch")]
    assert model.count("weak", "tests") == 0
    assert result.winner is not None and result.winner.tier == "weak"
    assert "return a * b" in patch_prompts(model, "weak")[0]  # strong's attempt, shown


def test_best_of_n_drafts_every_candidate_and_strong_picks(project: Path) -> None:
    model = FakeModel(
        {"tests": GOOD_TEST, "patch": GOOD_PATCH, "pick": '{"choice": 2, "reason": "cleaner"}'}
    )
    result = fix(project, model, strategy="best-of-n")
    # the two candidates are two samples of one request
    assert model.asked() == [("weak", "tests"), ("weak", "patch"), ("strong", "pick")]
    assert model.calls[1].samples == 2
    assert result.verdict == VERDICT_FIXED
    assert result.winner is not None and result.winner.index == 2
    assert any(
        "best of 2: 2 candidate(s) passed the tests; candidate 2 chosen" in n for n in result.notes
    )
    assert "return a + b" in show(project, f"{result.branch}:calc/ops.py")


def test_best_of_n_with_one_passing_candidate_needs_no_pick(project: Path) -> None:
    model = FakeModel({"tests": GOOD_TEST, "patch": [WRONG_PATCH, GOOD_PATCH]})
    result = fix(project, model, strategy="best-of-n")
    assert model.count("strong") == 0
    assert result.winner is not None and result.winner.index == 2


def test_a_budget_too_small_for_a_call_ends_the_run_with_what_it_has(project: Path) -> None:
    model = FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH})
    result = fix(project, model, budget=0.000001)
    assert result.verdict == VERDICT_BUDGET
    assert model.calls == []  # refused before it was made
    assert result.branch is None and result.error


OTHER_GOOD_PATCH = """calc/ops.py
```python
<<<<<<< SEARCH
    return a - b
=======
    return b + a
>>>>>>> REPLACE
```
"""


def test_weak_tests_useless_strong_writes_the_tests_that_judge(project: Path) -> None:
    model = FakeModel({"weak:tests": PASSING_TEST, "strong:tests": GOOD_TEST, "patch": GOOD_PATCH})
    result = fix(project, model)
    assert result.verdict == VERDICT_FIXED
    assert model.count("strong", "tests") == 1 and model.count("strong", "patch") == 0
    assert result.winner is not None and result.winner.tier == "weak"
    assert {g.tier for g in result.generated_tests} == {"strong"}
    assert any("strong tier wrote tests" in n for n in result.notes)


def test_no_test_at_all_the_commit_says_unverified(project: Path) -> None:
    result = fix(project, FakeModel({"tests": PASSING_TEST, "patch": GOOD_PATCH}))
    assert result.verdict == VERDICT_UNVERIFIED and result.branch is not None
    subject = subprocess.run(
        ["git", "log", "-1", "--format=%s", result.branch],
        cwd=project,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert subject.startswith("Unverified fix")


def test_single_tier_strategies_never_call_the_other_tier(project: Path) -> None:
    for strategy, other in (("weak", "strong"), ("strong", "weak")):
        model = FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH})
        result = fix(project, model, strategy=strategy, branch_prefix=f"{strategy}/")
        assert model.count(other) == 0
        assert result.winner is not None and result.winner.tier == strategy


def test_three_tiers_continue_through_the_middle(project: Path) -> None:
    model = FakeModel(
        {
            "tests": GOOD_TEST,
            "weak:patch": WRONG_PATCH,
            "mid:patch": WRONG_PATCH,
            "strong:patch": GOOD_PATCH,
        }
    )
    result = fix(project, model, tier_order="weak,mid,strong")
    assert [a.tier for a in result.attempts] == ["weak", "weak", "mid", "strong"]
    assert "return a * b" in patch_prompts(model, "mid")[0]  # what the weak tier tried
    assert result.winner is not None and result.winner.tier == "strong"


def test_best_of_n_picks_among_the_passing_only(project: Path) -> None:
    from dataclasses import replace

    from engine.seam import fake_settings

    settings = fake_settings(strategy="best-of-n")
    settings = replace(settings, weak=replace(settings.weak, candidates=3))
    model = FakeModel(
        {
            "tests": GOOD_TEST,
            "patch": [GOOD_PATCH, WRONG_PATCH, OTHER_GOOD_PATCH],
            "pick": '{"choice": 2, "reason": "the second reads better"}',
        }
    )
    result = fix(project, model, settings=settings)
    # no early stop at the first passing one: three samples of one request
    assert [c.samples for c in model.calls if c.purpose == "patch"] == [3]
    pick = model.calls[-1]
    assert (pick.tier, pick.purpose) == ("strong", "pick")
    assert "+    return b + a" in pick.prompt and "+    return a * b" not in pick.prompt
    assert result.winner is not None and result.winner.index == 3  # choice 2 of those 2
    assert "return b + a" in show(project, f"{result.branch}:calc/ops.py")
    assert any("best of 3: 2 candidate(s) passed the tests" in n for n in result.notes)


def test_best_of_n_none_passing_is_not_fixed_and_strong_never_drafts(project: Path) -> None:
    model = FakeModel({"tests": GOOD_TEST, "patch": WRONG_PATCH})
    result = fix(project, model, strategy="best-of-n")
    assert result.verdict == "not_fixed" and result.branch is None
    assert model.count("strong") == 0


def test_best_of_n_without_a_judging_test_strong_picks_unverified(project: Path) -> None:
    model = FakeModel(
        {
            "tests": PASSING_TEST,
            "patch": [WRONG_PATCH, GOOD_PATCH],
            "judge": '{"choice": 2, "reason": "adds"}',
        }
    )
    result = fix(project, model, strategy="best-of-n")
    assert result.verdict == VERDICT_UNVERIFIED and result.branch is not None
    assert result.branch.endswith("-unverified")
    assert model.count("strong", "judge") == 1 and model.count("strong", "tests") == 0
    assert "return a + b" in show(project, f"{result.branch}:calc/ops.py")
