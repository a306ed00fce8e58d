"""How much code each tier is shown: the weak tier more by default (its calls are cheap),
only where its model's window is known to take it; a tier's own ``context_tokens`` and
the global one as the user sets them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.bigrepo import make_big_repo
from engine.seam import fake_settings, fix
from swcollab.cli import cli
from swcollab.config import (
    DEFAULT_CONTEXT_TOKENS,
    WEAK_CONTEXT_TOKENS,
    Settings,
    TierSettings,
    load_settings,
)
from swcollab.engine.context import tier_budgets
from swcollab.models.fake import FakeModel
from tests.fakes.model_config import configure_fake_tiers

TASK = "Invoice.apply_discount takes the discount off twice: a 10% discount on 100 gives 81"
TIERS = ("weak", "strong")


def test_the_weak_tier_is_shown_more_where_its_window_takes_it() -> None:
    settings = Settings()
    assert tier_budgets(settings, TIERS, {"weak": 128_000, "strong": 128_000}) == {
        "weak": WEAK_CONTEXT_TOKENS,
        "strong": DEFAULT_CONTEXT_TOKENS,
    }
    # unknown window (a local server, a model litellm does not list), or too small
    for window in (None, 32_000, WEAK_CONTEXT_TOKENS):
        assert tier_budgets(settings, TIERS, {"weak": window})["weak"] == DEFAULT_CONTEXT_TOKENS


def test_what_the_user_sets_wins_over_the_defaults(tmp_path: Path) -> None:
    (tmp_path / ".swc.toml").write_text("context_tokens = 8000\n")
    chosen = load_settings(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})
    assert tier_budgets(chosen, TIERS, {"weak": 128_000}) == {"weak": 8000, "strong": 8000}
    # the default value written out is still the user's choice
    (tmp_path / ".swc.toml").write_text(f"context_tokens = {DEFAULT_CONTEXT_TOKENS}\n")
    same = load_settings(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})
    assert same.context_tokens_for("weak") == DEFAULT_CONTEXT_TOKENS
    # a tier's own value is taken as given, window known or not
    own = Settings(weak=TierSettings("weak", context_tokens=3000))
    assert tier_budgets(own, TIERS, {"weak": None}) == {"weak": 3000, "strong": 16_000}


def test_the_plan_says_what_each_tier_is_shown_and_prices_it(project: Path) -> None:
    """A weak model litellm lists (window 128,000) at a tenth of the strong tier's price is
    shown what a fifth of a strong prompt buys (35,500 tokens of code, below the 64,000
    its window would take); the strong tier, unlisted, the run's 16,000. An unlisted weak
    model (window unknown) keeps 16,000."""
    listed = TierSettings(
        "weak",
        model="openai/gpt-4o-mini",
        api_base="http://127.0.0.1:9/v1",
        input_cost_per_mtok=1.0,
        output_cost_per_mtok=2.0,
        candidates=1,
        tests=1,
    )
    answers = {"tests": "def test_nothing():\n    pass\n", "patch": "no change"}
    wide = fix(project, FakeModel(answers), settings=fake_settings(weak=listed))
    narrow = fix(project, FakeModel(answers))
    [weak, strong] = wide.plan
    assert (weak.view.context_tokens, strong.view.context_tokens) == (35_500, 16_000)
    assert "0.20 of the strong tier's" in weak.view.context_why
    assert narrow.plan[0].view.context_tokens == 16_000
    assert weak.worst_case_call_usd > narrow.plan[0].worst_case_call_usd


@pytest.fixture
def big(tmp_path: Path, fake_llm, monkeypatch) -> Path:
    configure_fake_tiers(monkeypatch, tmp_path / "xdg", fake_llm.base_url, weak_candidates=1)
    return make_big_repo(tmp_path / "repo")


def shown(repo: Path, *args: str, env: dict[str, str]) -> dict:
    result = CliRunner().invoke(
        cli, ["--repo", str(repo), "context", "--prompt", TASK, "--json", *args], env=env
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_swc_context_shows_each_tier_its_own_budget(big: Path, fake_llm) -> None:
    """The 32,000-token file to change: whole for a weak tier given 40,000 tokens, its
    best spans for the strong tier's 400."""
    env = {"SWC_CONTEXT_TOKENS": "400", "SWC_WEAK_CONTEXT_TOKENS": "40000"}
    weak = shown(big, env=env)
    strong = shown(big, "--tier", "strong", env=env)
    [weak_file] = [f for f in weak["files"] if f["path"] == "billing/invoice.py"]
    [strong_file] = [f for f in strong["files"] if f["path"] == "billing/invoice.py"]
    assert weak_file["whole"] and weak_file["tokens"] > 30_000
    assert not strong_file["whole"] and sum(f["tokens"] for f in strong["files"]) <= 400
    assert weak["tokens"] > 30_000 > strong["tokens"]
    assert (weak["code_budget"], strong["code_budget"]) == (40_000, 400)
    assert fake_llm.requests == []


