"""Definition replacement on strings: what a weak model's rewritten function does to a file."""

from __future__ import annotations

import pytest

from swcollab.edits.outline import outline
from swcollab.edits.replace_definitions import (
    DefinitionEdit,
    DefinitionFailure,
    matched_names,
    replace_definitions,
)

PY = '''import os


class Cache:
    """Keeps values."""

    def __init__(self):
        self.data = {}

    @staticmethod
    def key(name):
        return name.lower()

    def get(self, name):
        return self.data.get(name)


def load(path):
    return open(path).read()
'''


def edit(language: str, content: str, code: str, **kw: str) -> DefinitionEdit:
    result = replace_definitions(language, content, code, **kw)
    assert isinstance(result, DefinitionEdit), result
    return result


def test_top_level_function_replaced_rest_untouched() -> None:
    code = "def load(path):\n    with open(path) as f:\n        return f.read()\n"
    result = edit("python", PY, code)
    assert result.replaced == ("load",)
    assert result.text == PY.replace(
        "    return open(path).read()\n", "    with open(path) as f:\n        return f.read()\n"
    )


def test_method_written_bare_goes_into_its_class_reindented() -> None:
    code = "def get(self, name, default=None):\n    return self.data.get(name, default)\n"
    result = edit("python", PY, code)
    assert result.replaced == ("Cache.get",)
    method = "    def get(self, name, default=None):\n        return self.data.get(name, default)\n"
    assert method in result.text


def test_decorator_kept_when_block_omits_it_and_replaced_when_given() -> None:
    kept = edit("python", PY, "def key(name):\n    return name.casefold()\n")
    assert "    @staticmethod\n    def key(name):\n        return name.casefold()\n" in kept.text
    swapped = edit("python", PY, "@classmethod\ndef key(cls, name):\n    return name.casefold()\n")
    assert "    @classmethod\n    def key(cls, name):" in swapped.text
    assert "@staticmethod" not in swapped.text


def test_class_with_all_members_but_no_docstring_is_replaced_member_by_member() -> None:
    code = (
        "class Cache:\n    def __init__(self):\n        self.data = dict()\n\n"
        "    @staticmethod\n    def key(name):\n        return name.lower()\n\n"
        "    def get(self, name):\n        return self.data[name]\n"
    )
    result = edit("python", PY, code)
    assert '"""Keeps values."""' in result.text  # the docstring the block left out stays
    assert "self.data = dict()" in result.text and "return self.data[name]" in result.text


def test_stray_statements_and_unknown_functions_are_ignored() -> None:
    code = "def load(path):\n    return path\n\ndef main():\n    load('x')\n\nmain()\nprint(1)\n"
    result = edit("python", PY, code)
    assert result.ignored == ("main",)
    assert "main" not in result.text and "print" not in result.text


def test_new_import_is_added_after_existing_imports() -> None:
    code = "import json\n\ndef load(path):\n    return json.load(open(path))\n"
    result = edit("python", PY, code)
    assert result.text.startswith("import os\nimport json\n")


def test_import_goes_after_docstring_when_file_has_none() -> None:
    content = '"""Doc."""\n\n\ndef f():\n    return 1\n'
    result = edit("python", content, "import math\n\ndef f():\n    return math.pi\n")
    assert result.text == '"""Doc."""\n\n\nimport math\n\n\ndef f():\n    return math.pi\n'
    fixed = 'import "os"\n\nfunc F() {\n\tos.Exit(1)\n}\n'
    go = edit("go", "package m\n\n// F doc.\nfunc F() {\n}\n", fixed)
    assert go.text == 'package m\n\nimport "os"\n\n// F doc.\nfunc F() {\n\tos.Exit(1)\n}\n'


def test_identical_definition_is_unchanged() -> None:
    result = edit("python", PY, "def load(path):\n    return open(path).read()\n")
    assert result.unchanged == ("load",) and not result.changed and result.text == PY


