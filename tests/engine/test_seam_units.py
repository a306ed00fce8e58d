"""The engine's pure parts, in-process: tier planning and views, base-run classification,
test trimming, answer parsing, the consistency pick, diff normalisation, small-model
trimming, the result as JSON and markdown, and the fake model itself."""

from __future__ import annotations

import pytest

from swcollab.config import Settings, TierSettings
from swcollab.ecosystems.go import GO
from swcollab.ecosystems.python import PYTHON
from swcollab.engine.attempts import tier_context
from swcollab.engine.context import trim_for_small_model
from swcollab.engine.guidance import parse_json_object
from swcollab.engine.picking import normalise_diff, pick_by_consistency
from swcollab.engine.testsuite import (
    REASON_BROKEN,
    REASON_PASSES,
    REASON_SKIPPED,
    classify_base_run,
    parse_test_answer,
)
from swcollab.engine.tiers import CallCost, plan_tiers, walk_for
from swcollab.engine.types import (
    Attempt,
    Context,
    ContextFile,
    GeneratedTest,
    RunResult,
    TestOutcome,
    TierView,
)
from swcollab.models.fake import FakeModel, NoAnswer
from swcollab.models.types import ModelSpec
from swcollab.sandbox import TestCommand, TestResult, TestRun
from swcollab.task import task_from_prompt

PYTEST = TestCommand(("python", "-m", "pytest"), "flag")


def settings(budget: float = 1.0, **tiers: TierSettings) -> Settings:
    weak = tiers.get("weak", TierSettings("weak", model="openai/w"))
    strong = tiers.get("strong", TierSettings("strong", model="openai/s"))
    return Settings(weak=weak, strong=strong, budget=budget)


def plan(
    strategy: str,
    budget: float = 1.0,
    prices: tuple[float, float] = (1e-6, 2e-6),
    small: bool = False,
):
    s = settings(budget)

    def cost(price: tuple[float, float]) -> CallCost:  # a 20,000-token prompt, 4,096 out
        return CallCost(price[0] * 60_000 + price[1] * 4096, price[0] * 20_000 + price[1] * 4096)

    return plan_tiers(
        s,
        strategy,
        models={"weak": "w", "strong": "s"},
        costs={"weak": cost(prices), "strong": cost((1e-5, 4e-5))},
        small={"weak": small, "strong": False},
    )


def test_the_budget_buys_weak_candidates_after_strong_s_share() -> None:
    rich, poor = plan("cascade", budget=10.0), plan("cascade", budget=1.0)
    assert [p.tier for p in rich] == ["weak", "strong"]
    assert rich[0].candidates == 4 and rich[1].candidates == 1  # the cap, strong's default
    assert poor[0].candidates == 1  # at least one, whatever is left
    assert plan("strong")[0].candidates == 2
    assert plan("best-of-n", budget=0.01)[0].candidates >= 2  # one leaves nothing to pick


def test_each_tier_s_view_is_stated_in_its_plan() -> None:
    weak, strong = plan("plan", small=True)
    assert weak.view == TierView(
        brief=True, examples=True, guidance=True, previous=False, trimmed=True
    )
    assert weak.edit_format == "whole"  # a tiny model rewrites whole definitions
    assert strong.view == TierView(brief=False, examples=False, guidance=False, previous=True)
    first, second = plan("strong-first")
    assert (first.tier, first.view.previous, second.view.previous) == ("strong", False, True)
    assert walk_for("route").route and walk_for("faq").guidance == "faq"


def test_a_tier_s_context_follows_its_view() -> None:
    files = tuple(ContextFile(f"f{i}.py", "python", f"x = {i}\n") for i in range(3))
    context = Context(
        "MAP", files, ("f0.py",), brief="BRIEF", examples=({"a": "b"},), small_files=(files[2],)
    )
    assert tier_context(context, TierView()) == context
    strong = tier_context(context, TierView(brief=False, examples=False))
    assert (strong.brief, strong.examples, strong.files) == ("", (), files)
    tiny = tier_context(context, TierView(trimmed=True))
    assert tiny.files == (files[2],) and tiny.repo_map == "" and tiny.brief == "BRIEF"
    assert trim_for_small_model(Context("M", files, ())).files == (files[0],)


def run_of(*results: TestResult, exit_code: int = 1, output: str = "") -> TestRun:
    return TestRun(exit_code, False, output, 0.1, results, PYTEST.argv)


def test_base_run_classification_keeps_only_tests_that_fail_for_the_bug() -> None:
    path = "tests/test_x.py"
    run = run_of(
        TestResult(f"{path}::test_bug", "failed", "AssertionError: 1 != 5", path),
        TestResult(f"{path}::test_ok", "passed", "", path),
        TestResult(f"{path}::test_skip", "skipped", "", path),
        TestResult(f"{path}::test_typo", "failed", "NameError: name 'ad' is not defined", path),
        TestResult(f"{path}::test_new", "failed", "ImportError: cannot import name 'clamp'", path),
        # the project's own exception whose name ends like Python's: the bug, not the test
        TestResult(
            f"{path}::test_tpl",
            "failed",
            "jinja2.exceptions.TemplateSyntaxError: expected token '='",
            path,
        ),
    )
    kept, discarded = classify_base_run(run, path, "add clamp() to calc", PYTEST)
    assert kept == [f"{path}::test_bug", f"{path}::test_new", f"{path}::test_tpl"]
    assert discarded == [
        (f"{path}::test_ok", REASON_PASSES),
        (f"{path}::test_skip", REASON_SKIPPED),
        (f"{path}::test_typo", REASON_BROKEN),
    ]
    broken = run_of(TestResult(path, "error", "SyntaxError: invalid syntax", path))
    assert classify_base_run(broken, path, "", PYTEST) == ([], [(path, REASON_BROKEN)])
    none = classify_base_run(run_of(exit_code=5), path, "", PYTEST)
    assert none[0] == [] and "yielded no per-test result" in none[1][0][1]


