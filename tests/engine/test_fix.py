"""``swc fix`` end to end: real git repositories, real test runs, scripted loopback models."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from click.testing import CliRunner

from engine.conftest import (
    WRONG_PATCH,
    git,
    purpose_of,
)
from swcollab.cli import cli

PROMPT = "add(2, 3) returns -1 instead of 5: the sum is wrong"


def fix(project: Path, *args: str) -> tuple[int, dict, str]:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["--repo", str(project), "fix", "--prompt", PROMPT, "--json", *args],
        catch_exceptions=False,
    )
    document = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, document, result.stderr


def branches(project: Path) -> list[str]:
    return git(project, "branch", "--format=%(refname:short)").split()


def ops_on(project: Path, branch: str) -> str:
    return git(project, "show", f"{branch}:calc/ops.py")


def worktrees(project: Path) -> list[str]:
    return [
        line
        for line in git(project, "worktree", "list", "--porcelain").splitlines()
        if line.startswith("worktree ")
    ]


def ledger_runs(project: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(project / ".git" / "swc" / "ledger.db")
    conn.row_factory = sqlite3.Row
    return conn.execute("SELECT * FROM runs").fetchall()


def test_weak_passes_strong_never_called(project, models):
    script = models()
    code, doc, _err = fix(project)
    assert code == 0, doc
    assert doc["verdict"] == "fixed"
    assert script.count("strong") == 0
    assert doc["branch"] == "swc/add-2-3-returns-1-instead-of-5-the-sum"[: len(doc["branch"])]
    assert "return a + b" in ops_on(project, doc["branch"])
    # the kept reproduction test travels with the fix
    files = git(project, "show", "--name-only", "--format=", doc["branch"]).split()
    assert "tests/test_swc_add.py" in files or any("test_swc" in f for f in files)
    message = git(project, "log", "-1", "--format=%B", doc["branch"])
    assert "Swc-Model: openai/weak-model" in message and "Swc-Strategy: cascade" in message
    # the user's checkout did not move and no worktree is left behind
    assert git(project, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert "return a - b" in (project / "calc" / "ops.py").read_text()
    assert len(worktrees(project)) == 1
    runs = ledger_runs(project)
    assert [r["verdict"] for r in runs] == ["fixed"]
    assert doc["cost_usd"] > 0 and doc["strong_only_cost_usd"] > doc["cost_usd"]


def test_both_fail_exit_1_no_branch(project, models):
    models(weak_patches=[WRONG_PATCH], strong_patches=[WRONG_PATCH])
    code, doc, _ = fix(project)
    assert code == 1
    assert doc["verdict"] == "not_fixed"
    assert doc["branch"] is None
    assert not [b for b in branches(project) if b.startswith("swc/")]
    assert "Why the candidates failed" in doc["report_markdown"]
    assert "test_add_sums" in doc["report_markdown"]
    assert Path(doc["report_path"]).is_file()


def test_budget_runs_out_between_tiers(project, models):
    script = models(weak_patches=[WRONG_PATCH])
    # enough for the weak tier's calls, not for a strong call's worst case
    code, doc, _ = fix(project, "--budget", "0.06")
    assert code == 4, doc
    assert doc["verdict"] == "budget_exhausted"
    assert script.count("strong", "patch") == 0
    assert doc["cost_usd"] <= 0.06
    assert ledger_runs(project)[0]["verdict"] == "budget_exhausted"


def test_dirty_working_tree_untouched(project, models):
    models()
    (project / "calc" / "ops.py").write_text(
        (project / "calc" / "ops.py").read_text() + "\n# local edit\n"
    )
    (project / "notes.txt").write_text("untracked\n")
    git(project, "add", "notes.txt")
    before = (
        git(project, "status", "--porcelain"),
        git(project, "ls-files", "-s"),
        (project / "calc" / "ops.py").read_text(),
    )
    code, doc, err = fix(project)
    assert code == 0
    assert "uncommitted changes" in err and "are not included" in err
    after = (
        git(project, "status", "--porcelain"),
        git(project, "ls-files", "-s"),
        (project / "calc" / "ops.py").read_text(),
    )
    assert before == after
    assert "# local edit" not in ops_on(project, doc["branch"])


def test_existing_branch_never_overwritten(project, models):
    models()
    _, first, _ = fix(project)
    _, second, _ = fix(project)
    assert second["branch"] == first["branch"] + "-2"


def test_interrupt_during_test_run(project, models, monkeypatch):
    models()
    import swcollab.engine.attempts as attempts

    real = attempts.TestSuite.evaluate

    def interrupted(self, run, changed=()):  # Ctrl-C arrives while the candidate's tests run
        raise KeyboardInterrupt

    monkeypatch.setattr(attempts.TestSuite, "evaluate", interrupted)
    code, _doc, err = fix(project)
    monkeypatch.setattr(attempts.TestSuite, "evaluate", real)
    assert code == 130
    assert "interrupted" in err
    assert not [b for b in branches(project) if b.startswith("swc/")]
    assert len(worktrees(project)) == 1
    assert ledger_runs(project)[0]["verdict"] == "interrupted"


def test_user_test_must_fail_on_base(project, models):
    models()
    code, _doc, err = fix(project, "--tests", "tests/test_ops.py")
    assert code == 2
    assert "passes on the base commit" in err


def test_missing_credentials_exit_3(project, models, monkeypatch):
    models()
    monkeypatch.delenv("SWC_FAKE_KEY")
    code, _doc, err = fix(project)
    assert code == 3
    assert "SWC_FAKE_KEY" in err


def test_not_a_git_repository(tmp_path):
    result = CliRunner().invoke(cli, ["--repo", str(tmp_path), "fix", "--prompt", "x"])
    assert result.exit_code == 3
    assert "not inside a git repository" in result.stderr


def test_needs_exactly_one_task_source(project):
    result = CliRunner().invoke(cli, ["--repo", str(project), "fix"])
    assert result.exit_code == 2
    assert "exactly one of" in result.stderr


def test_human_output_names_branch(project, models):
    models()
    result = CliRunner().invoke(cli, ["--repo", str(project), "fix", "--prompt", PROMPT])
    assert result.exit_code == 0
    assert "git diff HEAD...swc/" in result.stdout
    subprocess.run(
        ["git", "rev-parse", "--verify", "swc/add-2-3-returns-1-instead-of-5"],
        cwd=project,
        check=False,
    )


def test_from_failing_tests(project, models, fake_llm):
    models()
    (project / "tests" / "test_add.py").write_text(
        "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    git(project, "add", "-A")
    git(project, "commit", "-qm", "a failing test")
    result = CliRunner().invoke(
        cli,
        ["--repo", str(project), "fix", "--from-failing-tests", "--json"],
        catch_exceptions=False,
    )
    doc = json.loads(result.stdout)
    assert result.exit_code == 0, doc
    assert doc["tests"]["user"] == ["tests/test_add.py::test_add"]
    assert "assert -1 == 5" in fake_llm.prompts()[0] or "AssertionError" in fake_llm.prompts()[0]
    # one patch request (its two samples come back together); the first sample fixed it
    patches = [r for r in fake_llm.requests if purpose_of(r) == "patch"]
    assert len(patches) == 1 and patches[0]["n"] == 2 and "weak" in patches[0]["model"]
    assert doc["winner"]["candidate"] == 1
    assert "return a + b" in ops_on(project, doc["branch"])


def test_from_failing_tests_when_all_pass(project, models):
    models()
    result = CliRunner().invoke(cli, ["--repo", str(project), "fix", "--from-failing-tests"])
    assert result.exit_code == 2
    assert "nothing to fix" in result.stderr


def test_prompt_file_from_stdin(project, models):
    models()
    result = CliRunner().invoke(
        cli, ["--repo", str(project), "fix", "--prompt-file", "-", "--json"], input=PROMPT + "\n"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["task"]["title"] == PROMPT


def test_branch_name_blocked_falls_back(project, models):
    models()
    git(project, "branch", "swc")  # a branch "swc" makes every "swc/..." name impossible
    code, doc, _ = fix(project)
    assert code == 0
    assert doc["branch"].startswith("swc-")
    assert "return a + b" in ops_on(project, doc["branch"])
    assert any("could not be made" in w for w in doc["warnings"])
