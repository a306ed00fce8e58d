"""The code the model is shown: the spans to change, never a file's head cut at a size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.bigrepo import big_source, line_of, make_big_repo
from swcollab.edits import apply_answer
from swcollab.engine.context import build_context, trim_for_small_model
from swcollab.task import task_from_failing_tests, task_from_prompt

GUTTER = re.compile(r"^(\d+)\t(.*)$")
TASK = "Invoice.apply_discount takes the discount off twice: a 10% discount on 100 gives 81"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_big_repo(tmp_path_factory.mktemp("big") / "repo")


def context_for(repo: Path, text: str, *, budget: int = 8000, output: str = ""):
    task = (
        task_from_prompt(text)
        if not output
        else task_from_failing_tests(
            output, ("tests/test_invoice.py::test_discount",), command="pytest"
        )
    )
    context, _warnings = build_context(
        repo, task, map_tokens=1024, context_tokens=budget, state_dir=repo / ".git" / "swc"
    )
    return context


def numbered(text: str) -> dict[int, str]:
    return {int(m.group(1)): m.group(2) for m in map(GUTTER.match, text.split("\n")) if m}


def test_the_method_to_change_is_shown_with_its_class_and_imports(repo):
    context = context_for(repo, TASK)
    shown = {f.path: f for f in context.files}
    invoice = shown["billing/invoice.py"]
    source = big_source().split("\n")
    assert not invoice.whole and invoice.numbered
    lines = numbered(invoice.text)
    # the lines to change, the class header and the imports are there, each exactly as in
    # the file (nothing is cut inside a line or a block)
    for needle in (
        "total -= total * self.discount_rate",
        "class Invoice:",
        "def apply_discount(self)",
        "from decimal import Decimal",
    ):
        number = line_of(big_source(), needle)
        assert lines.get(number) == source[number - 1], needle
    assert all(text == source[n - 1] for n, text in lines.items())
    assert "…" in invoice.text
    assert len(lines) < len(source) / 4  # spans, not the file
    assert sum(f.tokens for f in context.files) <= 8000


def test_empty_init_takes_no_slot_and_a_small_file_is_whole(repo):
    context = context_for(repo, TASK + "; round_cents is not involved")
    paths = [f.path for f in context.files]
    assert "billing/__init__.py" not in paths
    rounding = next(f for f in context.files if f.path == "billing/rounding.py")
    assert rounding.whole and rounding.text == (repo / "billing/rounding.py").read_text().rstrip(
        "\n"
    )


@pytest.mark.parametrize(
    "where", ["{repo}/billing/invoice.py", "/usr/lib/python3.12/site-packages/billing/invoice.py"]
)
def test_a_stack_frame_pulls_its_span_in(repo, where):
    source = big_source().split("\n")
    anchor = line_of(big_source(), "class Register73:")  # far down, named nowhere in the task
    target = anchor + next(k for k, line in enumerate(source[anchor:]) if "tally +=" in line) + 1
    assert "self.tally += amount" in source[target - 1]
    output = (
        "Traceback (most recent call last):\n"
        f'  File "{where.format(repo=repo)}", line {target}, in bump\n'
        "TypeError: unsupported operand\n"
    )
    context = context_for(repo, "", output=output, budget=2000)
    invoice = next(f for f in context.files if f.path == "billing/invoice.py")
    assert numbered(invoice.text).get(target) == source[target - 1]


def test_a_tiny_model_gets_the_best_span_not_the_head(repo):
    small = trim_for_small_model(context_for(repo, TASK))
    assert len(small.files) == 1 and small.repo_map == ""
    text = small.files[0].text
    assert "total -= total * self.discount_rate" in text
    assert '"""Billing: invoices' not in text  # not the file's head
    assert not re.search(r"^\d+\t", text, re.M)  # no line numbers for a tiny model to copy


def test_an_answer_copied_from_the_shown_spans_applies(repo, tmp_path):
    """A model copies the gutter and the class header across a `…` into SEARCH: the edit
    still lands on the right lines."""
    import shutil
    import subprocess

    invoice = next(f for f in context_for(repo, TASK).files if f.path == "billing/invoice.py")
    shown = invoice.text.split("\n")
    header = next(line for line in shown if line.endswith("\tclass Invoice:"))
    start = next(k for k, line in enumerate(shown) if "def apply_discount" in line)
    body = shown[start : start + 6]
    search = "\n".join([header, "   …", *body])
    replace = search.replace(next(line for line in body if "discount_rate" in line) + "\n", "", 1)
    answer = (
        f"billing/invoice.py\n```python\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n"
        ">>>>>>> REPLACE\n```\n"
    )
    work = tmp_path / "work"
    shutil.copytree(repo, work)
    subprocess.run(["git", "checkout", "-q", "."], cwd=work, check=True)
    result = apply_answer(work, answer, files=["billing/invoice.py"])
    assert result.ok, result.feedback()
    after = (work / "billing/invoice.py").read_text()
    assert after.count("total -= total * self.discount_rate") == 1
    assert after == big_source().replace("        total -= total * self.discount_rate\n", "", 1)
