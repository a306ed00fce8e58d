"""Tags per language, from our own queries, on fixture files; bad bytes never crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from swcollab.repomap.tags import STATUS_BINARY, extract_tags, query_version
from swcollab.treesitter import language_for_path

FIXTURES = Path(__file__).parent / "fixtures"

# file -> definitions (name, kind, line) that must be found, and names it must use.
EXPECTED = {
    "sample.py": (
        {
            ("MAX_RETRIES", "constant", 3),
            ("registry", "variable", 4),
            ("Greeter", "class", 7),
            ("name", "method", 11),
            ("greet", "method", 14),
            ("format_greeting", "function", 18),
        },
        {"Base", "format_greeting", "join"},
    ),
    "sample.js": (
        {
            ("DEFAULT_PORT", "constant", 3),
            ("Server", "class", 5),
            ("listen", "method", 9),
            ("startServer", "function", 14),
            ("stopServer", "function", 18),
        },
        {"helper", "Server", "listen", "Base"},
    ),
    "sample.ts": (
        {
            ("Shape", "interface", 1),
            ("Point", "type", 5),
            ("Color", "enum", 7),
            ("Circle", "class", 9),
            ("area", "method", 11),
            ("computeArea", "function", 16),
        },
        {"computeArea", "Shape"},
    ),
    "sample.tsx": (
        {("ButtonProps", "interface", 1), ("Button", "function", 5), ("Toolbar", "function", 9)},
        {"ButtonProps", "Label", "Button"},
    ),
    "sample.go": (
        {
            ("Pi2", "constant", 5),
            ("Shape", "interface", 7),
            ("Circle", "class", 11),
            ("Meters", "type", 15),
            ("Area", "method", 17),
            ("NewCircle", "function", 21),
        },
        {"Circle", "Pi2", "Radius"},
    ),
    "sample.rs": (
        {
            ("MAX_SIZE", "constant", 3),
            ("Stack", "class", 5),
            ("Op", "enum", 9),
            ("Shape", "interface", 11),
            ("push", "method", 16),
            ("make_stack", "function", 21),
            ("inner", "module", 25),
        },
        {"Stack", "Vec", "push"},
    ),
    "Sample.java": (
        {
            ("Account", "class", 3),
            ("MAX_BALANCE", "constant", 4),
            ("deposit", "method", 12),
            ("Auditable", "interface", 18),
            ("Currency", "enum", 22),
        },
        {"Validator", "check", "Comparable"},
    ),
    "sample.c": (
        {
            ("BUFFER_SIZE", "constant", 3),
            ("point", "class", 5),
            ("point_t", "type", 10),
            ("color", "enum", 12),
            ("add_points", "function", 14),
            ("square", "function", 16),
            ("format_point", "function", 20),
        },
        {"printf", "square", "point_t"},
    ),
    "sample.cpp": (
        {
            ("geo", "module", 3),
            ("Polygon", "class", 5),
            ("add_vertex", "method", 8),
            ("area", "method", 13),
            ("Vertices", "type", 17),
        },
        {"compute_area", "push_back"},
    ),
    "sample.rb": (
        {
            ("Billing", "module", 1),
            ("TAX_RATE", "constant", 2),
            ("Invoice", "class", 4),
            ("total", "method", 5),
            ("build", "method", 9),
        },
        {"Document", "subtotal", "TAX_RATE"},
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_language_yields_definitions_and_references(name: str) -> None:
    path = FIXTURES / name
    language = language_for_path(path)
    assert language is not None
    tags = extract_tags(language, path.read_bytes())
    found = {(d.name, d.kind, d.line) for d in tags.definitions}
    definitions, references = EXPECTED[name]
    assert definitions <= found, f"missing: {definitions - found}"
    assert references <= set(tags.references), f"missing: {references - set(tags.references)}"


def test_signature_is_the_head_of_the_definition_without_body_or_comment() -> None:
    source = (
        b"class Box:\n"
        b"    def resize(self,\n"
        b"               width: int,\n"
        b"               height: int) -> None:  # keeps ratio\n"
        b"        self.w = width\n"
    )
    tags = extract_tags("python", source)
    resize = next(d for d in tags.definitions if d.name == "resize")
    assert resize.signature == "def resize(self, width: int, height: int) -> None:"
    assert resize.indent == 4
    assert (resize.line, resize.end_line) == (2, 5)


def test_a_defined_name_is_not_counted_as_its_own_reference() -> None:
    tags = extract_tags("python", b"def solo():\n    return 1\n\nsolo()\n")
    assert tags.references.get("solo") == 1


def test_syntax_errors_still_yield_what_tree_sitter_recovers() -> None:
    source = (
        b"def good_before(x):\n    return x\n\n"
        b"def broken(:\n    pass pass )\n\n"
        b"class StillHere:\n    def method_after(self):\n        return good_before(1)\n"
    )
    tags = extract_tags("python", source)
    names = {d.name for d in tags.definitions}
    assert {"good_before", "StillHere", "method_after"} <= names
    assert tags.syntax_errors


def test_invalid_utf8_is_decoded_with_replacement() -> None:
    source = (
        b"def caf\xe9_order():\n    return 1\n\n"
        b"def with_default(x='\xff\xfe'):\n    pass\n\ndef fine_function():\n    pass\n"
    )
    tags = extract_tags("python", source)
    by_name = {d.name: d for d in tags.definitions}
    assert "fine_function" in by_name
    assert by_name["with_default"].signature == "def with_default(x='\ufffd\ufffd'):"


def test_binary_content_is_recognised_not_parsed() -> None:
    assert extract_tags("python", b"\x00\x01\x02def x(): pass").status == STATUS_BINARY


def test_query_version_changes_with_the_query_text() -> None:
    versions = {query_version(lang) for lang in ("python", "go", "rust")}
    assert len(versions) == 3
