"""Every other language the repo map reads (Ruby, C, C++...) and test commands no
ecosystem knows (``make test``): the command runs as written, judged by its exit code."""

from __future__ import annotations

from pathlib import Path

from ..sandbox.command import TestCommand
from .base import Ecosystem, NewTest, slug_name

_TEST_MARKERS = ("test_", "_test.", ".test.", ".spec.", "/tests/", "/test/", "/spec/")


class Other(Ecosystem):
    name = ""
    # toolchains of languages with no module of their own, shown read-only all the same
    home_toolchains = (
        ".rbenv",
        ".asdf/installs",
        ".asdf/shims",
        ".deno/bin",
        ".bun/bin",
        ".elan",
        ".ghcup/bin",
        ".juliaup",
    )

    def reports_per_test(self, command: TestCommand) -> bool:
        return False

    def is_test_path(self, path: str) -> bool:
        name = "/" + path
        return any(marker in name for marker in _TEST_MARKERS)

    def new_test(self, root: Path, source: str | None, slug: str, tier: str) -> NewTest:
        from ..treesitter import language_for_path

        folder = next((d for d in ("tests", "test", "spec") if (root / d).is_dir()), "tests")
        suffix = Path(source).suffix if source else ".txt"
        language = (language_for_path(source) if source else None) or "text"
        path = f"{folder}/swc_{slug_name(slug)}_{tier}_test{suffix}"
        return NewTest(path, f"{language} (the project's test framework)", language)

    def ran_any_test(self, output: str, command: TestCommand) -> bool | None:
        return None


OTHER = Other()
