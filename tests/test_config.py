"""Settings: layering, sources, validation messages, and the README table built from KEYS."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from pathlib import Path

import pytest

from swcollab.config import (
    KEYS,
    Settings,
    config_files,
    default_value,
    load_settings,
    settings_as_dict,
)
from swcollab.errors import ConfigError, NotAGitRepository
from swcollab.gitrepo import require_repo

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with an empty XDG config home and no SWC_* variables."""
    xdg = tmp_path / "xdg"
    (xdg / "swc").mkdir(parents=True)
    return {"XDG_CONFIG_HOME": str(xdg), "HOME": str(tmp_path)}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    return path


def user_file(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "swc" / "config.toml"


def test_defaults_everywhere_without_files(repo: Path, env: dict[str, str]) -> None:
    settings = load_settings(repo, environ=env)
    assert settings == Settings()
    assert set(settings.sources.values()) == {"default"}
    assert settings.weak.model is None and settings.strong.model is None


def test_precedence_flag_over_env_over_repo_over_user(repo: Path, env: dict[str, str]) -> None:
    user_file(env).write_text("budget = 1.5\nretries = 1\nfewshot = 1\nmap_tokens = 100\n")
    (repo / ".swc.toml").write_text("budget = 2.5\nretries = 2\nfewshot = 2\n")
    env.update(SWC_BUDGET="3.5", SWC_RETRIES="3")
    settings = load_settings(repo, flags={"budget": 4.5, "retries": None}, environ=env)

    assert (settings.budget, settings.sources["budget"]) == (4.5, "flag")
    assert (settings.retries, settings.sources["retries"]) == (3, "environment")
    assert (settings.fewshot, settings.sources["fewshot"]) == (2, "repo file")
    assert (settings.map_tokens, settings.sources["map_tokens"]) == (100, "user file")
    assert settings.sources["strategy"] == "default"


def test_tier_shorthand_and_table(repo: Path, env: dict[str, str]) -> None:
    (repo / ".swc.toml").write_text(
        'weak = "gpt-4o-mini"\n'
        "[strong]\n"
        'model = "anthropic/claude-sonnet-4-5"\n'
        "temperature = 0\n"
        'edit_format = "search-replace"\n'
    )
    settings = load_settings(repo, environ=env)
    assert settings.weak.model == "gpt-4o-mini"
    assert settings.strong.model == "anthropic/claude-sonnet-4-5"
    assert settings.strong.temperature == 0.0 and isinstance(settings.strong.temperature, float)
    assert settings.strong.edit_format == "search-replace"
    assert settings_as_dict(settings)["weak.model"]["source"] == "repo file"


def test_environment_tier_model(repo: Path, env: dict[str, str]) -> None:
    env.update(SWC_WEAK_MODEL="ollama/qwen2.5-coder", SWC_NETWORK_ISOLATION="off")
    settings = load_settings(repo, environ=env)
    assert settings.weak.model == "ollama/qwen2.5-coder"
    assert settings.network_isolation is False


def test_pyproject_tool_table_is_read_when_there_is_no_swc_toml(
    repo: Path, env: dict[str, str]
) -> None:
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.swc]\nbudget = 0.25\n')
    settings = load_settings(repo, environ=env)
    assert (settings.budget, settings.sources["budget"]) == (0.25, "repo file")

    (repo / ".swc.toml").write_text("budget = 0.75\n")
    assert load_settings(repo, environ=env).budget == 0.75


def test_pyproject_without_tool_swc_is_ignored(repo: Path, env: dict[str, str]) -> None:
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_settings(repo, environ=env) == Settings()


def test_outside_a_repository_only_the_user_file_counts(tmp_path: Path, env) -> None:
    user_file(env).write_text('strategy = "weak"\n')
    settings = load_settings(None, environ=env)
    assert settings.strategy == "weak"
    assert config_files(None, env).repo is None


