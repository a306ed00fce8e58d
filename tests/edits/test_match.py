"""The matching ladder, rung by rung, on plain strings."""

from __future__ import annotations

from swcollab.edits.match import NoMatch, Replaced, replace_text

FILE = "def f(x):\n    if x:\n        return 1\n    return 2\n\n\ndef g():\n    return 3\n"


def test_exact() -> None:
    result = replace_text(FILE, "def g():\n    return 3\n", "def g():\n    return 4\n")
    assert isinstance(result, Replaced) and result.how == "exact" and result.line == 7
    assert result.text.endswith("def g():\n    return 4\n")


def test_trailing_whitespace() -> None:
    result = replace_text(FILE, "def g():   \n    return 3\n", "def g():\n    return 4\n")
    assert isinstance(result, Replaced) and result.how == "trailing-ws"


def test_indent_shift_reindents_the_replacement() -> None:
    result = replace_text(FILE, "if x:\n    return 1\n", "if x is not None:\n    return 1\n")
    assert isinstance(result, Replaced) and result.how == "indent"
    assert "    if x is not None:\n        return 1\n" in result.text


def test_indent_shift_left() -> None:
    text = "x = 1\n"
    result = replace_text(text, "    x = 1\n", "    x = 2\n")
    assert isinstance(result, Replaced) and result.text == "x = 2\n"


def test_fuzzy_above_threshold() -> None:
    search = "def f(x):\n    if x :\n        return 1\n    return 2\n"
    result = replace_text(FILE, search, "def f(x):\n    return 1 if x else 2\n")
    assert isinstance(result, Replaced) and result.how == "fuzzy"
    assert result.text.startswith("def f(x):\n    return 1 if x else 2\n\n\ndef g")


def test_fuzzy_needs_several_lines() -> None:
    result = replace_text(FILE, "    return 33\n", "    return 4\n")
    assert isinstance(result, NoMatch)


def test_ambiguous_exact_match_fails() -> None:
    text = "a = 1\nb = 2\na = 1\n"
    result = replace_text(text, "a = 1\n", "a = 3\n")
    assert isinstance(result, NoMatch) and "2 places (lines 1, 3)" in result.reason


def test_ambiguous_fuzzy_match_fails() -> None:
    block = "def h(v):\n    total = v * 2\n    total += 1\n    return total\n"
    text = block + "\n" + block.replace("h(", "k(")
    search = "def hk(v):\n    total = v * 2\n    total += 1\n    return total\n"
    result = replace_text(text, search, "x\n")
    assert isinstance(result, NoMatch) and "places" in result.reason


def test_no_match_gives_closest_lines_and_notices_applied_change() -> None:
    result = replace_text(FILE, "def g():\n    return 30\n", "def g():\n    return 3\n")
    assert isinstance(result, NoMatch)
    assert result.closest == "def g():\n    return 3\n"
    assert result.already_applied


def test_nothing_close_gives_no_closest() -> None:
    result = replace_text(FILE, "zzzzzzzz qqqq\n", "y\n")
    assert isinstance(result, NoMatch) and result.closest == "" and not result.already_applied


def test_missing_final_newline_is_kept() -> None:
    result = replace_text("a\nb", "a\n", "A\n")
    assert isinstance(result, Replaced) and result.text == "A\nb"


def test_blank_edges_of_search_are_ignored() -> None:
    result = replace_text(FILE, "\ndef g():\n    return 3\n\n", "\ndef g():\n    return 4\n\n")
    assert isinstance(result, Replaced) and result.text.endswith("def g():\n    return 4\n")


def test_tabs_are_reindented_with_tabs() -> None:
    text = "func f() {\n\tx := 1\n\treturn x\n}\n"
    result = replace_text(text, "x := 1\nreturn x\n", "x := 2\nreturn x\n")
    assert isinstance(result, Replaced) and "\tx := 2\n\treturn x\n" in result.text


SOURCE = "class Cart:\n    def remove(self, quantity):\n\n        self.quantity -= quantity\n"


def test_line_numbers_copied_with_a_bare_number_on_a_blank_line_are_dropped() -> None:
    """The context prints a blank line as ``26<TAB>``; a model keeps only ``26``."""
    search = "25\t    def remove(self, quantity):\n26\n27\t        self.quantity -= quantity"
    replace = "25\t    def remove(self, quantity):\n26\n27\t        self.quantity -= 2 * quantity"
    done = replace_text(SOURCE, search, replace)
    assert isinstance(done, Replaced) and done.how == "line-numbers"
    assert done.text == SOURCE.replace("-= quantity", "-= 2 * quantity")


def test_line_numbers_whose_tab_became_a_space_are_dropped_and_code_kept() -> None:
    search = "25     def remove(self, quantity):\n26 \n27         self.quantity -= quantity"
    replace = (
        "25     def remove(self, quantity):\n26 \n"
        "27         self.quantity -= quantity\n        0 if quantity else 1"
    )
    done = replace_text(SOURCE, search, replace)
    assert isinstance(done, Replaced) and done.how == "line-numbers"
    assert "25" not in done.text and "        0 if quantity else 1\n" in done.text
