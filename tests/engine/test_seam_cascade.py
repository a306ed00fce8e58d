"""The cascade through the seam (in-process): which tier drafts, what each is shown,
what the run decides and leaves on a branch."""

from __future__ import annotations

import subprocess
from pathlib import Path

from engine.conftest import (
    GOOD_PATCH,
    GOOD_TEST,
    MALFORMED_PATCH,
    PASSING_TEST,
    WRONG_PATCH,
)
from engine.seam import fix
from swcollab.engine import VERDICT_FIXED
from swcollab.models.fake import FakeModel


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def test_weak_fixes_it_and_the_branch_holds_the_fix_and_its_test(project: Path) -> None:
    model = FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH})
    result = fix(project, model)
    assert result.verdict == VERDICT_FIXED
    assert result.winner is not None and result.winner.tier == "weak"
    assert model.asked() == [("weak", "tests"), ("weak", "patch")]
    assert result.branch is not None
    assert "return a + b" in git(project, "show", f"{result.branch}:calc/ops.py")
    files = git(project, "show", "--name-only", "--format=", result.branch).split()
    assert "tests/test_swc_add_2_3_returns_1_instead_of_5_the_sum_weak.py" in files
    assert "return a - b" in (project / "calc" / "ops.py").read_text()  # checkout untouched
    assert result.calls == 2 and result.calls_by_tier == {"weak": 2}
    assert result.cost_usd > 0


def test_weak_fails_and_strong_sees_what_weak_tried(project: Path) -> None:
    model = FakeModel({"tests": GOOD_TEST, "weak:patch": WRONG_PATCH, "strong:patch": GOOD_PATCH})
    result = fix(project, model)
    assert result.verdict == VERDICT_FIXED
    assert result.winner is not None and result.winner.tier == "strong"
    # weak's two candidates are two samples of one request: its prompt is paid once
    assert model.asked() == [
        ("weak", "tests"),
        ("weak", "patch"),
        ("strong", "tests"),
        ("strong", "patch"),
    ]
    assert [c.samples for c in model.calls] == [1, 2, 1, 1]
    assert [g.tier for g in result.generated_tests] == ["weak", "strong"]
    strong_prompt = model.calls[-1].prompt
    assert "return a * b" in strong_prompt  # the previous attempt's diff
    assert "An earlier attempt" in strong_prompt
    assert [a.accepted for a in result.attempts] == [False, False, True]
    assert "return a + b" in git(project, "show", f"{result.branch}:calc/ops.py")


def test_a_malformed_edit_is_asked_again_with_the_next_answer(project: Path) -> None:
    model = FakeModel({"tests": GOOD_TEST, "patch": [MALFORMED_PATCH, GOOD_PATCH]})
    result = fix(project, model)
    assert result.verdict == VERDICT_FIXED
    assert model.asked() == [("weak", "tests"), ("weak", "patch"), ("weak", "patch-retry")]
    retry = model.calls[-1].prompt
    assert "return a minus b" in retry  # its own failed answer, and why it failed


def test_nothing_passes_leaves_no_branch_unless_asked(project: Path) -> None:
    model = FakeModel({"tests": GOOD_TEST, "patch": WRONG_PATCH})
    result = fix(project, model)
    assert result.verdict == "not_fixed" and result.branch is None and result.winner is None
    assert len(result.attempts) == 3
    assert git(project, "branch", "--list", "swc/*") == ""

    kept = fix(project, FakeModel({"tests": GOOD_TEST, "patch": WRONG_PATCH}), keep_failed=True)
    assert kept.branch is not None and kept.branch.endswith("-unverified")
    assert "return a * b" in git(project, "show", f"{kept.branch}:calc/ops.py")


def test_the_result_owns_its_tests_and_the_report_says_what_happened(project: Path) -> None:
    from swcollab.report import render_markdown, result_as_json

    result = fix(project, FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH}))
    [generated] = result.generated_tests
    assert generated.kept_ids == (
        "tests/test_swc_add_2_3_returns_1_instead_of_5_the_sum_weak.py::test_add_sums",
    )
    assert result.existing_tests == ("tests/test_ops.py",)
    doc = result_as_json(result)
    assert doc["verdict"] == "fixed" and doc["branch"] == result.branch
    assert [p["tier"] for p in doc["plan"]] == ["weak", "strong"]
    assert doc["plan"][1]["view"] == {
        "brief": False,
        "examples": False,
        "guidance": False,
        "previous": True,
        "trimmed": False,
        "context_tokens": 16000,
        "context_why": "the strong tier's default",
    }
    markdown = render_markdown(result)
    assert "calc/ops.py" in markdown and result.branch in markdown


def test_a_generated_test_passing_on_the_base_is_discarded_and_asked_again(
    project: Path,
) -> None:
    model = FakeModel({"tests": [PASSING_TEST, GOOD_TEST], "patch": GOOD_PATCH})
    result = fix(project, model)
    assert result.verdict == VERDICT_FIXED
    assert model.count("weak", "tests") == 2
    assert "passes on the unpatched code" in model.calls[1].prompt  # why, in the retry
    assert [d.reason for d in result.discarded_tests] == [
        "passes on the unpatched code, so it proves nothing"
    ]
    kept = [k for g in result.generated_tests for k in g.kept_ids]
    assert kept and all(k.endswith("::test_add_sums") for k in kept)
