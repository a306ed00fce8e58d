"""The README and the documentation site: short front page, links that resolve, module
paths that exist, generated reference pages that match the code, dependencies that match
the imports."""

from __future__ import annotations

import importlib.util
import re
import sys
import unicodedata
from pathlib import Path
from types import ModuleType

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 250


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


# --- reading markdown ---------------------------------------------------------------------

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (a fence closes with the same or more marks)."""
    lines, fence = [], None
    for line in text.splitlines():
        found = _FENCE.match(line)
        if fence is None and found:
            fence = found.group(1)
        elif (
            fence is not None
            and found
            and found.group(1).startswith(fence)
            and line.strip() == found.group(1)
        ):
            fence = None
        elif fence is None:
            lines.append(line)
    return lines


def _without_code_spans(line: str) -> str:
    return re.sub(r"(`+).+?\1", "", line)


_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def links(text: str) -> list[str]:
    """Every inline link and image target, outside code."""
    body = "\n".join(_without_code_spans(line) for line in prose_lines(text))
    return _LINK.findall(body)


def heading_texts(text: str) -> list[str]:
    out = []
    for line in prose_lines(text):
        found = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if found:
            plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", found.group(1))  # link text
            out.append(plain.replace("`", "").replace("*", ""))
    return out


def mkdocs_slug(text: str) -> str:
    """Python-Markdown's ``toc`` slug, which mkdocs uses for heading anchors."""
    value = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def github_slug(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors a page has, as mkdocs makes them (duplicates get ``_1``, ``_2``) and,
    for the README, as GitHub does (``-1``, ``-2``)."""
    text = path.read_text(encoding="utf-8")
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in heading_texts(text):
        for slug, sep in ((mkdocs_slug(heading), "_"), (github_slug(heading), "-")):
            key = sep + slug
            count = seen.get(key, 0)
            found.add(slug if count == 0 else f"{slug}{sep}{count}")
            seen[key] = count + 1
    found |= set(re.findall(r"<a (?:name|id)=\"([^\"]+)\"", text))
    return found


def broken_links(path: Path) -> list[str]:
    problems = []
    for target in links(path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        where = (path.parent / file_part).resolve() if file_part else path
        if not where.exists():
            problems.append(f"{_rel(path)}: {target}: no such file")
            continue
        if path.is_relative_to(DOCS) and not where.is_relative_to(DOCS):
            problems.append(f"{_rel(path)}: {target}: outside docs/, the site cannot link it")
            continue
        if anchor and where.suffix == ".md" and anchor not in anchors(where):
            problems.append(f"{_rel(path)}: {target}: no heading makes #{anchor}")
    return problems


# --- the front page -----------------------------------------------------------------------


def test_readme_is_a_short_front_page() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"
    headings = heading_texts(README.read_text(encoding="utf-8"))
    for needed in (
        "Install",
        "Quickstart, offline",
        "Real providers",
        "Fixing a GitHub issue",
        "The GitHub Action",
        "Commands",
        "Exit codes",
        "Documentation",
    ):
        assert needed in headings


def test_readme_table_of_commands_names_every_command() -> None:
    from swcollab.cli import cli

    readme = README.read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"| `swc {name}` |" in readme, f"swc {name} is missing from README Commands"


def test_install_page_has_the_readme_install_command() -> None:
    def install(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("CMAKE_ARGS=")]

    readme = install(README.read_text(encoding="utf-8"))
    assert len(readme) == 1
    assert install((DOCS / "install.md").read_text(encoding="utf-8")) == readme


# --- links and paths ----------------------------------------------------------------------


@pytest.mark.parametrize("path", markdown_files(), ids=_rel)
def test_every_link_resolves(path: Path) -> None:
    assert broken_links(path) == []


def test_the_link_check_catches_a_broken_file_and_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## The `swc fix` run: how\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#the-swc-fix-run-how) [ok](#page) [web](https://x.invalid)\n"
        "[gone](missing.md) [bad](other.md#nowhere) [self](#nope)\n"
        "```\n[in code](ignored.md)\n```\n"
    )
    assert broken_links(page) == [
        f"{page}: missing.md: no such file",
        f"{page}: other.md#nowhere: no heading makes #nowhere",
        f"{page}: #nope: no heading makes #nope",
    ]


def test_slugs_match_mkdocs_and_github() -> None:
    heading = "Branches and pull requests out: `--push`, `--pr`, `--comment`"
    plain = heading_texts(f"## {heading}\n")[0]
    assert mkdocs_slug(plain) == "branches-and-pull-requests-out-push-pr-comment"
    assert github_slug(plain) == "branches-and-pull-requests-out---push---pr---comment"


_REPO_PATH = re.compile(r"`((?:swcollab|tests|scripts|benchmarks|completions)/[\w./-]*)`")


def named_paths(text: str) -> list[str]:
    """Repository paths named in code spans, ``<...>`` templates and globs left out."""
    return [p for p in _REPO_PATH.findall(text) if not re.search(r"[<*]", p)]


@pytest.mark.parametrize("path", sorted(DOCS.rglob("*.md")), ids=_rel)
def test_every_module_path_named_exists(path: Path) -> None:
    """The design pages name modules so this fails when one is renamed or moved."""
    text = path.read_text(encoding="utf-8")
    missing = [p for p in named_paths(text) if not (ROOT / p.split("::")[0]).exists()]
    assert missing == [], f"{_rel(path)} names paths that do not exist: {missing}"


def test_design_pages_name_the_modules_they_describe() -> None:
    architecture = (DOCS / "design" / "architecture.md").read_text(encoding="utf-8")
    assert len(named_paths(architecture)) >= 30
    assert named_paths("see `swcollab/engine/gone.py` and `tests/<x>.py`") == [
        "swcollab/engine/gone.py"
    ]


# --- generated reference ------------------------------------------------------------------


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.e2e  # runs `swc ... --help` for every command as a real process
def test_command_reference_matches_every_help() -> None:
    script = _script("cli_reference")
    page = DOCS / "reference" / "cli.md"
    assert script.main(["--check", str(page)]) == 0, "run python scripts/cli_reference.py"
    text = page.read_text(encoding="utf-8")
    for path in script.command_paths():
        assert f"## `{' '.join(('swc', *path))}`" in text


@pytest.mark.e2e  # runs swc commands through the loopback model server
def test_json_reference_matches_what_commands_print() -> None:
    """Runs each --json command for real (loopback model server, temporary repository)."""
    script = _script("cli_reference")
    assert script.main(["--check", str(DOCS / "reference" / "json.md")]) == 0, (
        "run python scripts/cli_reference.py"
    )


@pytest.mark.e2e  # runs the generator's --help processes
def test_reference_check_detects_stale_help(tmp_path: Path) -> None:
    script = _script("cli_reference")
    stale = tmp_path / "cli.md"
    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    stale.write_text(text.replace("Show the version and exit.", "Show the versoin."))
    assert script.main(["--check", str(stale)]) == 1
    assert script.main([str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == text


def test_configuration_and_exit_code_pages_match_the_code() -> None:
    from swcollab.config import KEYS

    script = _script("config_table")
    files = [README, DOCS / "reference" / "configuration.md", DOCS / "reference" / "exit-codes.md"]
    assert script.main(["--check", *map(str, files)]) == 0, "run python scripts/config_table.py"
    table = files[1].read_text(encoding="utf-8")
    for key in KEYS.values():
        assert f"| `{key.name}` | `{key.env_var}` |" in table


# --- dependencies -------------------------------------------------------------------------

# Each runtime dependency of pyproject.toml, by the module swc imports it as.
RUNTIME_IMPORTS = {
    "click": "click",
    "rich": "rich",
    "litellm": "litellm",
    "httpx": "httpx",
    "jinja2": "jinja2",
    "tree-sitter": "tree_sitter",
    "tree-sitter-language-pack": "tree_sitter_language_pack",
    "numpy": "numpy",
    "tomli": "tomli",
}


def _imports_of_package() -> set[str]:
    found: set[str] = set()
    for source in (ROOT / "swcollab").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        found |= set(re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", text, re.M))
    return found


def test_runtime_dependencies_are_what_swc_imports() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {
        re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower()  # type: ignore[union-attr]
        for d in project["dependencies"]
    }
    assert names == set(RUNTIME_IMPORTS), (
        "a dependency changed: say why in docs/design/dependencies.md and update RUNTIME_IMPORTS"
    )
    imported = _imports_of_package()
    unused = sorted(name for name, module in RUNTIME_IMPORTS.items() if module not in imported)
    assert unused == []
    for dev_only in ("git", "networkx", "scipy"):
        assert dev_only not in imported, f"swcollab imports {dev_only}"
    page = (DOCS / "design" / "dependencies.md").read_text(encoding="utf-8")
    for name in names:
        assert f"| `{name}`" in page, f"{name} is not explained in docs/design/dependencies.md"
