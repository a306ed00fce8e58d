"""Rust's crates as cargo sees them: packages, workspaces, targets; and libtest's output.

``cargo test`` prints, for each test binary, a ``Running <file> (<binary>)`` line, then one
``test <name> ... ok|FAILED|ignored`` line a test, then each failure's output under
``---- <name> stdout ----``. The file is relative to its package, and the binary is
named after its target: both together say which package of a workspace ran.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..sandbox.results import TestResult
from .base import clip_message, under

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_RUNNING = re.compile(r"^\s+Running (?:unittests )?(\S+) \((.+?)\)\s*$")
_DOC_TESTS = re.compile(r"^\s+Doc-tests (\S+)\s*$")
_TEST_LINE = re.compile(r"^test (.+?) \.\.\. (ok|FAILED|ignored)\b")
_FAILURE = re.compile(r"^---- (.+?) stdout ----$")
_NOT_COMPILED = re.compile(r"^error: could not compile `([^`]+)` \(([^)]*)\)")
_STATUS = {"ok": "passed", "FAILED": "failed", "ignored": "skipped"}


@dataclass(frozen=True)
class Crate:
    """One package: its directory (relative to the repository), its name, its library
    target's name (None: a binary crate) and its binaries' names and root files."""

    dir: str
    name: str
    lib: str | None
    bins: tuple[tuple[str, str], ...]  # (name, root file relative to the package)

    def path(self, rel: str) -> str:
        return f"{self.dir}/{rel}" if self.dir else rel

    def within(self, path: str) -> str | None:
        """``path`` relative to the package (None: not in it)."""
        if not self.dir:
            return path
        return path[len(self.dir) + 1 :] if path.startswith(self.dir + "/") else None


def read_manifest(path: Path) -> dict | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def crate_at(root: Path, rel: str) -> Crate | None:
    """The package whose ``Cargo.toml`` is in the directory ``rel`` (None: none there)."""
    data = read_manifest(root / rel / "Cargo.toml")
    package = data.get("package") if data else None
    if not isinstance(package, dict) or not isinstance(package.get("name"), str):
        return None
    name = package["name"]
    folder = root / rel
    lib_table = data.get("lib") if isinstance(data.get("lib"), dict) else {}
    has_lib = bool(lib_table) or (folder / "src" / "lib.rs").is_file()
    lib = (lib_table.get("name") or name).replace("-", "_") if has_lib else None
    bins: list[tuple[str, str]] = []
    for table in data.get("bin") or []:
        if isinstance(table, dict) and isinstance(table.get("name"), str):
            bins.append((table["name"], str(table.get("path") or f"src/bin/{table['name']}.rs")))
    if (folder / "src" / "main.rs").is_file() and not any(b[1] == "src/main.rs" for b in bins):
        bins.append((name, "src/main.rs"))
    for extra in sorted((folder / "src" / "bin").glob("*.rs")):
        if not any(b[0] == extra.stem for b in bins):
            bins.append((extra.stem, f"src/bin/{extra.name}"))
    return Crate(rel, name, lib, tuple(bins))


def crates(root: Path, top: str = "") -> list[Crate]:
    """The packages of the crate or workspace whose manifest is in ``top``."""
    found = [c for c in [crate_at(root, top)] if c is not None]
    data = read_manifest(root / top / "Cargo.toml") or {}
    workspace = data.get("workspace") if isinstance(data.get("workspace"), dict) else {}
    base = root / top
    excluded = {str(e) for e in workspace.get("exclude") or []}
    for pattern in workspace.get("members") or []:
        if not isinstance(pattern, str):
            continue
        for folder in sorted(base.glob(pattern)):
            rel = folder.relative_to(base).as_posix()
            if rel in excluded or not (folder / "Cargo.toml").is_file():
                continue
            crate = crate_at(root, f"{top}/{rel}" if top else rel)
            if crate is not None and crate not in found:
                found.append(crate)
    return found


def crate_of(root: Path, path: str) -> Crate | None:
    """The package a file belongs to: the nearest directory above it with a package."""
    parent = Path(path).parent
    for folder in [parent, *parent.parents]:
        rel = "" if folder.as_posix() == "." else folder.as_posix()
        crate = crate_at(root, rel) if (root / rel / "Cargo.toml").is_file() else None
        if crate is not None:
            return crate
    return None


# ---------------------------------------------------------------- libtest's output


def read_libtest(
    output: str, packages: Sequence[Crate], root: Path, selection: Sequence[str], top: str = ""
) -> tuple[TestResult, ...]:
    """Each test's result from ``cargo test``'s output (run in the directory ``top``); a
    target that did not compile is an error of the selected files it holds."""
    results: dict[str, TestResult] = {}
    messages = _failure_messages(output)
    place: tuple[Crate | None, str] = (None, "")  # the running binary's package and file
    for line in output.splitlines():
        running = _RUNNING.match(line)
        doc = _DOC_TESTS.match(line)
        if running:
            place = _binary_place(root, running.group(1), running.group(2), packages)
            continue
        if doc:
            place = (next((c for c in packages if c.lib == doc.group(1)), None), "")
            continue
        test = _TEST_LINE.match(line)
        if test is None or place[0] is None:
            continue
        crate, file = place
        name, status = test.group(1), _STATUS[test.group(2)]
        if file:
            where, short = crate.path(_module_file(root, crate, file, name)), name
        else:  # a doc-test: "src/lib.rs - add (line 4)", relative to where cargo ran
            doc_file, _, short = name.partition(" - ")
            where = under(top, doc_file)
        result = TestResult(f"{where}::{short}", status, messages.get(name, ""), where)
        results[result.test_id] = result
    for result in _not_compiled(output, packages, selection):
        results.setdefault(result.test_id, result)
    return tuple(results.values())


def _binary_place(
    root: Path, file: str, binary: str, packages: Sequence[Crate]
) -> tuple[Crate | None, str]:
    """The package of a test binary: its target's name is the binary's, less the hash,
    and the file (relative to the package) is that package's."""
    target = Path(binary).name.rsplit("-", 1)[0]
    for crate in packages:
        if not (root / crate.path(file)).is_file():
            continue
        if file.startswith("tests/") and Path(file).stem == target:
            return crate, file
        if crate.lib == target or any(name == target for name, _ in crate.bins):
            return crate, file
    return (packages[0] if packages else None), file


