"""Find the definitions (functions, methods, classes) of a source text with tree-sitter.

An ``Outline`` lists the top-level definitions, each with its line span and, for
classes (and Rust ``impl`` blocks, Ruby modules), its members. Line numbers are 0-based
and inclusive. One small table per language says which node types define what.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import treesitter


@dataclass(frozen=True)
class LangSpec:
    functions: frozenset[str]
    classes: frozenset[str]  # definitions whose body holds member definitions
    wrappers: frozenset[str] = frozenset()  # nodes wrapping one definition (decorators, export)
    imports: frozenset[str] = frozenset()
    variables: frozenset[str] = frozenset()  # `const f = () => ...` style function bindings


_JS_FUNCTIONS = frozenset(
    {"function_declaration", "generator_function_declaration", "method_definition"}
)
_JS = LangSpec(
    functions=_JS_FUNCTIONS,
    classes=frozenset({"class_declaration"}),
    wrappers=frozenset({"export_statement"}),
    imports=frozenset({"import_statement"}),
    variables=frozenset({"lexical_declaration", "variable_declaration"}),
)
_TS = LangSpec(
    functions=_JS_FUNCTIONS
    | {"interface_declaration", "type_alias_declaration", "enum_declaration"},
    classes=frozenset({"class_declaration", "abstract_class_declaration"}),
    wrappers=_JS.wrappers,
    imports=_JS.imports,
    variables=_JS.variables,
)
_CPP_CLASSES = frozenset({"class_specifier", "struct_specifier"})

SPECS: dict[str, LangSpec] = {
    "python": LangSpec(
        functions=frozenset({"function_definition"}),
        classes=frozenset({"class_definition"}),
        wrappers=frozenset({"decorated_definition"}),
        imports=frozenset({"import_statement", "import_from_statement", "future_import_statement"}),
    ),
    "javascript": _JS,
    "typescript": _TS,
    "tsx": _TS,
    "go": LangSpec(
        functions=frozenset({"function_declaration", "method_declaration", "type_declaration"}),
        classes=frozenset(),
        imports=frozenset({"import_declaration"}),
    ),
    "rust": LangSpec(
        functions=frozenset({"function_item", "struct_item", "enum_item", "type_item"}),
        classes=frozenset({"impl_item", "trait_item", "mod_item"}),
        wrappers=frozenset(),
        imports=frozenset({"use_declaration"}),
    ),
    "java": LangSpec(
        functions=frozenset({"method_declaration", "constructor_declaration"}),
        classes=frozenset(
            {"class_declaration", "interface_declaration", "enum_declaration", "record_declaration"}
        ),
        imports=frozenset({"import_declaration"}),
    ),
    "c": LangSpec(
        functions=frozenset({"function_definition"}),
        classes=frozenset(),
        imports=frozenset({"preproc_include"}),
    ),
    "cpp": LangSpec(
        functions=frozenset({"function_definition"}),
        classes=_CPP_CLASSES,
        wrappers=frozenset({"template_declaration"}),
        imports=frozenset({"preproc_include"}),
    ),
    "ruby": LangSpec(
        functions=frozenset({"method", "singleton_method"}),
        classes=frozenset({"class", "module"}),
    ),
}

# Fence info words models use, mapped to tree-sitter language names.
FENCE_LANGUAGES: dict[str, str] = {
    "py": "python",
    "python": "python",
    "python3": "python",
    "js": "javascript",
    "javascript": "javascript",
    "jsx": "javascript",
    "node": "javascript",
    "ts": "typescript",
    "typescript": "typescript",
    "tsx": "tsx",
    "go": "go",
    "golang": "go",
    "rust": "rust",
    "rs": "rust",
    "java": "java",
    "c": "c",
    "h": "c",
    "cpp": "cpp",
    "c++": "cpp",
    "cc": "cpp",
    "hpp": "cpp",
    "ruby": "ruby",
    "rb": "ruby",
}


@dataclass(frozen=True)
class Definition:
    name: str
    scope: tuple[str, ...]
    kind: str  # "function" or "class"
    start: int  # first line, wrappers (decorators, export) included
    inner_start: int  # first line of the definition proper
    end: int  # last line, inclusive
    prefix: str  # wrapper text on the definition's own first line ("export ")
    decorated: bool  # a wrapper starts on an earlier line (Python decorators)
    has_error: bool
    inline: bool = False  # shares its first or last line with other code: not replaceable
    members: tuple[Definition, ...] = field(default=())  # methods, or nested functions

    @property
    def qualname(self) -> tuple[str, ...]:
        return (*self.scope, self.name)

    def walk(self) -> list[Definition]:
        out = [self]
        for member in self.members:
            out.extend(member.walk())
        return out


@dataclass(frozen=True)
class Statement:
    start: int
    end: int
    kind: str  # "import", "package", "comment" or "other"


@dataclass(frozen=True)
class Outline:
    language: str
    definitions: tuple[Definition, ...]
    statements: tuple[Statement, ...]  # top-level nodes that are not definitions

    def flat(self) -> list[Definition]:
        out: list[Definition] = []
        for definition in self.definitions:
            out.extend(definition.walk())
        return out


def supported(language: str | None) -> bool:
    return language in SPECS


def outline(language: str, source: str) -> Outline:
    """The definitions and other top-level statements of ``source``."""
    spec = SPECS[language]
    tree = treesitter.parse(language, source.encode("utf-8"))
    lines = source.split("\n")
    definitions: list[Definition] = []
    statements: list[Statement] = []
    for child in tree.root_node.named_children:
        found = _collect_one(child, spec, (), lines)
        if found:
            definitions.extend(found)
        else:
            statements.append(Statement(child.start_point[0], _end_row(child), _kind(child, spec)))
    return Outline(language, tuple(definitions), tuple(statements))


_PACKAGE_NODES = frozenset({"package_clause", "package_declaration"})


def _kind(node: Any, spec: LangSpec) -> str:
    if node.type in spec.imports:
        return "import"
    if node.type in _PACKAGE_NODES:  # Go, Java: imports go after it
        return "package"
    return "comment" if "comment" in node.type else "other"


def _collect_one(node: Any, spec: LangSpec, scope: tuple[str, ...], lines: list[str]) -> list:
    definition = _as_definition(node, spec, scope, lines)
    if definition is not None:
        return [definition]
    if node.type in spec.functions or node.type in spec.imports:
        return []
    found: list[Definition] = []
    for child in node.named_children:  # transparent nodes: namespaces, `if` blocks
        found.extend(_collect_one(child, spec, scope, lines))
    return found


def _as_definition(
    node: Any, spec: LangSpec, scope: tuple[str, ...], lines: list[str]
) -> Definition | None:
    outer = node
    if node.type in spec.wrappers:
        inner = _wrapped(node, spec)
        if inner is None:
            return None
        node = inner
    if node.type in spec.variables:
        name = _variable_function_name(node)
        extra: tuple[str, ...] = ()
    elif node.type in spec.functions or node.type in spec.classes:
        extra, name = _name(node)
    else:
        return None
    if not name:
        return None
    start, inner_start = outer.start_point[0], node.start_point[0]
    wrapped = outer is not node
    prefix = lines[inner_start][: node.start_point[1]] if wrapped and start == inner_start else ""
    end = _end_row(outer)
    before = lines[start][: outer.start_point[1]]
    after = lines[end][outer.end_point[1] :] if end == outer.end_point[0] else ""
    after = re.sub(r"\s*(//|#).*$", "", after)
    inline = bool(before.strip()) or bool(after.strip(" \t;,"))
    kind = "class" if node.type in spec.classes else "function"
    own_scope = (*scope, *extra)
    members: tuple[Definition, ...] = ()
    # Members: a class's methods; a function's nested functions.
    body = node.child_by_field_name("body") or (node if kind == "class" else None)
    if body is not None:
        members = tuple(
            d
            for child in body.named_children
            for d in _collect_one(child, spec, (*own_scope, name), lines)
        )
    return Definition(
        name=name,
        scope=own_scope,
        kind=kind,
        start=start,
        inner_start=inner_start,
        end=end,
        prefix=prefix.strip(),
        decorated=start != inner_start,
        has_error=outer.has_error or _misindented(node),
        inline=inline,
        members=members,
    )


def _misindented(node: Any) -> bool:
    """A Python body that is empty, or starts on a later line no deeper than its ``def``
    (a body that was only a comment: tree-sitter may take what follows as the body)."""
    if node.type not in ("function_definition", "class_definition"):
        return False
    body = node.child_by_field_name("body")
    if body is None or not body.named_children:  # `def f():` with only a comment under it
        return True
    if body.start_point[0] == node.start_point[0]:
        return False
    return body.start_point[1] <= node.start_point[1]


def _wrapped(node: Any, spec: LangSpec) -> Any:
    for name in ("definition", "declaration"):
        inner = node.child_by_field_name(name)
        if inner is not None:
            return inner
    kinds = spec.functions | spec.classes | spec.variables
    return next((c for c in node.named_children if c.type in kinds), None)


def _end_row(node: Any) -> int:
    row, column = node.end_point
    return row - 1 if column == 0 and row > node.start_point[0] else row


def _text(node: Any) -> str:
    return node.text.decode("utf-8", "replace") if node is not None else ""


def _name(node: Any) -> tuple[tuple[str, ...], str]:
    """(extra scope, name) of a definition node."""
    if node.type == "impl_item":
        return (), _first_word(_text(node.child_by_field_name("type")))
    if node.type == "method_declaration" and node.child_by_field_name("receiver") is not None:
        receiver = _text(node.child_by_field_name("receiver"))
        match = re.match(r"\(\s*(?:\w+\s+)?\*?\s*(\w+)", receiver)
        return ((match.group(1),) if match else ()), _text(node.child_by_field_name("name"))
    if node.type == "type_declaration":
        spec = next((c for c in node.named_children if c.type == "type_spec"), None)
        return (), _text(spec.child_by_field_name("name")) if spec is not None else ""
    if node.type == "function_definition" and node.child_by_field_name("declarator") is not None:
        return _declarator_name(node.child_by_field_name("declarator"))
    return (), _text(node.child_by_field_name("name"))


def _declarator_name(node: Any) -> tuple[tuple[str, ...], str]:
    """C/C++: follow declarators down to the identifier; ``A::f`` gives scope ("A",)."""
    while node is not None and node.child_by_field_name("declarator") is not None:
        node = node.child_by_field_name("declarator")
    text = _text(node)
    if "::" in text:
        parts = [p for p in text.split("::") if p]
        return tuple(_first_word(p) for p in parts[:-1]), parts[-1] if parts else ""
    return (), text


def _first_word(text: str) -> str:
    match = re.search(r"[A-Za-z_]\w*", text)
    return match.group(0) if match else ""


_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function", "class"}
)


def _variable_function_name(node: Any) -> str:
    for child in node.named_children:
        if child.type == "variable_declarator":
            value = child.child_by_field_name("value")
            if value is not None and value.type in _FUNCTION_VALUES:
                return _text(child.child_by_field_name("name"))
    return ""
