"""Before any work: missing credentials and a missing extra each stop with exit 3 and the fix."""

from __future__ import annotations

import pytest

from swcollab.config import Settings, TierSettings, load_settings
from swcollab.errors import EXIT_ENVIRONMENT, ConfigError, MissingCredentials, MissingExtra
from swcollab.models import Budget, ModelClient, is_small_model, spec_from_tier
from swcollab.models import specs as specs_mod
from swcollab.models.retry import Backoff


def client(settings: Settings, environ: dict[str, str] | None = None) -> ModelClient:
    return ModelClient(settings, budget=Budget(1.0), environ=environ)


def tiers(weak: TierSettings, strong: TierSettings) -> Settings:
    return Settings(weak=weak, strong=strong)


def test_missing_provider_key_names_the_variable():
    settings = tiers(
        TierSettings("weak", model="gpt-4o-mini"),
        TierSettings("strong", model="anthropic/claude-sonnet-4-5"),
    )
    with pytest.raises(MissingCredentials) as caught:
        client(settings).check_credentials()
    assert caught.value.exit_code == EXIT_ENVIRONMENT
    text = str(caught.value)
    assert "OPENAI_API_KEY (needed by the weak model gpt-4o-mini)" in text
    assert "ANTHROPIC_API_KEY (needed by the strong model anthropic/claude-sonnet-4-5)" in text
    assert "export OPENAI_API_KEY=... ANTHROPIC_API_KEY=..." in text


def test_one_variable_for_both_tiers_is_named_once():
    settings = tiers(
        TierSettings("weak", model="gpt-4o-mini"), TierSettings("strong", model="gpt-4o")
    )
    with pytest.raises(MissingCredentials) as caught:
        client(settings).check_credentials()
    assert caught.value.message == (
        "missing credentials: OPENAI_API_KEY (needed by the weak "
        "model gpt-4o-mini and the strong model gpt-4o)"
    )


def test_keys_present_pass(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    settings = tiers(
        TierSettings("weak", model="gpt-4o-mini"),
        TierSettings("strong", model="openai/gpt-4o", api_key_env="TEAM_KEY"),
    )
    client(settings, {"TEAM_KEY": "x"}).check_credentials()
    with pytest.raises(MissingCredentials, match="TEAM_KEY"):
        client(settings, {}).check_credentials()


def test_only_the_tiers_asked_for_are_checked():
    settings = tiers(
        TierSettings("weak", model="ollama/qwen2.5-coder:7b", api_base="http://127.0.0.1:9"),
        TierSettings("strong", model="gpt-4o"),
    )
    client(settings).check_credentials(["weak"])
    with pytest.raises(MissingCredentials):
        client(settings).check_credentials()


def test_model_without_provider_is_a_config_error():
    settings = tiers(
        TierSettings("weak", model="no-such-model-xyz"),
        TierSettings("strong", model="no-such-model-xyz"),
    )
    with pytest.raises(ConfigError, match="cannot tell which provider"):
        client(settings).check_credentials()


def test_missing_extra_names_config_keys_and_the_extra(monkeypatch):
    monkeypatch.setattr(specs_mod, "SERVER_MODULES", ("llama_cpp_not_installed_here",))
    with pytest.raises(MissingExtra) as caught:
        client(Settings()).specs()
    assert caught.value.exit_code == EXIT_ENVIRONMENT
    text = str(caught.value)
    for needle in (
        "SWC_WEAK_MODEL",
        "SWC_STRONG_MODEL",
        ".swc.toml",
        "pip install 'swcollab[local]'",
    ):
        assert needle in text


def test_local_gguf_path_needs_the_extra_too(monkeypatch, tmp_path):
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setattr(specs_mod, "SERVER_MODULES", ("llama_cpp_not_installed_here",))
    settings = tiers(
        TierSettings("weak", model=f"local/{gguf}"), TierSettings("strong", model=f"local/{gguf}")
    )
    with pytest.raises(MissingExtra, match="pip install 'swcollab\\[local\\]'"):
        client(settings).check_credentials()


def test_unknown_local_name_and_missing_file():
    for model, message in (
        ("local/llama9", "use local/smollm2 or local/PATH.gguf"),
        ("local/nowhere/x.gguf", "local model file not found"),
    ):
        settings = tiers(TierSettings("weak", model=model), TierSettings("strong", model=model))
        with pytest.raises(ConfigError, match=message):
            client(settings).check_credentials()


def test_spec_from_config_file(tmp_path):
    (tmp_path / ".swc.toml").write_text(
        'weak = "gpt-4o-mini"\nretries = 5\nrequest_timeout = 12\n'
        '[strong]\nmodel = "my-model"\napi_base = "http://127.0.0.1:1/v1"\n'
        "input_cost_per_mtok = 3\noutput_cost_per_mtok = 15\n"
    )
    settings = load_settings(tmp_path, trust_repo=True)  # api_base needs trust
    weak = spec_from_tier(settings.weak, settings)
    strong = spec_from_tier(settings.strong, settings)
    assert (weak.model, weak.retries, weak.timeout) == ("gpt-4o-mini", 5, 12.0)
    assert strong.api_base == "http://127.0.0.1:1/v1"
    c = client(settings)
    assert c.price("strong") == (3e-6, 15e-6)
    c.check_credentials(["strong"])  # an OpenAI-compatible server needs no key


def test_small_models():
    assert is_small_model("local/smollm2")
    assert is_small_model("ollama/qwen2.5-coder:7b")
    assert is_small_model("hosted_vllm/Qwen2.5-Coder-1.5B-Instruct")
    assert is_small_model("openai/smollm-135m")
    assert not is_small_model("ollama/qwen2.5-coder:32b")
    assert not is_small_model("anthropic/claude-sonnet-4-5")
    assert not is_small_model("gpt-4o-mini")


def test_backoff_grows_is_capped_and_honours_retry_after():
    backoff = Backoff(base=1.0, factor=2.0, cap=5.0, retry_after_cap=20.0)
    assert [backoff.delay(n) for n in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff.delay(0, retry_after=7.0) == 7.0
    assert backoff.delay(0, retry_after=3600.0) == 20.0


def test_swc_fix_stops_with_exit_3_naming_the_missing_key(tmp_path, monkeypatch):
    import subprocess

    from click.testing import CliRunner

    from swcollab.cli import cli

    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    for args in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init"],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    monkeypatch.setenv("SWC_WEAK_MODEL", "gpt-4o-mini")
    monkeypatch.setenv("SWC_STRONG_MODEL", "anthropic/claude-sonnet-4-5")
    result = CliRunner().invoke(cli, ["--repo", str(repo), "fix", "--prompt", "make x 2"])
    assert result.exit_code == EXIT_ENVIRONMENT, result.output
    assert "OPENAI_API_KEY" in result.stderr and "ANTHROPIC_API_KEY" in result.stderr
    assert "Traceback" not in result.output