def test_a_later_layer_s_global_budget_beats_a_tier_s_own(tmp_path: Path) -> None:
    """``--context-tokens`` (a flag) wins over ``weak.context_tokens`` in a file, as flags
    win over files; a tier's own value set at the same or a later layer wins."""
    (tmp_path / ".swc.toml").write_text("[weak]\ncontext_tokens = 40000\n")
    quiet = {"XDG_CONFIG_HOME": str(tmp_path / "none")}
    flagged = load_settings(tmp_path, environ=quiet, flags={"context_tokens": 8000})
    assert flagged.context_tokens_for("weak") == 8000
    from_env = load_settings(tmp_path, environ={**quiet, "SWC_CONTEXT_TOKENS": "9000"})
    assert from_env.context_tokens_for("weak") == 9000
    (tmp_path / ".swc.toml").write_text("context_tokens = 8000\n[weak]\ncontext_tokens = 40000\n")
    same_file = load_settings(tmp_path, environ=quiet)
    assert (same_file.context_tokens_for("weak"), same_file.context_tokens_for("strong")) == (
        40000,
        8000,
    )


def test_the_plan_prices_the_weak_tier_with_the_code_it_is_shown(tmp_path: Path) -> None:
    """On a repository whose file to change is 32,000 tokens, a weak tier shown 40,000
    tokens of code is priced at its real first prompt, not at the run's 400."""
    from dataclasses import replace

    repo = make_big_repo(tmp_path / "repo")
    answers = {"tests": "def test_nothing():\n    pass\n", "patch": "no change"}
    narrow = fake_settings(context_tokens=400)
    wide = replace(narrow, weak=replace(narrow.weak, context_tokens=40_000))
    [weak_wide, strong_wide] = fix(repo, FakeModel(answers), task=TASK, settings=wide).plan
    [weak_narrow, strong_narrow] = fix(repo, FakeModel(answers), task=TASK, settings=narrow).plan
    assert weak_wide.view.context_tokens == 40_000
    # the prompt's price alone: 40,000 tokens of code at $1 a million, against 400
    assert weak_wide.call_usd - weak_narrow.call_usd > 0.025
    assert strong_wide.call_usd == pytest.approx(strong_narrow.call_usd, rel=0.05)


def test_a_budget_beyond_the_model_s_window_is_warned_about(big: Path, fake_llm) -> None:
    env = {"SWC_WEAK_MODEL": "openai/gpt-4o-mini", "SWC_WEAK_CONTEXT_TOKENS": "200000"}
    view = shown(big, env=env)
    [warning] = [w for w in view["warnings"] if "weak.context_tokens" in w]
    assert "128,000" in warning and "at most 113,856" in warning
    assert not [w for w in shown(big, env={"SWC_WEAK_MODEL": "openai/gpt-4o-mini"})["warnings"]]
