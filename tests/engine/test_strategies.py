"""The collaboration strategies on the same engine: strong-first, route, brief, few-shot, judge."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from engine.conftest import git
from engine.test_fix import fix
from swcollab.cli import cli


def weak_patch_prompts(fake_llm) -> list[str]:
    return [
        p
        for p in fake_llm.prompts("openai/weak-model")
        if "SEARCH" in p and "reproduce the problem" not in p
    ]


def calls(project: Path, purpose: str | None = None) -> list[sqlite3.Row]:
    conn = sqlite3.connect(project / ".git" / "swc" / "ledger.db")
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM calls").fetchall()
    return [r for r in rows if purpose is None or r["purpose"] == purpose]


def test_brief_written_once_and_shown_to_weak_in_every_run(project, models, fake_llm):
    script = models()
    result = CliRunner().invoke(cli, ["--repo", str(project), "brief"])
    assert result.exit_code == 0, result.output
    assert "BRIEF: calc" in result.stdout
    for _ in range(2):
        code, _doc, _ = fix(project)
        assert code == 0
    assert script.count("strong", "brief") == 1
    assert len(calls(project, "brief")) == 1
    prompts = weak_patch_prompts(fake_llm)
    assert len(prompts) == 2 and all("BRIEF: calc" in p for p in prompts)
    # a second `swc brief` reuses the stored brief
    again = CliRunner().invoke(cli, ["--repo", str(project), "brief", "--json"])
    assert json.loads(again.stdout)["written_now"] is False


def test_committed_brief_wins(project, models, fake_llm):
    script = models()
    (project / ".swc").mkdir()
    (project / ".swc" / "brief.md").write_text("HUMAN BRIEF: read calc/ops.py first.\n")
    git(project, "add", ".swc/brief.md")
    git(project, "commit", "-qm", "Add a brief")
    code, _doc, _ = fix(project)
    assert code == 0
    assert script.count("strong", "brief") == 0
    assert "HUMAN BRIEF" in weak_patch_prompts(fake_llm)[0]


def test_fewshot_offers_past_fix_never_a_later_commit(project, models, fake_llm, monkeypatch):
    models()
    ops = project / "calc" / "ops.py"
    ops.write_text(ops.read_text() + "\n\ndef sub(a, b):\n    return -(b - a)\n")
    git(project, "commit", "-qam", "Fix sub missing: add the subtraction helper")
    past = git(project, "rev-parse", "HEAD").strip()
    (project / "README.md").write_text("calc\n")
    git(project, "add", "README.md")
    git(project, "commit", "-qm", "Fix add returns the wrong sum for add(2, 3)")  # a later fix
    monkeypatch.setenv("SWC_FEWSHOT", "2")
    code, doc, _ = fix(project, "--base", past)
    assert code == 0
    prompt = weak_patch_prompts(fake_llm)[0]
    assert "Fix sub missing" in prompt
    assert "Fix add returns the wrong sum" not in prompt
    assert any("few-shot" in n for n in doc["notes"])


def test_stats_by_strategy(project, models):
    models()
    fix(project)
    fix(project, "--strategy", "strong")
    result = CliRunner().invoke(
        cli, ["--repo", str(project), "stats", "--by", "strategy", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    text = json.dumps(rows)
    assert "cascade" in text and "strong" in text


def test_stats_spread_brief_cost_and_route_outcomes(project, models):
    models()
    CliRunner().invoke(cli, ["--repo", str(project), "brief"])
    fix(project, "--strategy", "route")
    fix(project, "--strategy", "route")
    result = CliRunner().invoke(cli, ["--repo", str(project), "stats", "--json"])
    totals = json.loads(result.stdout)
    assert totals["runs"] == 2  # the brief is not a run of its own
    brief_cost = calls(project, "brief")[0]["cost_usd"]
    assert abs(totals["brief_cost_usd"] - brief_cost) < 1e-9
    assert totals["routes"]["weak_fixed_by_weak"] == 2
    text = CliRunner().invoke(cli, ["--repo", str(project), "stats"]).stdout
    assert "routing" in text and "brief" in text
