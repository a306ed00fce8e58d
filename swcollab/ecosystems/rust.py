"""Rust: ``cargo test`` in a crate or a workspace (``Cargo.toml``), libtest's results.

A new test goes where ``cargo test`` runs it after the merge: the package's own
``tests/`` for a library (an integration test using the crate's public items), or a
``#[cfg(test)]`` module of the crate (a file beside its root, declared there) for a
binary crate and for a library whose tests all live in its source files. Unit tests in
source files guard a patch like any test file. One cargo target directory serves every
attempt of a run (``before_run`` keeps cargo's freshness checks right across worktrees).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..sandbox.command import TestCommand
from .base import Ecosystem, Invocation, NewTest, ReadRun, read_head, resolved, slug_name
from .cargo import Crate, crate_at, crate_of, crates, read_libtest

if TYPE_CHECKING:
    from collections.abc import Callable

_RAN = re.compile(r"^(running \d+ tests?$|test result: )", re.M)
_UNIT_TESTS = "#[cfg(test)]"
# Files not touched by any attempt of the run get this modification time, older than
# anything built: cargo then reuses what an earlier worktree built from the same bytes.
UNCHANGED_MTIME = 946_684_800  # 2000-01-01
TOUCHED_LIST = "rust-touched.txt"


class Rust(Ecosystem):
    name = "rust"
    languages = frozenset({"rust"})
    manifests = ("Cargo.toml",)
    programs = frozenset({"cargo"})
    home_toolchains = (".rustup", ".cargo/bin", ".cargo/registry", ".cargo/git")
    toolchain_vars = ("RUSTUP_HOME",)
    setup_hint = (
        "run `cargo fetch` in your checkout (the sandbox has no network: the dependencies "
        "must be in ~/.cargo/registry)"
    )
    example_test_cmd = "cargo test"

    def toolchain_dirs(self, env: Mapping[str, str], home: Path | None) -> list[Path]:
        found = super().toolchain_dirs(env, home)
        cargo = resolved(env.get("CARGO_HOME"))
        return found + ([cargo / "bin", cargo / "registry", cargo / "git"] if cargo else [])

    def detect(
        self, root: Path, checkout: Path, environ: Mapping[str, str] | None
    ) -> TestCommand | None:
        if not (root / "Cargo.toml").is_file():
            return None
        kind = "a workspace" if crate_at(root, "") is None else "Cargo.toml"
        return TestCommand(
            ("cargo", "test"), f"detected: cargo test (found {kind})", ecosystem="rust"
        )

    def reports_per_test(self, command: TestCommand) -> bool:
        return (
            not command.shell
            and Path(command.argv[0]).name == "cargo"
            and "test" in command.argv[1:3]
        )

    # ----------------------------------------------------------------- test files

    def is_test_path(self, path: str) -> bool:
        return path.endswith(".rs") and "/tests/" in "/" + path

    def holds_tests(self, path: str, text: Callable[[], str | None]) -> bool:
        if self.is_test_path(path):
            return True
        return path.endswith(".rs") and _UNIT_TESTS in (text() or "")

    def tests_part(self, path: str, text: str) -> str | None:
        """From the first ``#[cfg(test)]`` on: where a source file's unit tests live."""
        if self.is_test_path(path):
            return None
        at = text.find(_UNIT_TESTS)
        return text[at:] if at >= 0 else ""

    def new_test(self, root: Path, source: str | None, slug: str, tier: str) -> NewTest:
        crate = crate_of(root, source) if source else None
        crate = crate or crate_at(root, "") or next(iter(crates(root)), None)
        name = f"swc_{slug_name(slug)}_{tier}"
        if crate is None:
            return NewTest(f"tests/{name}.rs", "Rust `#[test]`", "rust")
        if crate.lib is not None and not _unit_tests_only(root, crate):
            return _integration_test(root, crate, name)
        return _module_test(root, crate, source, name)

    # ----------------------------------------------------------------- running

    def invocation(
        self, command: TestCommand, selection: Sequence[str], root: Path, out: Path
    ) -> Invocation:
        """``cargo test --no-fail-fast`` and the targets holding the selected files: a
        file of ``tests/`` is its ``--test``, a source file its crate's ``--lib`` or
        ``--bin`` (all of the target's tests run; the results are read per file)."""
        argv = list(command.argv)
        if command.shell or Path(argv[0]).name != "cargo" or "test" not in argv[1:3]:
            return super().invocation(command, selection, root, out)
        cut = argv.index("--") if "--" in argv else len(argv)
        extra = [] if "--no-fail-fast" in argv else ["--no-fail-fast"]
        extra += _selection(root, selection) if selection else []
        return Invocation((*argv[:cut], *extra, *argv[cut:]), cwd=command.project)

    def read(
        self, command: TestCommand, output: str, out: Path, root: Path, selection: Sequence[str]
    ) -> ReadRun:
        packages = crates(root, command.project)
        return ReadRun(read_libtest(output, packages, root, selection, command.project), output)

    def run_env(
        self, env: dict[str, str], root: Path, command: TestCommand | None, cache: Path | None
    ) -> None:
        """One target directory for the run's attempts; no network (the registry's
        crates are read where the checkout's builds put them); short panics."""
        if cache is not None:
            env["CARGO_TARGET_DIR"] = str(cache / "cargo-target")
        env.setdefault("CARGO_NET_OFFLINE", "true")
        env["RUST_BACKTRACE"] = "0"
        env["CARGO_TERM_COLOR"] = "never"

    def before_run(self, root: Path, command: TestCommand, cache: Path | None) -> None:
        """Files no attempt of the run has changed get an old modification time, the
        others the time of now: cargo, which judges freshness by modification times,
        reuses what an earlier worktree built from the same bytes and rebuilds the rest."""
        if cache is not None:
            keep_fresh(root, cache / TOUCHED_LIST)

    # ----------------------------------------------------------------- diagnosis

    def ran_any_test(self, output: str, command: TestCommand) -> bool | None:
        return bool(_RAN.search(output))

    def probe(self, command: TestCommand) -> TestCommand | None:
        argv = command.argv
        if command.shell or "test" not in argv[1:3]:
            return None
        cut = argv.index("--") if "--" in argv else len(argv)
        return replace(command, argv=(*argv[:cut], "--no-run"))


