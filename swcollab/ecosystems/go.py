"""Go: ``go test`` in a module (``go.mod``), each test's result from ``go test -json``.

A new test is a ``_test.go`` file in the package of the code it tests, so ``go test
./...`` runs it after the merge; names it shares with the package's other files (a test
another tier kept, a helper) get the tier's suffix, since one package cannot declare a
name twice. One build cache serves every attempt of a run.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..sandbox.command import TestCommand
from ..sandbox.results import TestResult
from .base import (
    Ecosystem,
    Invocation,
    NewTest,
    ReadRun,
    clip_message,
    read_head,
    resolved,
    slug_name,
    under,
)

_RAN = re.compile(r"^(=== RUN|--- (PASS|FAIL|SKIP)|ok\s+\S+|PASS$|FAIL\s+\S+\s+[\d.]+s$)", re.M)
_PACKAGE = re.compile(r"^package\s+(\w+)", re.M)
_DECLARED = re.compile(r"^(?:func|type|var|const)\s+(\w+)", re.M)
_TEST_FUNC = re.compile(r"^func\s+(Test\w*)\s*\(", re.M)
_MODULE = re.compile(r"^module\s+(\S+)", re.M)
_BUILD_FAILED = re.compile(r"^FAIL\s+(\S+)\s+\[(build|setup) failed\]", re.M)
_STATUS = {"pass": "passed", "fail": "failed", "skip": "skipped"}


class Go(Ecosystem):
    name = "go"
    languages = frozenset({"go"})
    manifests = ("go.mod",)
    programs = frozenset({"go"})
    home_toolchains = ("go/bin", "go/pkg/mod", "sdk")
    toolchain_vars = ("GOROOT", "GOMODCACHE")
    setup_hint = (
        "run `go mod download` in your checkout (the sandbox has no network: the modules "
        "must be in the module cache)"
    )
    example_test_cmd = "go test ./..."

    def toolchain_dirs(self, env: Mapping[str, str], home: Path | None) -> list[Path]:
        found = super().toolchain_dirs(env, home)
        gopath = resolved((env.get("GOPATH") or "").split(os.pathsep)[0])
        return found + ([gopath / "bin", gopath / "pkg" / "mod"] if gopath else [])

    def detect(
        self, root: Path, checkout: Path, environ: Mapping[str, str] | None
    ) -> TestCommand | None:
        if not (root / "go.mod").is_file():
            return None
        source = "detected: go test (found go.mod)"
        return TestCommand(("go", "test", "./..."), source, ecosystem="go")

    def reports_per_test(self, command: TestCommand) -> bool:
        return (
            not command.shell and Path(command.argv[0]).name == "go" and "test" in command.argv[1:2]
        )

    # ----------------------------------------------------------------- test files

    def is_test_path(self, path: str) -> bool:
        return path.endswith("_test.go")

    def new_test(self, root: Path, source: str | None, slug: str, tier: str) -> NewTest:
        folder = Path(source).parent.as_posix() if source else "."
        path = f"{folder}/swc_{slug_name(slug)}_{tier}_test.go".removeprefix("./")
        package = package_of(root, folder)
        notes = (
            f"It goes in {folder}/, in package `{package}`: start the file with "
            f"`package {package}` and name each test function `Test...`; the package's "
            "other files are compiled with it, so declare no name they declare."
            if package
            else "Name each test function `Test...`."
        )
        examples = sorted((root / folder).glob("*_test.go"))
        example_path = examples[0].relative_to(root).as_posix() if examples else ""
        return NewTest(
            path,
            "Go `testing`",
            "go",
            notes=notes,
            example=read_head(root, example_path) if example_path else "",
            example_path=example_path,
        )

    def prepare_test(self, code: str, path: str, root: Path, tier: str) -> str:
        """The package clause of the directory's package (or its ``_test`` twin), and
        names another file of the package declares given the tier's suffix."""
        folder = Path(path).parent.as_posix()
        package = package_of(root, folder, skip=path)
        clause = _PACKAGE.search(code)
        if package and clause and clause.group(1) not in (package, f"{package}_test"):
            code = code[: clause.start(1)] + package + code[clause.end(1) :]
        taken = declared_in(root, folder, skip=path)
        suffix = "_" + tier[:1].upper() + tier[1:]
        for name in dict.fromkeys(_DECLARED.findall(code)):
            if name in taken and name not in ("init", "main", "TestMain"):
                code = re.sub(rf"\b{re.escape(name)}\b", name + suffix, code)
        return code

    # ----------------------------------------------------------------- running

    def invocation(
        self, command: TestCommand, selection: Sequence[str], root: Path, out: Path
    ) -> Invocation:
        """``go test -json -count=1``: the packages of the selected files (and, when only
        tests are named, ``-run`` with their names) instead of ``./...``."""
        argv = list(command.argv)
        if command.shell or Path(argv[0]).name != "go" or "test" not in argv[1:2]:
            return super().invocation(command, selection, root, out)
        at = argv.index("test") + 1
        flags = [] if "-json" in argv else ["-json"]
        flags += [] if any(a.startswith("-count") for a in argv) else ["-count=1"]
        if selection:
            project = command.project
            argv = [a for a in argv if a != "./..."]
            names = [s.split("::", 1)[1].split("/")[0] for s in selection if "::" in s]
            if len(names) == len(selection):
                flags += ["-run", "^(" + "|".join(dict.fromkeys(names)) + ")$"]
            argv += _packages(selection, project)
        return Invocation((*argv[:at], *flags, *argv[at:]), cwd=command.project)

    def read(
        self, command: TestCommand, output: str, out: Path, root: Path, selection: Sequence[str]
    ) -> ReadRun:
        if command.shell:
            return ReadRun((), output)
        module = module_path(root / command.project)
        return read_test2json(output, root, command.project, module, selection)

    def run_env(
        self, env: dict[str, str], root: Path, command: TestCommand | None, cache: Path | None
    ) -> None:
        """The run's build cache; no module download (the sandbox has no network)."""
        if cache is not None:
            env["GOCACHE"] = str(cache / "go-build")
        env.setdefault("GOPROXY", "off")
        env.setdefault("GOTOOLCHAIN", "local")

    # ----------------------------------------------------------------- diagnosis

    def ran_any_test(self, output: str, command: TestCommand) -> bool | None:
        return bool(_RAN.search(output)) or '"Action":"run"' in output

    def probe(self, command: TestCommand) -> TestCommand | None:
        argv = command.argv
        if command.shell or "test" not in argv[1:2]:
            return None
        at = argv.index("test") + 1
        return replace(command, argv=(*argv[:at], "-count=1", "-run", "^$", *argv[at:]))


