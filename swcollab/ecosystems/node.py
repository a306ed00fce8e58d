"""JavaScript and TypeScript: the project's ``npm test`` script, and its runner.

When the script is one runner alone (``node --test``, Jest, Vitest, Mocha: see
``node_runners``), swc starts that runner itself with the selected files and its
machine-readable report; otherwise ``npm test`` runs as it is and its exit code judges.
The project's dependencies are its checkout's ``node_modules`` (shown in the worktree,
read-only). A new test goes where the project's tests are, named as they are, so the
project's own test command runs it after the merge.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from ..sandbox.command import TestCommand
from .base import Ecosystem, Invocation, NewTest, ReadRun, read_head, slug_name, under, within
from .node_runners import (
    FRAMEWORKS,
    MOCHA,
    NODE_TEST,
    Runner,
    read_report,
    runner_argv,
    runner_of,
)

# npm init writes this script; running it only prints an error.
_NPM_PLACEHOLDER = "no test specified"
_TEST_NAME = re.compile(r"^(?P<stem>.+?)(?P<suffix>[._-](test|spec))?(?P<ext>\.[cm]?[jt]sx?)$")
_TEST_MARKERS = (".test.", ".spec.", "/__tests__/", "/test/", "/tests/", "_test.", "-test.")
_SCRIPTS = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
_RAN = re.compile(
    r"(^\s*Tests?:\s+\d|Test Files\s+\d|\d+ (passing|failing)\b|"
    r"^# (tests|pass|fail) \d+|^. tests \d+|^(not )?ok \d+ )",
    re.M,
)


class Node(Ecosystem):
    name = "node"
    languages = frozenset({"javascript", "typescript", "tsx"})
    manifests = ("package.json",)
    programs = frozenset({"npm", "npx", "yarn", "pnpm", "jest", "vitest", "mocha", "bun"})
    home_toolchains = (".nvm", ".volta/tools", ".volta/bin", ".local/share/pnpm")
    toolchain_vars = ("NVM_DIR", "VOLTA_HOME")
    project_deps = ("node_modules",)
    setup_hint = "run `npm ci` (or `npm install`) in your checkout: the tests use its node_modules"
    example_test_cmd = "npm test"

    def runs(self, argv: Sequence[str]) -> bool:
        if argv and Path(argv[0]).name == "node" and "--test" in argv:
            return True
        return super().runs(argv)

    def detect(
        self, root: Path, checkout: Path, environ: Mapping[str, str] | None
    ) -> TestCommand | None:
        script = test_script(root)
        if script is None:
            return None
        command = TestCommand(("npm", "test"), "", ecosystem="node")
        runner = self._started(command, root)
        which = f", {runner}" if runner else ""
        source = f"detected: npm test (package.json has a test script{which})"
        return replace(command, source=source, runner=runner)

    def configure(
        self, command: TestCommand, root: Path, checkout: Path, environ: Mapping[str, str] | None
    ) -> TestCommand:
        command = replace(command, ecosystem=self.name)
        return replace(command, runner=self._started(command, root))

    def _started(self, command: TestCommand, root: Path) -> str:
        """The runner swc starts itself for ``command`` ("": the command runs as written):
        ``npm test`` whose script is one runner alone (no ``pretest`` to run first), or
        that runner named directly."""
        runner = self._runner(command, root)
        return runner.kind if runner is not None else ""

    def _runner(self, command: TestCommand, root: Path) -> Runner | None:
        if command.shell:
            return None
        argv = command.argv
        if Path(argv[0]).name != "npm":
            return runner_of(shlex.join(argv))
        top = root / command.project
        if argv[1:] in (("test",), ("t",), ("run", "test")):
            return None if _has_hooks(top, "test") else runner_of(test_script(top) or "")
        if len(argv) == 3 and argv[1] == "run":  # npm run test:unit
            script = _scripts(top).get(argv[2])
            return None if _has_hooks(top, argv[2]) else runner_of(str(script or ""))
        return None

    def reports_per_test(self, command: TestCommand) -> bool:
        return bool(command.runner)

    # ----------------------------------------------------------------- test files

    def is_test_path(self, path: str) -> bool:
        name = "/" + path
        return path.endswith(_SCRIPTS) and any(marker in name for marker in _TEST_MARKERS)

    def new_test(self, root: Path, source: str | None, slug: str, tier: str) -> NewTest:
        project = _project_of(root, source)
        runner = runner_of(test_script(root / project) or "")
        existing = _existing_tests(root, project)
        folder, suffix, ext = _place(root, project, source, existing, runner)
        path = f"{folder}/swc-{slug_name(slug).replace('_', '-')}-{tier}{suffix}{ext}"
        path = path.removeprefix("./").removeprefix("/")
        example = _closest(existing, folder)
        typescript = ext in (".ts", ".tsx", ".mts", ".cts")
        framework = FRAMEWORKS.get(runner.kind if runner else "", "the project's test runner")
        return NewTest(
            path,
            f"{'TypeScript' if typescript else 'JavaScript'} {framework}",
            "typescript" if typescript else "javascript",
            import_hint=_import_hint(root, project, source, path),
            notes=f"It goes in {folder or 'the top'}/ where the project's test command runs it.",
            example=read_head(root, example) if example else "",
            example_path=example or "",
        )

    # ----------------------------------------------------------------- running

    def invocation(
        self, command: TestCommand, selection: Sequence[str], root: Path, out: Path
    ) -> Invocation:
        runner = self._runner(command, root) if command.runner else None
        if runner is None:  # a script swc does not know: run as is, judged by its exit code
            return Invocation(tuple(command.argv), cwd=command.project)
        files = [within(command.project, s.split("::", 1)[0]) for s in selection]
        argv = runner_argv(runner, list(dict.fromkeys(files)), out)
        return Invocation(argv, env=runner.env, cwd=command.project)

    def read(
        self, command: TestCommand, output: str, out: Path, root: Path, selection: Sequence[str]
    ) -> ReadRun:
        runner = self._runner(command, root) if command.runner else None
        if runner is None:
            return ReadRun((), output)
        results, summary = read_report(runner, out, root)
        return ReadRun(tuple(results), output + summary if summary else output)

    def run_env(
        self, env: dict[str, str], root: Path, command: TestCommand | None, cache: Path | None
    ) -> None:
        """The project's ``node_modules/.bin`` first on PATH; no colours in the output."""
        project = root / (command.project if command is not None else "")
        env["PATH"] = os.pathsep.join([str(project / "node_modules" / ".bin"), env.get("PATH", "")])
        env["NO_COLOR"] = "1"
        env["FORCE_COLOR"] = "0"

    # ----------------------------------------------------------------- diagnosis

    def cannot_start(self, root: Path, command: TestCommand, path: str) -> str | None:
        """Also: the runner the script names is not in the checkout's node_modules."""
        missing = super().cannot_start(root, command, path)
        top = root / command.project
        where = f"{command.project}/node_modules" if command.project else "node_modules"
        if missing is None and _needs_packages(top) and not (top / "node_modules").is_dir():
            return f"the project's dependencies are not installed ({where} is missing)"
        if missing is not None or not command.runner or command.runner == NODE_TEST:
            return missing
        runner = self._runner(command, root)
        program = Path(runner.argv[0]).name if runner is not None else command.runner
        if not (top / "node_modules" / ".bin" / program).exists():
            return f"{program} is not installed in {where}"
        return None

    def ran_any_test(self, output: str, command: TestCommand) -> bool | None:
        return bool(_RAN.search(output))


