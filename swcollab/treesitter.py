"""Shared tree-sitter access: which language a file is, and a cached parser for it.

Grammars come from ``tree-sitter-language-pack<1``, which bundles them (1.x downloads
them at run time, which fails offline). Imported lazily: nothing here runs at import.
"""

from __future__ import annotations

from functools import cache
from pathlib import PurePath
from typing import Any

EXTENSION_LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".rb": "ruby",
}


def language_for_path(path: str | PurePath) -> str | None:
    """The tree-sitter language name for a file, or None when swc does not parse it."""
    if isinstance(path, PurePath):
        return EXTENSION_LANGUAGES.get(path.suffix.lower())
    # Plain string handling: the repo map calls this for every tracked file.
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1:
        return None  # no suffix, or a dot file such as ".py" (PurePath agrees)
    return EXTENSION_LANGUAGES.get(name[dot:].lower())


@cache
def get_parser(language: str) -> Any:
    from tree_sitter_language_pack import get_parser as _get_parser

    return _get_parser(language)  # type: ignore[arg-type]


@cache
def get_language(language: str) -> Any:
    from tree_sitter_language_pack import get_language as _get_language

    return _get_language(language)  # type: ignore[arg-type]


def parse(language: str, source: bytes) -> Any:
    """Parse ``source``; tree-sitter recovers from syntax errors, so this never raises on them."""
    return get_parser(language).parse(source)