GO = Go()


def package_of(root: Path, folder: str, skip: str = "") -> str:
    """The package name the Go files of ``folder`` declare ("" when none does)."""
    for file in sorted((root / folder).glob("*.go"))[:50]:
        if file.relative_to(root).as_posix() == skip:
            continue
        found = _PACKAGE.search(read_head(root, file.relative_to(root).as_posix(), 200))
        if found:
            return found.group(1).removesuffix("_test")
    return ""


def declared_in(root: Path, folder: str, skip: str = "") -> set[str]:
    """Top-level names the Go files of ``folder`` declare (but ``skip``)."""
    from ..repofiles import read_regular_text

    names: set[str] = set()
    for file in sorted((root / folder).glob("*.go"))[:500]:
        rel = file.relative_to(root).as_posix()
        if rel != skip:
            names.update(_DECLARED.findall(read_regular_text(root, rel, 500_000) or ""))
    return names


def module_path(project: Path) -> str:
    """The module's import path (go.mod's ``module`` line)."""
    found = _MODULE.search(read_head(project, "go.mod", 20))
    return found.group(1) if found else ""


def _packages(selection: Sequence[str], project: str) -> list[str]:
    """go test takes packages, not files: a test file selects the package it is in."""
    packages = []
    for item in selection:
        item = item.split("::", 1)[0]
        if project and item.startswith(project + "/"):
            item = item[len(project) + 1 :]
        if item.endswith(".go"):
            parent = Path(item).parent.as_posix()
            item = "." if parent == "." else "./" + parent
        packages.append(item)
    return list(dict.fromkeys(packages))