def test_discarded_test_functions_are_cut_from_the_kept_file() -> None:
    text = (
        "import pytest\n\n\ndef helper():\n    return 1\n\n\n@pytest.mark.x\n"
        "def test_gone():\n    assert 0\n\n\ndef test_kept():\n    assert helper()\n"
    )
    out = PYTHON.keep_only(text, "tests/test_k.py", ["tests/test_k.py::test_kept"])
    assert "test_gone" not in out and "@pytest.mark.x" not in out
    assert "def helper" in out and "def test_kept" in out
    assert PYTHON.keep_only("not python (", "t.py", []) == "not python ("
    assert GO.keep_only(text, "t.go", []) == text


def test_answers_are_parsed_from_fences_or_raw_code() -> None:
    assert (
        parse_test_answer("text\n```python\nshort\n```\n```\nlonger code\n```") == "longer code\n"
    )
    assert parse_test_answer("def test_a():\n    assert 1") == "def test_a():\n    assert 1\n"
    assert parse_test_answer("I cannot write a test for this.") is None
    assert parse_json_object('sure: {"tier": "weak"} and {"x": 1}') == {"tier": "weak"}
    assert parse_json_object("{not json} [1]") is None


def attempt(index: int, diff: str) -> Attempt:
    return Attempt("weak", index, "w", True, "", diff, (), False, "")


def test_consistency_votes_on_the_change_not_its_spacing_or_comments() -> None:
    a = "--- a/x.py\n+++ b/x.py\n-    return a - b\n+    return a + b\n"
    b = "--- a/x.py\n+++ b/x.py\n-    return a - b\n+    return a+b  # fixed\n"
    c = "--- a/x.py\n+++ b/x.py\n-    return a - b\n+    return b + a\n"
    assert normalise_diff(a) == normalise_diff(b) == "-returna-b\n+returna+b"
    chosen, why = pick_by_consistency([attempt(1, c), attempt(2, a), attempt(3, b)])
    assert chosen.index == 2 and "2 of 3" in why
    tie, _ = pick_by_consistency([attempt(1, c), attempt(2, a)])
    assert tie.index == 1  # earliest on a tie


def test_the_result_as_json_and_markdown() -> None:
    from swcollab.report import render_markdown, result_as_json

    winner = Attempt(
        "strong",
        1,
        "s",
        True,
        "",
        "+fix\n",
        (TestOutcome("t.py::test_a", "repro", "passed", True),),
        True,
        "",
    )
    result = RunResult(
        "run1",
        "fixed",
        task_from_prompt("Fix the sum"),
        "cascade",
        "a" * 40,
        plan=plan("cascade"),
        attempts=[winner],
        winner=winner,
        generated_tests=[GeneratedTest("t.py", "", "python", "weak", ("t.py::test_a",))],
        branch="swc/fix-the-sum",
        cost_usd=0.0123,
        calls=3,
    )
    doc = result_as_json(result)
    assert doc["verdict"] == "fixed" and doc["branch"] == "swc/fix-the-sum"
    assert doc["plan"][0]["view"]["brief"] is True
    markdown = render_markdown(result)
    assert "swc/fix-the-sum" in markdown and "strong" in markdown and "$0.0123" in markdown


def spec(tier: str) -> ModelSpec:
    return ModelSpec(tier, f"openai/{tier}", None, None, 0.7, 100, None, None, 10.0, 0)


def test_the_fake_model_answers_by_purpose_and_tier_in_order() -> None:
    model = FakeModel({"patch": ["one", "two"], "strong:patch": "S", "route": "R"})
    asks = [
        ("weak", "patch"),
        ("weak", "patch-retry"),
        ("weak", "patch"),
        ("strong", "patch"),
        ("mid", "route"),
    ]
    texts = [
        model.complete(
            spec(t),
            [{"role": "user", "content": "a b c"}],
            purpose=p,
            temperature=0.0,
            max_tokens=100,
        ).text
        for t, p in asks
    ]
    assert texts == ["one", "two", "two", "S", "R"]  # the last answer repeats
    assert model.calls[0].prompt == "a b c" and model.count("weak") == 3
    reply = model.complete(
        spec("weak"), [{"content": "x"}], purpose="patch", temperature=0.0, max_tokens=100
    )
    assert (reply.prompt_tokens, reply.completion_tokens) == (1, 1)
    with pytest.raises(NoAnswer, match="weak:judge"):
        model.answer("weak", "judge")
    with pytest.raises(ValueError, match="unknown purpose"):
        FakeModel({"patches": "x"})