def _error(repo: Path, env: dict[str, str], content: str) -> str:
    (repo / ".swc.toml").write_text(content)
    with pytest.raises(ConfigError) as info:
        load_settings(repo, environ=env)
    assert info.value.exit_code == 2
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{repo / '.swc.toml'}: ")
    return message


def test_unknown_key_suggests_the_close_one(repo: Path, env: dict[str, str]) -> None:
    message = _error(repo, env, "bugdet = 1\n")
    assert "unknown key 'bugdet'" in message
    assert "did you mean 'budget'?" in message


def test_unknown_tier_key(repo: Path, env: dict[str, str]) -> None:
    assert "unknown key 'strong.temprature'" in _error(repo, env, "[strong]\ntemprature = 1\n")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('budget = "1"\n', "key 'budget' must be a number, got '1'"),
        ("retries = 2.5\n", "key 'retries' must be an integer, got 2.5"),
        ("retries = true\n", "key 'retries' must be an integer, got True"),
        ('network_isolation = "no"\n', "key 'network_isolation' must be a boolean"),
        ("weak = 3\n", "key 'weak' must be a model name or a table, got 3"),
    ],
)
def test_wrong_type(repo: Path, env: dict[str, str], content: str, expected: str) -> None:
    assert expected in _error(repo, env, content)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("budget = -0.01\n", "key 'budget' must be a finite number >= 0 and <= 10000, got -0.01"),
        ("budget = nan\n", "key 'budget' must be a finite number >= 0 and <= 10000, got nan"),
        ("budget = inf\n", "key 'budget' must be a finite number >= 0 and <= 10000, got inf"),
        ("map_tokens = 0\n", "key 'map_tokens' must be a finite number >= 1 and <= 1000000, got 0"),
        ("map_tokens = 1000000000000000000000000\n", "key 'map_tokens' must be a finite"),
        ("map_tokens = 1e24\n", "key 'map_tokens' must be an integer, got 1e+24"),
        ("[weak]\ncandidates = 1000000000\n", "key 'weak.candidates' must be a finite number"),
        ("[weak]\ncandidates = 1e9\n", "key 'weak.candidates' must be an integer"),
        ("test_timeout = inf\n", "key 'test_timeout' must be a finite number > 0"),
        ("[strong]\ntemperature = 1e300\n", "key 'strong.temperature' must be a finite"),
        ("[strong]\noutput_cost_per_mtok = -inf\n", "key 'strong.output_cost_per_mtok'"),
        ('weak = "gpt\\u0000mini"\n', "key 'weak.model' must be text without NUL"),
        ('strategy = "fast"\n', "key 'strategy' must be one of cascade, weak, strong"),
        ('[weak]\nedit_format = "diff"\n', "key 'weak.edit_format' must be one of"),
    ],
)
def test_out_of_range(repo: Path, env: dict[str, str], content: str, expected: str) -> None:
    assert expected in _error(repo, env, content)


def test_invalid_toml_names_file_and_line(repo: Path, env: dict[str, str]) -> None:
    message = _error(repo, env, 'budget = 1\nstrategy = "cascade\n')
    assert "not valid TOML" in message and "line 2" in message


def test_bad_user_file_is_named(repo: Path, env: dict[str, str]) -> None:
    user_file(env).write_text("budget = -5\n")
    with pytest.raises(ConfigError) as info:
        load_settings(repo, environ=env)
    assert str(info.value).startswith(f"{user_file(env)}: key 'budget'")


def test_bad_environment_value_names_the_variable(repo: Path, env: dict[str, str]) -> None:
    env["SWC_WEAK_MAX_TOKENS"] = "many"
    with pytest.raises(ConfigError) as info:
        load_settings(repo, environ=env)
    assert str(info.value) == (
        "environment variable SWC_WEAK_MAX_TOKENS: key 'weak.max_tokens' must be an integer, "
        "got 'many'"
    )


def test_empty_environment_variable_is_unset(repo: Path, env: dict[str, str]) -> None:
    env["SWC_BUDGET"] = ""
    assert load_settings(repo, environ=env).sources["budget"] == "default"


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.budget = 5.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.weak.model = "x"  # type: ignore[misc]


