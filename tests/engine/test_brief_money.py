"""``swc brief`` calls only the strong model and describes the commit it is recorded at."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from engine.conftest import git
from swcollab.cli import cli
from tests.fakes.model_config import KEY_VARIABLE


def brief(project, *args: str):
    return CliRunner().invoke(cli, ["--repo", str(project), "brief", "--json", *args])


def test_brief_is_written_from_the_commit_not_the_working_tree(project, models, fake_llm):
    models()
    (project / "README.md").write_text("# calc\nCOMMITTED README: calc adds numbers.\n")
    git(project, "add", "README.md")
    git(project, "commit", "-qm", "readme")
    head = git(project, "rev-parse", "HEAD").strip()
    (project / "README.md").write_text("# calc\nUNCOMMITTED README: do not describe me.\n")
    (project / "calc" / "scratch.py").write_text("def uncommitted_helper():\n    return 1\n")
    (project / "calc" / "ops.py").write_text(
        (project / "calc" / "ops.py").read_text() + "\n\ndef dirty_edit():\n    pass\n"
    )
    result = brief(project)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["commit"] == head
    [prompt] = fake_llm.prompts("openai/strong-model")
    assert "COMMITTED README" in prompt
    assert "UNCOMMITTED" not in prompt
    assert "uncommitted_helper" not in prompt and "scratch.py" not in prompt
    assert "dirty_edit" not in prompt
    assert "def add" in prompt or "calc/ops.py" in prompt  # the map of the commit is there
    meta = json.loads((project / ".git" / "swc" / "brief" / "brief.json").read_text())
    assert meta["commit"] == head
    assert "calc/scratch.py" not in meta["files"]
    # the user's files are as they were
    assert "UNCOMMITTED README" in (project / "README.md").read_text()
    assert (project / "calc" / "scratch.py").is_file()
    assert len(git(project, "worktree", "list").splitlines()) == 1


def test_brief_needs_only_the_strong_model(project, fake_llm, monkeypatch, tmp_path):
    """No weak model configured, and the offline default cannot run here: still exit 0."""
    from swcollab.models import specs as specs_mod
    from tests.fakes.openai_server import request_text

    monkeypatch.setattr(specs_mod, "SERVER_MODULES", ("llama_cpp_not_installed_here",))
    monkeypatch.setenv(KEY_VARIABLE, "sk-test")
    config = tmp_path / "xdg-brief" / "swc" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'test_cmd = "{sys.executable} -m pytest -q"\n[strong]\n'
        f'api_base = "{fake_llm.base_url}"\napi_key_env = "{KEY_VARIABLE}"\n'
        "input_cost_per_mtok = 10\noutput_cost_per_mtok = 40\n"
    )
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config.parent.parent))
    fake_llm.set_handler(lambda body: "BRIEF: " + str(len(request_text(body))))
    result = brief(project, "--strong", "openai/strong-model")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["text"].startswith("BRIEF: ")
    assert [r["model"] for r in fake_llm.requests] == ["strong-model"]
    # a fix, which needs the weak tier, still says what is missing
    fixed = CliRunner().invoke(cli, ["--repo", str(project), "fix", "--prompt", "x"])
    assert fixed.exit_code == 3
    assert "weak tier" in fixed.stderr


@pytest.mark.parametrize("budget", ["inf", "nan", "-1"])
def test_brief_budget_must_be_a_finite_number(project, budget):
    result = brief(project, "--budget", budget)
    assert result.exit_code == 2
    assert "budget" in result.stderr
    assert "Traceback" not in result.output
