"""Span scoring, and what the repository's past says about a task (``engine/history``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from swcollab.engine.context import build_context, is_source_path, scored_views
from swcollab.engine.history import MAX_FEEDBACK_LINES, MAX_FILES_PER_COMMIT, past_changes
from swcollab.engine.spans import score_blocks, view_of
from swcollab.engine.spanview import code_tokens
from swcollab.repomap import build_repo_map, focus_from_text
from swcollab.task import task_from_prompt

PRICING = '''"""Prices."""

from decimal import Decimal


def apply_levy(amount: Decimal, band: str) -> Decimal:
    if band == "exempt":
        return amount
    return amount * Decimal("1.2")


def currency_format(amount: Decimal) -> str:
    return f"{amount:.2f}"
'''

FILLER = '''"""{name} helpers."""


def {name}_open(path):
    """Open the {name} store and read its goods."""
    return open(path).read()


def {name}_count(goods):
    """How many goods the {name} store holds, by item."""
    return len(goods)
'''

TASK = "VAT on zero-rated goods comes out one cent too high"


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def commit(root: Path, message: str, files: dict[str, str]) -> str:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    stores = ("cart", "stock", "users", "report", "goods")
    commit(
        root,
        "initial",
        {"shop/pricing.py": PRICING, **{f"shop/{s}.py": FILLER.format(name=s) for s in stores}},
    )
    # The earlier fix that the task resembles: its message, not the code, says "zero-rated".
    commit(
        root,
        "Zero-rated items were charged the levy",
        {
            "shop/pricing.py": PRICING.replace('band == "exempt"', 'band in ("exempt", "free")'),
            "tests/test_pricing.py": "def test_zero():\n    assert True\n",
        },
    )
    commit(
        root,
        "Count goods by item in the stock store",
        {
            "shop/stock.py": FILLER.format(name="stock").replace("len(goods)", "len(set(goods))"),
        },
    )
    return root


def test_earlier_similar_commits_vote_for_the_files_they_changed(shop):
    past = past_changes(shop, TASK, is_source_path)
    assert max(past.files, key=past.files.get) == "shop/pricing.py"
    assert "tests/test_pricing.py" not in past.files  # tests are not where a fix goes
    # the words of the lines that commit changed lend themselves to the task
    assert {"band", "exempt", "free"} <= past.terms


def test_only_the_bases_past_votes(shop):
    base = git(shop, "rev-parse", "HEAD")
    git(shop, "checkout", "-q", "-b", "later")
    commit(
        shop,
        "VAT on zero-rated goods: the cent comes from the report store",
        {
            "shop/report.py": FILLER.format(name="report") + "\nVAT = 0\n",
        },
    )
    git(shop, "checkout", "-q", base)
    assert "shop/report.py" not in past_changes(shop, TASK, is_source_path).files
    later = past_changes(shop, TASK, is_source_path, rev="later")
    assert "shop/report.py" in later.files  # the same call sees it when it is in the past


def test_a_sweep_over_many_files_does_not_vote(shop):
    many = {f"shop/sweep{i}.py": f"ZERO_RATED_{i} = {i}\n" for i in range(MAX_FILES_PER_COMMIT + 1)}
    commit(shop, "VAT zero-rated goods cent rename sweep", many)
    past = past_changes(shop, TASK, is_source_path)
    assert not any(path.startswith("shop/sweep") for path in past.files)
    assert max(past.files, key=past.files.get) == "shop/pricing.py"


def test_a_huge_similar_commit_lends_no_words(shop):
    table = "".join(f"GENERATED_LEVY_{i} = {i}\n" for i in range(MAX_FEEDBACK_LINES + 1))
    commit(shop, "Zero-rated goods: regenerate the VAT table", {"shop/vat_table.py": table})
    past = past_changes(shop, TASK, is_source_path)
    assert "shop/vat_table.py" in past.files  # it still votes for its file
    assert "generated" not in past.terms  # but its thousand lines do not drown the words
    assert {"band", "exempt", "free"} <= past.terms


def test_no_history_no_words_no_votes(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")  # no commit: HEAD names nothing
    assert past_changes(root, TASK, is_source_path).files == {}
    assert past_changes(tmp_path, "", is_source_path).files == {}


def test_the_past_brings_the_file_to_change_first_among_the_candidates(shop):
    focus = focus_from_text(TASK)
    repo_map = build_repo_map(shop, focus, tokens=512, state_dir=shop / ".git" / "swc")
    without = scored_views(shop, repo_map, focus, TASK)
    with_past = scored_views(shop, repo_map, focus, TASK, past_changes(shop, TASK, is_source_path))
    # the task's words ("goods", "one") are all over the other stores, none is in pricing.py
    assert without[0].path != "shop/pricing.py"
    assert with_past[0].path == "shop/pricing.py"
    # within it, the words of the lines that fix changed point at the function
    best = max(with_past[0].blocks, key=lambda b: b.score)
    assert best.name == "apply_levy"


def test_a_run_shows_the_function_the_past_points_at(shop):
    context, _warnings = build_context(
        shop,
        task_from_prompt(TASK),
        map_tokens=256,
        context_tokens=400,
        state_dir=shop / ".git" / "swc",
    )
    shown = {f.path: f.text for f in context.files}
    assert 'if band in ("exempt", "free"):' in shown.get("shop/pricing.py", "")


def _views(tmp_path: Path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return [view_of(tmp_path, name) for name in files]


PARSING = """import re


def parse_header(line):
    name, _, value = line.partition(":")
    return name.strip(), value.strip()


def format_date(stamp):
    return stamp.strftime("%Y-%m-%d")


def render_table(rows):
    return "\\n".join(" | ".join(row) for row in rows)
"""


def test_prose_words_meet_split_identifiers(tmp_path):
    views = _views(tmp_path, {"parsing.py": PARSING})
    score_blocks(views, "header parsing drops the value after a tab", (), {}, {})
    best = max(views[0].blocks, key=lambda b: b.score)
    assert best.name == "parse_header"


def test_words_of_past_fixes_pull_in_a_block_the_task_does_not_name(tmp_path):
    views = _views(tmp_path, {"parsing.py": PARSING})
    score_blocks(views, "the output looks wrong", (), {}, {}, past_terms={"rows", "join"})
    ranked = sorted(views[0].blocks, key=lambda b: -b.score)
    assert ranked[0].name == "render_table"
    assert ranked[0].score > ranked[1].score


@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        ("        return self.value\n", 5),  # return self . value, line end: indentation is free
        ('    x = {"a": 1}\n', 8),  # x = {" a ": 1 } and the line end: marks go in pairs
        ("    name = 'héllo'  # 中文\n", 11),  # name = ' h é llo ' # 中 文: non-ASCII one each
        ("\n", 1),
    ],
)
def test_code_tokens_count_words_marks_and_line_ends(line, tokens):
    assert code_tokens(line) == tokens
