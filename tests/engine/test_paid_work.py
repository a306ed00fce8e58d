"""An accepted, paid-for fix is never lost: hostile task text, and a branch git refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.conftest import git
from engine.test_fix import PROMPT, branches, ops_on, worktrees
from swcollab.cli import cli
from swcollab.gitout import slugify

PROMPT_WITH_NUL = "add(2, 3) returns -1\x00 instead of 5: the sum is wrong\n\nsee \x00 above\n"


def swc_json(project: Path, *args: str, input: bytes | None = None):
    result = CliRunner().invoke(cli, ["--repo", str(project), "fix", "--json", *args], input=input)
    assert "Traceback" not in result.output, result.output
    doc = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, doc, result.stderr


def test_nul_in_the_prompt_file_still_leaves_the_branch(project, models, tmp_path):
    """The issue: both model calls and the tests ran, then git refused the commit message."""
    models()
    prompt = tmp_path / "bug.md"
    prompt.write_bytes(PROMPT_WITH_NUL.encode())
    code, doc, err = swc_json(project, "--prompt-file", str(prompt))
    assert code == 0, err
    assert "return a + b" in ops_on(project, doc["branch"])
    message = git(project, "log", "-1", "--format=%B", doc["branch"])
    assert "\ufffd" in message and "\x00" not in message
    assert doc["task"]["title"] == "add(2, 3) returns -1\ufffd instead of 5: the sum is wrong"


def test_invalid_utf8_on_stdin_and_in_the_argument(project, models):
    models()
    raw = b"add(2, 3) returns -1 \xff\xfe instead of 5: the sum is wrong \xc3\x28"
    code, doc, err = swc_json(project, "--prompt-file", "-", input=raw)
    assert code == 0, err
    assert "\ufffd" in doc["task"]["title"]
    # an argument that is not UTF-8 arrives as surrogates (PEP 383), through a real process
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "swcollab",
            "--repo",
            str(project),
            "fix",
            "--json",
            "--prompt",
            os.fsdecode(raw + b" again"),
        ],
        capture_output=True,
        env=env,
    )
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    second = json.loads(proc.stdout)
    assert "\ufffd" in second["task"]["title"]
    assert second["branch"] != doc["branch"]


def test_control_characters_never_reach_a_title(project, models):
    models()
    prompt = "\x1b[31mred\x1b[0m add(2, 3)\r\nreturns -1\u202e\u200b instead of 5"
    code, doc, err = swc_json(project, "--prompt", prompt)
    assert code == 0, err
    assert doc["task"]["title"] == "[31mred [0m add(2, 3)"
    subject = git(project, "log", "-1", "--format=%s", doc["branch"])
    assert "\x1b" not in subject and "\u202e" not in subject


def test_stdin_is_capped_like_a_file(project, models):
    models()
    code, _doc, err = swc_json(project, "--prompt-file", "-", input=b"x" * 5_000_000)
    assert code == 2
    assert "standard input is larger than 1000000 bytes" in err


def _block_both_names(project: Path) -> None:
    """A stale lock git left behind (a crash) makes both branch names impossible."""
    slug = slugify(PROMPT)
    heads = project / ".git" / "refs" / "heads"
    (heads / "swc").mkdir(parents=True, exist_ok=True)
    (heads / "swc" / f"{slug}.lock").write_text("")
    (heads / f"swc-{slug}.lock").write_text("")


def test_a_branch_git_refuses_leaves_the_diff_and_says_where(project, models):
    models()
    _block_both_names(project)
    code, doc, err = swc_json(project, "--prompt", PROMPT)
    assert code == 3, err
    assert doc["verdict"] == "fixed" and doc["branch"] is None
    patch = Path(doc["patch_path"])
    assert patch.parent == project / ".git" / "swc" / "patches"
    assert patch.name == f"{doc['run_id']}.diff"
    assert str(patch) in err and "git apply" in err
    assert "could not be put on a branch" in err
    assert "return a + b" in patch.read_text()
    assert "return a + b" in doc["report_markdown"]  # the report holds it too
    assert Path(doc["report_path"]).read_text().count("return a + b") >= 1
    assert not [b for b in branches(project) if "add-2-3" in b]
    assert len(worktrees(project)) == 1
    # the saved diff is the fix: it applies on the base and the tests it brought pass
    git(project, "apply", "--check", str(patch))
    git(project, "apply", str(patch))
    assert "return a + b" in (project / "calc" / "ops.py").read_text()
    files = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, text=True, capture_output=True
    ).stdout
    assert "?? tests/test_swc_add" in files  # the kept reproduction test came along


def test_human_output_points_at_the_saved_patch(project, models):
    models()
    _block_both_names(project)
    result = CliRunner().invoke(cli, ["--repo", str(project), "fix", "--prompt", PROMPT])
    assert result.exit_code == 3
    assert "no branch: the accepted diff is in" in result.stdout
    assert "error: the accepted fix could not be put on a branch" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("junk", ["\ud800", "\udcff\x00\u202e", "\x1b[2J"])
@pytest.mark.parametrize("where", ["patch", "test"])
def test_hostile_model_replies_never_give_a_traceback(project, models, junk, where):
    """A provider's JSON may carry lone surrogates and NULs; the reply is still handled."""
    from engine.conftest import GOOD_PATCH, GOOD_TEST

    patch, test = GOOD_PATCH, GOOD_TEST
    if where == "patch":
        patch = GOOD_PATCH.replace("return a + b", f"return a + b  # {junk}")
    else:
        test = GOOD_TEST.replace("== 5", f"== 5  # {junk}")
    models(weak_patches=[patch], strong_patches=[patch], weak_tests=[test], strong_tests=[test])
    code, doc, err = swc_json(project, "--prompt", PROMPT)
    assert code in (0, 1), err
    if doc.get("branch"):
        log = subprocess.run(["git", "show", doc["branch"]], cwd=project, capture_output=True)
        log.stdout.decode("utf-8")  # what reached git is valid UTF-8