def test_every_key_has_a_distinct_swc_variable_and_a_default() -> None:
    variables = [key.env_var for key in KEYS.values()]
    assert len(set(variables)) == len(variables)
    assert all(v.startswith("SWC_") for v in variables)
    assert {"SWC_WEAK_MODEL", "SWC_STRONG_MODEL", "SWC_BUDGET"} <= set(variables)
    for name in KEYS:
        default_value(name)  # every declared key exists on the dataclasses


def test_not_a_git_repository_exits_3(tmp_path: Path) -> None:
    with pytest.raises(NotAGitRepository) as info:
        require_repo(tmp_path)
    assert info.value.exit_code == 3
    assert "not inside a git repository" in info.value.message


# --- README ---------------------------------------------------------------------------


def _config_table_script():
    spec = importlib.util.spec_from_file_location(
        "config_table", ROOT / "scripts" / "config_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_tables_match_the_code() -> None:
    """Fails when a key, its default or an exit code changes without the docs."""
    script = _config_table_script()
    readme = (ROOT / "README.md").read_text()
    stale = "stale: run python scripts/config_table.py"
    assert script.render(readme, script.BLOCKS) == readme, f"README is {stale}"
    table = (ROOT / "docs" / "reference" / "configuration.md").read_text()
    assert script.render(table, script.BLOCKS) == table, f"docs/reference is {stale}"
    for key in KEYS.values():
        assert f"| `{key.name}` | `{key.env_var}` |" in table


def test_readme_check_detects_a_stale_table(tmp_path: Path) -> None:
    script = _config_table_script()
    stale = tmp_path / "configuration.md"
    stale.write_text(
        (ROOT / "docs" / "reference" / "configuration.md")
        .read_text()
        .replace("`SWC_BUDGET`", "`SWC_BUDGT`")
    )
    assert script.main(["--check", str(stale)]) == 1
    assert script.main([str(stale)]) == 0
    assert script.main(["--check", str(stale)]) == 0
    assert "`SWC_BUDGET`" in stale.read_text()


def _fenced_lines(markdown: str, heading: str) -> list[str]:
    """The lines of the ``sh`` code blocks under one ``## heading`` of the README."""
    section = markdown.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```sh\n")[1:]
    return [line for block in blocks for line in block.split("```", 1)[0].splitlines()]


FAST_LOOP = 'pytest -m "not e2e and not slow"'


def test_ci_runs_exactly_the_readme_install_and_test_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    install = [line for line in _fenced_lines(readme, "Install") if "pip install" in line]
    assert install[0] == (
        'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
        "pip install -e '.[dev,local,eval]'"
    )
    assert install[0] in ci_lines
    # the suite CI runs, then the contributor's fast loop (not what CI runs)
    assert _fenced_lines(readme, "Running the tests") == ["pytest", FAST_LOOP]
    assert "pytest || status=$?" in ci_lines


def test_middle_tier_from_tier_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / ".swc.toml").write_text(
        'tier_order = "weak,mid,strong"\nweak = "w"\nstrong = "s"\n[mid]\nmodel = "m"\n'
        "candidates = 2\n"
    )
    monkeypatch.setenv("SWC_MID_TEMPERATURE", "0.3")
    settings = load_settings(repo, environ=dict(os.environ))
    assert [t.name for t in settings.tiers] == ["weak", "mid", "strong"]
    assert settings.tier("mid").model == "m" and settings.tier("mid").candidates == 2
    assert settings.tier("mid").temperature == 0.3
    assert settings_as_dict(settings)["mid.model"]["source"] == "repo file"


def test_tier_order_must_run_from_weak_to_strong(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / ".swc.toml").write_text('tier_order = "strong,weak"\n')
    with pytest.raises(ConfigError, match="tier_order"):
        load_settings(repo, environ={})


def test_table_for_a_tier_not_in_the_order_is_unknown(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / ".swc.toml").write_text('[mid]\nmodel = "m"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'mid\.model'"):
        load_settings(repo, environ={})