RUST = Rust()


def _unit_tests_only(root: Path, crate: Crate) -> bool:
    """A library with no ``tests/`` whose source files hold ``#[cfg(test)]`` modules."""
    if (root / crate.path("tests")).is_dir():
        return False
    return _unit_test_example(root, crate)[0] != ""


def _integration_test(root: Path, crate: Crate, name: str) -> NewTest:
    examples = sorted((root / crate.path("tests")).glob("*.rs"))
    example_path = examples[0].relative_to(root).as_posix() if examples else ""
    notes = (
        f"It is an integration test of the package `{crate.name}` (in its tests/ "
        f"directory): use the crate's public items as `{crate.lib}::...` "
        f"(`use {crate.lib}::...;`), and write `#[test]` functions."
    )
    return NewTest(
        crate.path(f"tests/{name}.rs"),
        "Rust `#[test]`",
        "rust",
        notes=notes,
        example=read_head(root, example_path) if example_path else "",
        example_path=example_path,
    )


def _module_test(root: Path, crate: Crate, source: str | None, name: str) -> NewTest:
    """A ``#[cfg(test)]`` module file beside the crate root it is declared in."""
    crate_root = _crate_root(crate, source)
    folder = Path(crate_root).parent.as_posix()
    if folder.endswith("src/bin"):  # src/bin/*.rs are binaries of their own: not there
        file = f"{folder}/swc_tests/{name}.rs"
        line = f'#[cfg(test)] #[path = "swc_tests/{name}.rs"] mod {name};'
    else:
        file, line = f"{folder}/{name}.rs", f"#[cfg(test)] mod {name};"
    example_path, example = _unit_test_example(root, crate)
    notes = (
        f"It is a module of the crate compiled only for its tests (swc declares it in "
        f"{crate.path(crate_root)}): reach the crate's items, private ones too, with "
        "`use crate::...;`, and write `#[test]` functions at the top of the file."
    )
    return NewTest(
        crate.path(file),
        "Rust `#[test]`",
        "rust",
        notes=notes,
        example=example,
        example_path=example_path,
        attach=((crate.path(crate_root), line),),
    )


