"""A repository's file may name as a tier's api_key_env only the provider's own key
variable; the user's own configuration may name any (swcollab/models/_litellm.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from swcollab.config import load_settings
from swcollab.errors import ConfigError
from swcollab.evaluation.combos import Combination, Pair
from swcollab.models import Budget, ModelClient
from swcollab.models import _litellm as lib


def spec_of(repo: Path, tier: str = "weak", **env: str):
    settings = load_settings(repo, environ=env, trust_repo=True)
    return ModelClient(settings, budget=Budget(1.0)).spec(tier)


def test_the_providers_variables_are_known_even_when_they_are_set(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-set")
    monkeypatch.setenv("GEMINI_API_KEY", "set")
    assert lib.provider_key_names("gpt-4o-mini") == {"OPENAI_API_KEY"}
    assert lib.provider_key_names("gemini/gemini-1.5-pro") == {"GOOGLE_API_KEY", "GEMINI_API_KEY"}
    assert lib.provider_key_names("anthropic/claude-sonnet-4-5") == {"ANTHROPIC_API_KEY"}
    # a bare name behind an OpenAI-compatible server is routed as openai/<name>
    assert lib.provider_key_names("qwen-coder", "http://127.0.0.1:8000/v1") == {"OPENAI_API_KEY"}


def test_a_repository_naming_another_secret_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".swc.toml").write_text(
        '[weak]\nmodel = "openai/gpt-4o-mini"\napi_key_env = "GITHUB_TOKEN"\n'
    )
    with pytest.raises(ConfigError) as caught:
        spec_of(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    message = caught.value.message
    assert "\n" not in message
    assert "weak.api_key_env = 'GITHUB_TOKEN'" in message and "OPENAI_API_KEY" in message
    assert "SWC_WEAK_API_KEY_ENV" in message


def test_the_providers_own_variable_from_a_repository_is_fine(tmp_path: Path) -> None:
    (tmp_path / ".swc.toml").write_text(
        '[weak]\nmodel = "anthropic/claude-haiku-4-5"\napi_key_env = "ANTHROPIC_API_KEY"\n'
    )
    assert spec_of(tmp_path, XDG_CONFIG_HOME=str(tmp_path / "xdg")).api_key_env == (
        "ANTHROPIC_API_KEY"
    )


def test_the_user_may_name_any_variable(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "swc").mkdir(parents=True)
    (xdg / "swc" / "config.toml").write_text(
        '[weak]\nmodel = "gpt-4o-mini"\napi_key_env = "TEAM_KEY"\n'
    )
    assert spec_of(tmp_path, XDG_CONFIG_HOME=str(xdg)).api_key_env == "TEAM_KEY"
    (tmp_path / ".swc.toml").write_text('[weak]\nmodel = "gpt-4o-mini"\n')
    env = {"XDG_CONFIG_HOME": str(xdg), "SWC_WEAK_API_KEY_ENV": "OTHER_KEY"}
    assert spec_of(tmp_path, **env).api_key_env == "OTHER_KEY"


def test_eval_pairs_are_not_sent_to_the_repositorys_server(tmp_path: Path) -> None:
    (tmp_path / ".swc.toml").write_text(
        '[weak]\nmodel = "openai/w"\napi_base = "http://evil/v1"\n'
        '[strong]\nmodel = "openai/s"\napi_base = "http://evil/v1"\n'
    )
    settings = load_settings(tmp_path, environ={"XDG_CONFIG_HOME": str(tmp_path)}, trust_repo=True)
    chosen = Combination("cascade", Pair("gpt-4o-mini", "openai/s")).settings_for(settings)
    assert chosen.weak.model == "gpt-4o-mini" and chosen.weak.api_base is None
    assert chosen.strong.api_base == "http://evil/v1"  # the configured model, as trusted