def _module_file(root: Path, crate: Crate, file: str, name: str) -> str:
    """The file of a unit test ``a::b::tests::t`` under the crate root ``file``: the deepest
    of ``a.rs``, ``a/mod.rs``, ``a/b.rs``... that exists (the rest are inline modules)."""
    folder = Path(file).parent
    current = file
    for part in name.split("::")[:-1]:
        found = next(
            (
                candidate
                for candidate in (folder / f"{part}.rs", folder / part / "mod.rs")
                if (root / crate.path(candidate.as_posix())).is_file()
            ),
            None,
        )
        if found is None:
            break
        current = found.as_posix()
        folder = folder / part
    return current


def _failure_messages(output: str) -> dict[str, str]:
    """Each failed test's own output (its panic message), by test name."""
    messages: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        head = _FAILURE.match(line)
        if head:
            current = messages.setdefault(head.group(1), [])
        elif current is not None and (line.startswith(("failures:", "test result:"))):
            current = None
        elif current is not None:
            current.append(line)
    return {name: clip_message("\n".join(lines).strip()) for name, lines in messages.items()}


def _not_compiled(
    output: str, packages: Sequence[Crate], selection: Sequence[str]
) -> list[TestResult]:
    """Selected files whose test target did not compile, with the compiler's errors."""
    errors = _compiler_errors(output)
    found: list[TestResult] = []
    for line in output.splitlines():
        failed = _NOT_COMPILED.match(line)
        if failed is None:
            continue
        crate = next((c for c in packages if c.name == failed.group(1)), None)
        target = re.match(r'test "([^"]+)"', failed.group(2))
        files = [s.split("::", 1)[0] for s in selection]
        if crate is not None and target is not None:
            hit = [f for f in files if f == crate.path(f"tests/{target.group(1)}.rs")]
        else:
            hit = [f for f in files if crate is None or crate.within(f) is not None]
        found += [TestResult(f, "error", errors or line, f) for f in dict.fromkeys(hit)]
    return found


def _compiler_errors(output: str) -> str:
    """The compiler's error messages (each ``error...:`` block to its blank line), clipped."""
    keep: list[str] = []
    inside = False
    for line in output.splitlines():
        if line.startswith("error") and not line.startswith("error: could not compile"):
            inside = True
        elif not line.strip():
            inside = False
        if inside:
            keep.append(line)
    return clip_message("\n".join(keep).strip(), 2000)