NODE = Node()


def test_script(root: Path) -> str | None:
    """``scripts.test`` of the project's package.json (None: none, or npm's placeholder)."""
    scripts = _scripts(root)
    script = scripts.get("test")
    if not isinstance(script, str) or not script.strip() or _NPM_PLACEHOLDER in script:
        return None
    return script


def _scripts(root: Path) -> dict:
    package = root / "package.json"
    if not package.is_file():
        return {}
    try:
        data = json.loads(package.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    scripts = data.get("scripts") if isinstance(data, dict) else None
    return scripts if isinstance(scripts, dict) else {}


def _needs_packages(project: Path) -> bool:
    """Whether package.json lists dependencies (which ``npm ci`` puts in node_modules)."""
    try:
        data = json.loads((project / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and bool(data.get("dependencies") or data.get("devDependencies"))


def _has_hooks(project: Path, script: str) -> bool:
    """Whether npm runs more than the script (a ``pretest`` build, say)."""
    scripts = _scripts(project)
    return f"pre{script}" in scripts or f"post{script}" in scripts


def _project_of(root: Path, source: str | None) -> str:
    from .base import nearest_project

    return nearest_project(root, source, ("package.json",)) if source else ""


def _existing_tests(root: Path, project: str) -> list[str]:
    """The project's tracked test files (relative to the repository)."""
    from ..gitrepo import tracked_files

    inside = [p for p in tracked_files(root) if not project or p.startswith(project + "/")]
    return [p for p in inside if NODE.is_test_path(p) and "node_modules/" not in p]


def _place(
    root: Path, project: str, source: str | None, existing: list[str], runner: Runner | None
) -> tuple[str, str, str]:
    """(folder, name suffix, extension) of a new test, as the project's tests are: beside
    the source when its tests live beside it, else in the folder most of them are in."""
    source_ext = PurePosixPath(source).suffix if source else ".js"
    if existing:
        parent = {p: str(PurePosixPath(p).parent) for p in existing}
        here = str(PurePosixPath(source).parent) if source else ""
        folder = here if here in parent.values() else Counter(parent.values()).most_common(1)[0][0]
        model = next(p for p in existing if parent[p] == folder)
        match = _TEST_NAME.match(PurePosixPath(model).name)
        suffix = (match.group("suffix") or "") if match else ".test"
        return folder, suffix, match.group("ext") if match else source_ext
    named = [p for p in (runner.paths if runner else []) if (root / project / p).is_dir()]
    folder = under(project, named[0].rstrip("/") if named else "test")
    suffix = "" if runner is not None and runner.kind == MOCHA else ".test"
    return folder, suffix, source_ext


def _closest(existing: list[str], folder: str) -> str | None:
    here = [p for p in existing if str(PurePosixPath(p).parent) == folder]
    return (here or existing or [None])[0]


def _import_hint(root: Path, project: str, source: str | None, test_path: str) -> str:
    """How the new test imports ``source``: relative to the test's folder, ``require`` or
    ``import`` as the package's ``type`` says."""
    if not source:
        return ""
    rel = os.path.relpath(source, PurePosixPath(test_path).parent.as_posix())
    rel = rel if rel.startswith(".") else "./" + rel
    typescript = source.endswith((".ts", ".tsx", ".mts", ".cts"))
    if typescript:
        return f"import {{ ... }} from '{rel.rsplit('.', 1)[0]}';"
    if _is_module(root / project) or source.endswith(".mjs"):
        return f"import {{ ... }} from '{rel}';"
    return f"const {{ ... }} = require('{rel}');"


def _is_module(project: Path) -> bool:
    try:
        data = json.loads((project / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("type") == "module"
