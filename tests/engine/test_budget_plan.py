"""The plan promises the calls the budget then accepts.

Before a run, the planner decides how many candidates each tier gets within the budget;
during the run, the budget holds each call's worst case before it is made. A plan that
costed a call at our token count (1x) while the budget holds 3x (or the prompt's bytes)
listed weak candidates whose calls left the strong tier's last call no room: the budget
refused it. Both now cost a call by one rule (``models.plan_costs.call_costs``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from swcollab.config import Settings
from swcollab.engine.tiers import CALLS_PER_CANDIDATE, TEST_CALLS_PER_TIER
from swcollab.models import Ledger
from swcollab.models.fake import FakeModel
from swcollab.models.types import Completion, ModelSpec
from tests.engine.conftest import MALFORMED_PATCH
from tests.engine.seam import TASK, fake_settings, fix

# Every answer fails, so a run makes every call its plan counts: tests that hold no test
# (asked again once), patches whose edit does not apply (asked again once).
MAX_TOKENS = 300
MAP_TOKENS = 256
CODE_TOKENS = 512
# An issue with a long log: the prompt outgrows the plan's old fixed allowance for it.
TASK = TASK + "\n\nWhat the job printed:\n" + "add(2, 3) == -1, expected 5\n" * 250
# Replies of about ``MAX_TOKENS`` tokens, as billed: what later prompts carry is that long.
PADDING = "\nWhy: " + "because " * (MAX_TOKENS - 60)
NOTHING_WORKS = {"tests": "I cannot write a test." + PADDING, "patch": MALFORMED_PATCH + PADDING}


class BillsInFull(FakeModel):
    """A provider that counts the prompt as swc does and bills every reply at
    ``max_tokens``: each call costs what the plan counts it to."""

    def complete(
        self,
        spec: ModelSpec,
        messages: list[dict],
        *,
        purpose: str,
        temperature: float,
        max_tokens: int,
        samples: int = 1,
    ) -> Completion:
        got = super().complete(
            spec,
            messages,
            purpose=purpose,
            temperature=temperature,
            max_tokens=max_tokens,
            samples=samples,
        )
        return replace(got, prompt_tokens=None, completion_tokens=max_tokens * len(got.texts))


def small_run(budget: float) -> Settings:
    """Short replies and a long task, so the prompt, where the plan's old 1x and the
    budget's 3x differ, is most of a call's cost; the weak tier's candidates planned."""
    settings = fake_settings(budget=budget, map_tokens=MAP_TOKENS, context_tokens=CODE_TOKENS)
    return replace(
        settings,
        weak=replace(settings.weak, candidates=None, max_tokens=MAX_TOKENS),
        strong=replace(settings.strong, max_tokens=MAX_TOKENS),
    )


def promised_calls(result) -> int:
    return sum(TEST_CALLS_PER_TIER + CALLS_PER_CANDIDATE * p.candidates for p in result.plan)


def refused(project: Path, run_id: str) -> int:
    return sum(
        c["outcome"] == "refused" for c in Ledger.open(project / ".git" / "swc").calls(run_id)
    )


def test_the_plan_promises_the_calls_the_budget_accepts(project: Path) -> None:
    """From a budget that holds only the smallest plan to one that holds the most weak
    candidates: every call the plan counts is made, none refused; where even the smallest
    plan does not fit, the run says so and names a budget that holds it, and that one does."""
    candidates = set()
    for mils in range(200, 450, 25):
        budget = mils / 1000
        model = BillsInFull(NOTHING_WORKS)
        result = fix(project, model, task=TASK, settings=small_run(budget))
        short = [w for w in result.warnings if w.startswith("the plan's calls need up to")]
        if short:
            assert result.plan[0].candidates == 1, (budget, result.plan)
            enough = float(short[0].rpartition("--budget ")[2].split()[0])
            model = BillsInFull(NOTHING_WORKS)
            result = fix(project, model, task=TASK, settings=small_run(enough))
            assert not [w for w in result.warnings if w.startswith("the plan's calls")]
        candidates.add(result.plan[0].candidates)
        assert result.verdict == "not_fixed", (budget, result.verdict, result.plan)
        assert refused(project, result.run_id) == 0
        # every answer the plan counts is given (a tier's drafts come as samples of one call)
        answers = sum(c.samples for c in model.calls)
        assert answers == promised_calls(result), (budget, model.asked())
        assert model.asked()[-1] == ("strong", "patch-retry")  # the strong tier had its turn
    # the range covers the weak tier bought with what is left, not only its floor and cap
    assert {1, 4} < candidates, candidates
