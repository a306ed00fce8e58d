"""parse_answer is pure: answers in, blocks out."""

from __future__ import annotations

import pytest

from swcollab.edits import EditBlock, parse_answer
from swcollab.edits.parse import path_in_line

SR = "<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n"


def test_blocks_keep_order_paths_and_numbering() -> None:
    answer = f"a.py\n```\n{SR}```\n\nb/c.py\n```\n{SR}{SR}```\n"
    blocks = parse_answer(answer)
    assert [(b.index, b.path, b.kind) for b in blocks] == [
        (1, "a.py", "search-replace"),
        (2, "b/c.py", "search-replace"),
        (3, "b/c.py", "search-replace"),  # a second block in the same fence keeps the path
    ]
    assert blocks[0].search == "old\n" and blocks[0].replace == "new\n"


@pytest.mark.parametrize(
    ("line", "path"),
    [
        ("src/x.py", "src/x.py"),
        ("`src/x.py`", "src/x.py"),
        ("**src/x.py**", "src/x.py"),
        ("### src/x.py", "src/x.py"),
        ("File: src/x.py", "src/x.py"),
        ("# src/x.py", "src/x.py"),
        ("./src/x.py:", "src/x.py"),
        ("Here is the change to `lib/a.js`:", "lib/a.js"),
        (".github/workflows/ci", ".github/workflows/ci"),
        ("/etc/passwd", "/etc/passwd"),  # kept absolute so that apply refuses it
        ("The bug is in the add function.", None),
        ("e.g. this", None),
        ("```python", None),
        ("", None),
    ],
)
def test_path_in_line(line: str, path: str | None) -> None:
    assert path_in_line(line) == path


def test_bare_name_in_prose_is_a_path_only_when_shown_or_with_a_directory() -> None:
    assert path_in_line("Change in calc.py:") is None
    assert path_in_line("Change in calc.py:", frozenset({"src/calc.py"})) == "calc.py"
    assert path_in_line("Then edit src/calc.py like this:") == "src/calc.py"
    assert path_in_line("It runs on Node.js today.") is None


def test_extensionless_name_is_a_path_only_when_shown() -> None:
    assert path_in_line("Makefile") is None
    assert path_in_line("Makefile", frozenset({"Makefile"})) == "Makefile"


def test_crlf_and_missing_replace_marker() -> None:
    answer = "x.py\r\n```\r\n<<<<<<< SEARCH\r\na\r\n=======\r\nb\r\n```\r\n"
    assert parse_answer(answer) == [EditBlock(1, "x.py", "a\n", "b\n", "search-replace")]


def test_missing_divider_is_a_block_with_an_error() -> None:
    (block,) = parse_answer("x.py\n<<<<<<< SEARCH\na\n>>>>>>> REPLACE\n")
    assert block.error and "=======" in block.error


def test_unified_diff_hunks_become_blocks() -> None:
    answer = (
        "--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"
        "@@ -10,2 +10,2 @@\n-y\n+Y\n"
        "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1 @@\n+hello\n"
    )
    blocks = parse_answer(answer)
    assert [(b.path, b.search, b.replace, b.kind) for b in blocks] == [
        ("x.py", "a\nb\nc\n", "a\nB\nc\n", "diff"),
        ("x.py", "y\n", "Y\n", "diff"),
        ("new.py", "", "hello\n", "diff"),
    ]


def test_diff_deleting_a_file_is_an_error_block() -> None:
    (block,) = parse_answer("--- a/x.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n")
    assert "deleting" in block.error


def test_search_replace_wins_over_code_blocks() -> None:
    answer = f"Original:\n```python\ndef f():\n    pass\n```\nx.py\n```\n{SR}```\n"
    assert [b.kind for b in parse_answer(answer)] == ["search-replace"]


def test_code_blocks_when_nothing_else() -> None:
    answer = (
        "Fixed:\n```python\ndef f():\n    return 1\n```\n\nsrc/README.md\n```markdown\n# hi\n```\n"
        "```bash\npip install x\n```\n"
    )
    blocks = parse_answer(answer, edit_format="whole")
    assert [(b.path, b.kind, b.lang) for b in blocks] == [
        (None, "definitions", "python"),
        ("src/README.md", "whole-file", "markdown"),  # bash blocks are never code to apply
    ]


def test_path_as_comment_inside_the_fence_is_removed() -> None:
    (block,) = parse_answer("```python\n# src/calc.py\ndef f():\n    return 1\n```\n")
    assert block.path == "src/calc.py"
    assert block.replace == "def f():\n    return 1\n"


def test_unclosed_fence_runs_to_the_end() -> None:
    (block,) = parse_answer("```python\ndef f():\n    return 1\n")
    assert block.replace == "def f():\n    return 1\n"


def test_unfenced_code_starts_at_the_first_code_line() -> None:
    (block,) = parse_answer("Here you go:\n\ndef f():\n    return 1\n")
    assert block.kind == "definitions" and block.replace.startswith("def f():")


def test_prose_only_has_no_blocks() -> None:
    assert parse_answer("Change the minus to a plus and it works.") == []
    assert parse_answer("") == []


def test_unknown_format_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_answer("x", edit_format="udiff")


def test_fence_inside_replacement_is_content_when_marker_follows() -> None:
    answer = (
        "README.md\n````\n<<<<<<< SEARCH\nold\n=======\nRun:\n```\nmake\n```\n"
        ">>>>>>> REPLACE\n````\n"
    )
    (block,) = parse_answer(answer)
    assert block.replace == "Run:\n```\nmake\n```\n"


def test_reasoning_sections_are_dropped() -> None:
    draft = "```python\ndef f():\n    return 0\n```\n"
    answer = f"<think>Maybe:\n{draft}</think>\nx.py\n```\n{SR}```\n"
    assert [b.kind for b in parse_answer(answer)] == ["search-replace"]
    assert parse_answer(f"<think>{draft}</think>\nNo change needed.") == []


def test_path_is_not_taken_from_the_previous_code_block() -> None:
    first = "a.py\n```python\ndef f():\n    return 'x'\n# lib/b.py\n```\n"
    answer = first + "```python\ndef g():\n    pass\n```\n"
    assert [b.path for b in parse_answer(answer)] == ["a.py", None]


def test_a_whole_file_of_tab_separated_rows_keeps_its_first_column() -> None:
    """A number and a tab begin our context's lines and also a TSV's id column: only the
    bar form is taken out of a whole-file block."""
    answer = "The ages file:\n\ndata/ages.tsv\n```\n1\talice\t30\n2\tbob\t26\n3\tcarol\t41\n```\n"
    [block] = parse_answer(answer)
    assert block.replace == "1\talice\t30\n2\tbob\t26\n3\tcarol\t41\n"