def _crate_root(crate: Crate, source: str | None) -> str:
    """The root file (relative to the package) of the target ``source`` belongs to."""
    inside = crate.within(source) if source else None
    for _name, file in crate.bins:
        if inside == file:
            return file
    if crate.lib is not None:
        return "src/lib.rs"
    return crate.bins[0][1] if crate.bins else "src/main.rs"


def _unit_test_example(root: Path, crate: Crate) -> tuple[str, str]:
    """(path, text) of the first ``#[cfg(test)]`` module in the package's sources."""
    from ..repofiles import read_regular_text

    for file in sorted((root / crate.path("src")).rglob("*.rs"))[:200]:
        rel = file.relative_to(root).as_posix()
        text = read_regular_text(root, rel, 200_000) or ""
        at = text.find(_UNIT_TESTS)
        if at >= 0:
            lines = text[at:].splitlines()[:40]
            return rel, "\n".join(lines) + "\n"
    return "", ""


def _selection(root: Path, selection: Sequence[str]) -> list[str]:
    """``-p`` and the target options that run the selected files' tests."""
    packages: list[str] = []
    targets: list[str] = []
    for item in selection:
        file = item.split("::", 1)[0]
        crate = crate_of(root, file)
        inside = crate.within(file) if crate is not None else None
        if crate is None or inside is None or not file.endswith(".rs"):
            continue
        packages += ["-p", crate.name]
        if inside.startswith("tests/") and inside.count("/") == 1:
            targets += ["--test", Path(inside).stem]
            continue
        binary = next((name for name, root_file in crate.bins if root_file == inside), None)
        if binary is not None:
            targets += ["--bin", binary]
        else:
            targets += ["--lib"] if crate.lib is not None else ["--bins"]
    return _unique_options(packages) + _unique_options(targets)


def _unique_options(options: list[str]) -> list[str]:
    """Target options without repeats (``--test x`` counts as one)."""
    unique: list[tuple[str, ...]] = []
    index = 0
    while index < len(options):
        option = options[index]
        takes_value = option in ("--test", "--bin", "-p")
        item = tuple(options[index : index + 2]) if takes_value else (option,)
        if item not in unique:
            unique.append(item)
        index += len(item)
    return [part for item in unique for part in item]


def keep_fresh(root: Path, touched_list: Path) -> None:
    """Give every tracked file that no run in the list's worktrees changed an old
    modification time, and every file one did change the time of now (its bytes may
    differ from what an earlier worktree built); add this worktree's changes to the list
    first."""
    from ..gitrepo import run_git, tracked_files

    status = run_git(
        ["status", "--porcelain", "-z", "--untracked-files=all", "--no-renames"], root
    ).stdout
    changed = {entry[3:] for entry in status.split("\0") if len(entry) > 3}
    known = set()
    if touched_list.exists():
        known = set(touched_list.read_text(encoding="utf-8").splitlines())
    touched = known | changed
    if touched != known:
        touched_list.write_text("".join(f"{p}\n" for p in sorted(touched)), encoding="utf-8")
    for rel in dict.fromkeys([*tracked_files(root), *changed]):
        path = root / rel
        when = None if rel in touched else (UNCHANGED_MTIME, UNCHANGED_MTIME)
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink():
                os.utime(path, when)