def read_test2json(
    output: str, root: Path, project: str, module: str, selection: Sequence[str]
) -> ReadRun:
    """Per-test results from ``go test -json``'s events, and the output as go test prints
    it for people; a package that did not build is an error of its selected files."""
    events: list[dict] = []
    shown: list[str] = []
    for line in output.splitlines(keepends=True):
        event = _event(line)
        if event is None:
            shown.append(line)
            continue
        events.append(event)
        if event.get("Action") == "output":
            shown.append(str(event.get("Output", "")))
    text = "".join(shown)
    messages: dict[tuple[str, str], list[str]] = {}
    results: dict[str, TestResult] = {}
    files = _TestFiles(root)
    for event in events:
        package, test, action = event.get("Package", ""), event.get("Test"), event.get("Action")
        if not test:
            continue
        if action == "output":
            messages.setdefault((package, test), []).append(str(event.get("Output", "")))
        elif action in _STATUS:
            folder = under(project, _relative(package, module))
            file = files.declaring(folder, test.split("/")[0]) or folder
            message = clip_message("".join(messages.get((package, test), [])))
            result = TestResult(f"{file}::{test}", _STATUS[action], message, file)
            results[result.test_id] = result
    for result in _build_failures(text, project, module, selection):
        results.setdefault(result.test_id, result)
    return ReadRun(tuple(results.values()), text)


def _event(line: str) -> dict | None:
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and "Action" in event else None


def _relative(package: str, module: str) -> str:
    """A package's directory relative to its module's (its import path less the module's)."""
    if package == module or not module:
        return ""
    return package[len(module) + 1 :] if package.startswith(module + "/") else package


class _TestFiles:
    """Which ``_test.go`` file of a directory declares a test function (read once)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.known: dict[str, dict[str, str]] = {}

    def declaring(self, folder: str, test: str) -> str | None:
        if folder not in self.known:
            from ..repofiles import read_regular_text

            names: dict[str, str] = {}
            for file in sorted((self.root / folder).glob("*_test.go"))[:500]:
                rel = file.relative_to(self.root).as_posix()
                for name in _TEST_FUNC.findall(read_regular_text(self.root, rel, 500_000) or ""):
                    names.setdefault(name, rel)
            self.known[folder] = names
        return self.known[folder].get(test)


def _build_failures(
    text: str, project: str, module: str, selection: Sequence[str]
) -> list[TestResult]:
    """Selected files (or packages) of each package that did not build, with the errors."""
    found: list[TestResult] = []
    for match in _BUILD_FAILED.finditer(text):
        folder = under(project, _relative(match.group(1), module))
        errors = _errors_of(text, match.group(1))
        picked = [
            s.split("::", 1)[0]
            for s in selection
            if Path(s.split("::", 1)[0]).parent.as_posix() in (folder or ".", folder)
        ]
        for place in dict.fromkeys(picked or [folder or "."]):
            found.append(TestResult(place, "error", errors, place))
    return found


def _errors_of(text: str, package: str) -> str:
    """The compiler's lines after ``# <package>`` (what go prints for a failed build)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line == f"# {package}" or line.startswith(f"# {package} ["):
            block = [x for x in lines[index + 1 : index + 30] if not x.startswith(("FAIL", "ok"))]
            return clip_message("\n".join(block).strip(), 2000)
    return f"{package} did not build"
