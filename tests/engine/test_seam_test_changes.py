"""Who may change an existing test, through the seam (in-process): the rules of
``test_changes`` and of the ``TEST CHANGE`` line. The real pytest run of such a fix, its
report and its commit trailers are in ``test_testenv.py``."""

from __future__ import annotations

from pathlib import Path

from engine.seam import fix
from engine.test_testenv import DECLARED, GREET_REPRO, GREET_TASK, UNDECLARED, greet_project
from swcollab.models.fake import FakeModel


def test_no_tier_may_change_tests_with_test_changes_none(project: Path) -> None:
    greet_project(project)
    model = FakeModel({"tests": GREET_REPRO, "patch": DECLARED})
    result = fix(project, model, task=GREET_TASK, test_changes="none")
    assert result.verdict == "not_fixed" and result.branch is None
    assert result.attempts and all(
        'test_changes = "none"' in a.reverted_tests[0] for a in result.attempts
    )


def test_any_tier_with_test_changes_all(project: Path) -> None:
    greet_project(project)
    model = FakeModel({"tests": GREET_REPRO, "patch": DECLARED})
    result = fix(project, model, task=GREET_TASK, test_changes="all")
    assert result.verdict == "fixed"
    assert result.winner is not None and result.winner.tier == "weak"
    assert [c.tier for c in result.winner.test_changes] == ["weak"]
    assert all(tier == "weak" for tier, _ in model.asked())


def test_an_undeclared_test_change_is_reverted(project: Path) -> None:
    greet_project(project)
    model = FakeModel({"tests": GREET_REPRO, "patch": UNDECLARED})
    result = fix(project, model, task=GREET_TASK)
    assert result.verdict == "not_fixed"
    assert all("only with a TEST CHANGE line" in a.reverted_tests[0] for a in result.attempts)
    failed = {o.test_id for a in result.attempts for o in a.outcomes if o.status != "passed"}
    assert "tests/test_greet.py::test_greet" in failed