def test_echo_of_original_does_not_undo_an_earlier_change() -> None:
    changed = edit("python", PY, "def load(path):\n    return path\n").text
    result = edit("python", changed, "def load(path):\n    return open(path).read()\n", original=PY)
    assert result.unchanged == ("load",) and result.text == changed


def test_whole_file_needs_every_definition_and_import() -> None:
    whole = PY.replace("return name.lower()", "return name.casefold()")
    assert edit("python", PY, whole).whole_file
    no_import = whole.replace("import os\n", "")
    result = edit("python", PY, no_import)
    assert not result.whole_file and result.text.startswith("import os\n")


def test_incomplete_block_fails() -> None:
    result = replace_definitions("python", PY, "def load(path):\n    return open(path\n")
    assert isinstance(result, DefinitionFailure) and "incomplete" in result.reason


def test_unknown_names_fail_with_closest_definitions() -> None:
    result = replace_definitions("python", PY, "def loads(path):\n    return 1\n")
    assert isinstance(result, DefinitionFailure)
    assert "defines loads" in result.reason and "load" in result.reason
    assert result.closest == "def load(path):\n"


def test_matched_names_counts_block_definitions_found_in_file() -> None:
    assert matched_names("python", PY, "def get(self):\n    pass\n\ndef other():\n    pass\n") == 1


@pytest.mark.parametrize(
    ("language", "content", "code", "expected"),
    [
        (
            "javascript",
            "const add = (a, b) => a - b;\n\nfunction sub(a, b) {\n  return a - b;\n}\n",
            "const add = (a, b) => a + b;\n",
            "const add = (a, b) => a + b;\n\nfunction sub(a, b) {\n  return a - b;\n}\n",
        ),
        (
            "go",
            "package m\n\nfunc Add(a, b int) int {\n\treturn a - b\n}\n",
            "func Add(a, b int) int {\n\treturn a + b\n}\n",
            "package m\n\nfunc Add(a, b int) int {\n\treturn a + b\n}\n",
        ),
        (
            "rust",
            "struct P;\n\nimpl P {\n    fn f(&self) -> i32 {\n        1\n    }\n}\n",
            "fn f(&self) -> i32 {\n    2\n}\n",
            "struct P;\n\nimpl P {\n    fn f(&self) -> i32 {\n        2\n    }\n}\n",
        ),
        (
            "cpp",
            "int Shape::area() const {\n  return w + h;\n}\n",
            "int Shape::area() const {\n  return w * h;\n}\n",
            "int Shape::area() const {\n  return w * h;\n}\n",
        ),
        (
            "ruby",
            "module M\n  class A\n    def f\n      1\n    end\n  end\nend\n",
            "class A\n  def f\n    2\n  end\nend\n",
            "module M\n  class A\n    def f\n      2\n    end\n  end\nend\n",
        ),
        (
            "tsx",
            "export const App = () => {\n  return <div>a</div>;\n};\n",
            "const App = () => {\n  return <div>b</div>;\n};\n",
            "export const App = () => {\n  return <div>b</div>;\n};\n",
        ),
    ],
)
def test_other_languages(language: str, content: str, code: str, expected: str) -> None:
    assert edit(language, content, code).text == expected


def test_outline_marks_definitions_sharing_a_line() -> None:
    found = outline("javascript", "class A { f() { return 1 } }\n").flat()
    assert [(d.name, d.inline) for d in found] == [("A", False), ("f", True)]


def test_unused_and_self_imports_are_not_added() -> None:
    code = (
        "import unittest\nfrom cache import load\nimport json\n\n"
        "def load(path):\n    return json.loads(path)\n\n"
        "class TestLoad(unittest.TestCase):\n    pass\n"
    )
    result = edit("python", PY, code, path="pkg/cache.py")
    assert result.text.startswith("import os\nimport json\n\n")
    assert "unittest" not in result.text and "from cache" not in result.text
