"""``swc context``, ``swc fix --show-context`` and ``swc runs show ID --context``, through
the CLI: what is printed is what a run sends, and no model is called to print it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.bigrepo import big_source, line_of, make_big_repo
from swcollab.cli import cli
from tests.fakes.model_config import configure_fake_tiers

TASK = "Invoice.apply_discount takes the discount off twice: a 10% discount on 100 gives 81"


@pytest.fixture
def big(tmp_path: Path, fake_llm, monkeypatch) -> Path:
    configure_fake_tiers(monkeypatch, tmp_path / "xdg", fake_llm.base_url, weak_candidates=1)
    return make_big_repo(tmp_path / "repo")


def swc(repo: Path, *args: str, stdin: str | None = None):
    return CliRunner().invoke(
        cli, ["--repo", str(repo), *args], input=stdin, catch_exceptions=False
    )


def test_context_prints_the_prompt_with_the_code_to_change_and_calls_no_model(big, fake_llm):
    result = swc(big, "context", "--prompt", TASK)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("──── system ────") and "──── user ────" in out
    number = line_of(big_source(), "total -= total * self.discount_rate")
    assert f"{number}\t        total -= total * self.discount_rate" in out
    assert "prompt tokens" in result.stderr and "billing/invoice.py: lines" in result.stderr
    assert fake_llm.requests == []


def test_json_holds_the_same_messages_and_the_token_count(big, fake_llm):
    text = swc(big, "context", "--prompt", TASK).stdout
    result = swc(big, "context", "--prompt", TASK, "--json")
    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["tier"] == "weak" and view["edit_format"] == "search-replace"
    assert view["tokens"] > 1000
    for message in view["messages"]:
        assert message["content"].rstrip("\n") in text
    invoice = next(f for f in view["files"] if f["path"] == "billing/invoice.py")
    assert not invoice["whole"] and invoice["total_lines"] == len(big_source().splitlines())
    assert fake_llm.requests == []


def test_fix_show_context_prints_the_same_and_changes_nothing(big, fake_llm):
    from engine.conftest import git

    context = swc(big, "context", "--prompt", TASK).stdout
    shown = swc(big, "fix", "--prompt", TASK, "--show-context")
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout == context
    assert git(big, "branch", "--format=%(refname:short)").split() == ["main"]
    assert fake_llm.requests == []


def test_saved_test_output_is_the_task_and_its_frames_pull_code_in(big, tmp_path):
    number = line_of(big_source(), "total -= total * self.discount_rate")
    output = tmp_path / "out.txt"
    output.write_text(
        "FAILED tests/test_invoice.py::test_discount - AssertionError: 81 != 90\n"
        "Traceback (most recent call last):\n"
        f'  File "{big}/billing/invoice.py", line {number}, in apply_discount\n'
    )
    result = swc(big, "context", "--test-output", str(output), "--json")
    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)
    user = view["messages"][1]["content"]
    assert "tests/test_invoice.py::test_discount" in user
    assert f"{number}\t" in user
    # the same from standard input
    piped = swc(big, "context", "--test-output", "-", "--json", stdin=output.read_text())
    assert piped.exit_code == 0, piped.stderr
    assert f"{number}\t" in json.loads(piped.stdout)["messages"][1]["content"]


@pytest.mark.parametrize(
    "args, needle",
    [
        ((), "exactly one of"),
        (("--prompt", "x", "--prompt-file", "y"), "exactly one of"),
        (("--test-output", "/nonexistent/out.txt"), "no such file"),
        (("--prompt", "x", "--tier", "nope"), "no such tier"),
        (("--prompt", "x", "--base", "no-such-ref"), "no such commit"),
        (("--prompt", "x", "--context-tokens", "0"), "0"),
    ],
)
def test_bad_input_is_a_usage_error(big, args, needle):
    result = swc(big, "context", *args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert "Traceback" not in result.output


def test_empty_test_output_is_a_usage_error(big, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = swc(big, "context", "--test-output", str(empty))
    assert result.exit_code == 2 and "empty" in result.stderr


def test_a_run_saves_the_prompt_it_sent(project, models, fake_llm):
    """`swc runs show ID --context` holds the messages of the run's first patch request,
    byte for byte as the model received them."""
    models()
    run = swc(project, "fix", "--prompt", "add(2, 3) returns -1 instead of 5", "--json")
    assert run.exit_code == 0, run.stderr
    doc = json.loads(run.stdout)
    patch_requests = [
        b
        for b in fake_llm.requests
        if "SEARCH" in b["messages"][-1]["content"]
        and "reproduce the problem" not in b["messages"][-1]["content"]
    ]
    shown = swc(project, "runs", "show", doc["run_id"], "--context", "--json")
    assert shown.exit_code == 0, shown.stderr
    view = json.loads(shown.stdout)
    assert view["messages"] == patch_requests[0]["messages"]
    assert view["tier"] == "weak"
    assert doc["context_path"] and "--context" in doc["report_markdown"]
    text = swc(project, "runs", "show", doc["run_id"], "--context")
    assert "──── user ────" in text.stdout and "prompt tokens" in text.stderr
    missing = swc(project, "runs", "show", doc["run_id"][:-1] + "x", "--context")
    assert missing.exit_code == 2
