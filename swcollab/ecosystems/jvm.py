"""Java on the JVM: Maven (``pom.xml``) and Gradle (``build.gradle``, its wrapper when
there is one), each test's result from the JUnit XML reports Surefire and Gradle write.

Maven runs offline (``mvn -o``): the sandbox has no network, and shows the user's
``~/.m2/repository`` read-only. A new test goes in ``src/test/java`` under the package of
the code it tests, as a class named like its file.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..sandbox.command import TestCommand
from ..sandbox.results import TestResult, case_status, read_xml
from .base import Ecosystem, Invocation, NewTest, ReadRun, camel, clip_message, read_head, within

MAVEN, GRADLE = "maven", "gradle"
_REPORT_DIRS = {MAVEN: "target/surefire-reports", GRADLE: "build/test-results/test"}
_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.M)
_CLASS = re.compile(r"^((?:public\s+|final\s+|abstract\s+)*class\s+)(\w+)", re.M)
_RAN = re.compile(r"Tests run: \d+|\d+ tests? completed|BUILD SUCCESS", re.M)
_COMPILE_ERROR = re.compile(r"^\[ERROR\] (/\S+\.java):\[\d+,\d+\] (.+)$", re.M)
_MAX_REPORTS = 2000


class Jvm(Ecosystem):
    name = "jvm"
    languages = frozenset({"java"})
    manifests = ("pom.xml", "build.gradle", "build.gradle.kts")
    programs = frozenset({"mvn", "mvnw", "gradle", "gradlew"})
    home_toolchains = (".sdkman/candidates", ".m2/repository", ".gradle/caches", ".gradle/wrapper")
    toolchain_vars = ("JAVA_HOME", "MAVEN_HOME", "GRADLE_HOME")
    setup_hint = (
        "run the build once in your checkout (e.g. `mvn test` or `mvn dependency:go-offline`) "
        "so its plugins and dependencies are in ~/.m2/repository: the sandbox has no network"
    )
    example_test_cmd = "mvn -o -B test"

    def detect(
        self, root: Path, checkout: Path, environ: Mapping[str, str] | None
    ) -> TestCommand | None:
        if (root / "pom.xml").is_file():
            program = "./mvnw" if (root / "mvnw").is_file() else "mvn"
            source = "detected: Maven (found pom.xml; offline, as the sandbox has no network)"
            return TestCommand((program, "-o", "-B", "test"), source, ecosystem="jvm", runner=MAVEN)
        if any((root / name).is_file() for name in ("build.gradle", "build.gradle.kts")):
            program = "./gradlew" if (root / "gradlew").is_file() else "gradle"
            source = "detected: Gradle (found build.gradle; offline)"
            argv = (program, "test", "--offline", "--console=plain")
            return TestCommand(argv, source, ecosystem="jvm", runner=GRADLE)
        return None

    def configure(
        self, command: TestCommand, root: Path, checkout: Path, environ: Mapping[str, str] | None
    ) -> TestCommand:
        program = Path(command.argv[0]).name
        kind = (
            MAVEN if program.startswith("mvn") else GRADLE if program.startswith("gradle") else ""
        )
        return replace(command, ecosystem=self.name, runner="" if command.shell else kind)

    def reports_per_test(self, command: TestCommand) -> bool:
        return bool(command.runner)

    # ----------------------------------------------------------------- test files

    def is_test_path(self, path: str) -> bool:
        return path.endswith(".java") and "/src/test/" in "/" + path

    def new_test(self, root: Path, source: str | None, slug: str, tier: str) -> NewTest:
        from .base import nearest_project

        module = nearest_project(root, source, self.manifests) if source else ""
        package = _package_of(root, source) if source else ""
        folder = "/".join(p for p in (module, "src/test/java", package.replace(".", "/")) if p)
        name = f"Swc{camel(slug)[:40]}{tier[:1].upper()}{tier[1:]}Test"
        example = _example(root, folder, module)
        framework = "JUnit 4" if _junit4(root, module, example) else "JUnit 5 (org.junit.jupiter)"
        where = f"package `{package}`" if package else "the default package"
        notes = f"It is the class `{name}` in {where}, in {folder}/; Maven and Gradle run it."
        return NewTest(
            f"{folder}/{name}.java",
            framework,
            "java",
            notes=notes,
            example=read_head(root, example) if example else "",
            example_path=example or "",
        )

    def prepare_test(self, code: str, path: str, root: Path, tier: str) -> str:
        """The class named as its file, in the package of its folder."""
        name = Path(path).stem
        code = _CLASS.sub(lambda m: m.group(1) + name, code, count=1)
        package = _package_from_path(path)
        clause = _PACKAGE.search(code)
        if package and clause is not None and clause.group(1) != package:
            code = code[: clause.start(1)] + package + code[clause.end(1) :]
        elif package and clause is None:
            code = f"package {package};\n\n{code}"
        return code

    # ----------------------------------------------------------------- running

    def invocation(
        self, command: TestCommand, selection: Sequence[str], root: Path, out: Path
    ) -> Invocation:
        """The selected test classes (and methods) as Surefire's ``-Dtest`` or Gradle's
        ``--tests``."""
        if not command.runner or not selection:
            return Invocation(tuple(command.argv), cwd=command.project)
        names = [_test_name(within(command.project, s)) for s in selection]
        names = [n for n in dict.fromkeys(names) if n]
        if command.runner == MAVEN:
            extra = [f"-Dtest={','.join(names)}", "-Dsurefire.failIfNoSpecifiedTests=false"]
            extra.append("-DfailIfNoTests=false")
        else:
            extra = [part for n in names for part in ("--tests", n.replace("#", "."))]
        return Invocation((*command.argv, *extra), cwd=command.project)

    def before_run(self, root: Path, command: TestCommand, cache: Path | None) -> None:
        """No report of an earlier run in this worktree may pass for this run's."""
        for folder in _report_dirs(root / command.project, command.runner):
            shutil.rmtree(folder, ignore_errors=True)

    def read(
        self, command: TestCommand, output: str, out: Path, root: Path, selection: Sequence[str]
    ) -> ReadRun:
        if not command.runner:
            return ReadRun((), output)
        results = _reports(root, command.project, command.runner)
        if not results:
            results = _not_compiled(output, root, selection)
        return ReadRun(tuple(results), output)

    def run_env(
        self, env: dict[str, str], root: Path, command: TestCommand | None, cache: Path | None
    ) -> None:
        """Gradle's own state in the run's cache (its home is not writable inside), its
        downloaded dependencies read from the user's."""
        if cache is not None and command is not None and command.runner == GRADLE:
            env["GRADLE_USER_HOME"] = str(cache / "gradle")
            user = Path(env.get("HOME", "~")).expanduser() / ".gradle" / "caches"
            if user.is_dir():
                env.setdefault("GRADLE_RO_DEP_CACHE", str(user))

    # ----------------------------------------------------------------- diagnosis

    def ran_any_test(self, output: str, command: TestCommand) -> bool | None:
        return bool(_RAN.search(output))


JVM = Jvm()


def _package_of(root: Path, source: str) -> str:
    found = _PACKAGE.search(read_head(root, source, 60))
    return found.group(1) if found else _package_from_path(source)


def _package_from_path(path: str) -> str:
    """``.../src/main/java/com/x/Calc.java`` -> ``com.x``."""
    parts = Path(path).parent.parts
    for index in range(len(parts) - 2):
        if parts[index] == "src" and parts[index + 2] in ("java", "kotlin"):
            return ".".join(parts[index + 3 :])
    return ""


def _example(root: Path, folder: str, module: str) -> str | None:
    """An existing test: in the new test's package, else any of the module's."""
    for top in (root / folder, root / module / "src" / "test"):
        if top.is_dir():
            found = sorted(top.rglob("*Test.java"))[:1]
            if found:
                return found[0].relative_to(root).as_posix()
    return None


def _junit4(root: Path, module: str, example: str | None) -> bool:
    """JUnit 4 when the example test uses it, or the build names junit:junit alone."""
    if example:
        head = read_head(root, example, 40)
        return "org.junit." in head and "org.junit.jupiter" not in head
    build = read_head(root, f"{module}/pom.xml" if module else "pom.xml", 400)
    return "<artifactId>junit</artifactId>" in build and "junit-jupiter" not in build


def _test_name(path: str) -> str:
    """A test file (``.../com/x/CalcTest.java``) or id (``...::adds``) as Surefire's
    ``com.x.CalcTest`` or ``com.x.CalcTest#adds``."""
    file, _, method = path.partition("::")
    if not file.endswith(".java"):
        return ""
    package = _package_from_path(file)
    name = f"{package}.{Path(file).stem}" if package else Path(file).stem
    return f"{name}#{method.split('(')[0].split('[')[0]}" if method else name


def _report_dirs(project: Path, runner: str) -> list[Path]:
    """The report directories of the project and its modules (two levels down)."""
    relative = _REPORT_DIRS.get(runner)
    if relative is None:
        return []
    candidates = [project, *project.glob("*"), *project.glob("*/*")]
    return [c / relative for c in candidates if (c / relative).is_dir()]


def _reports(root: Path, project: str, runner: str) -> list[TestResult]:
    results: dict[str, TestResult] = {}
    for folder in _report_dirs(root / project, runner):
        module = folder.parent.parent if runner == MAVEN else folder.parent.parent.parent
        for report in sorted(folder.glob("TEST-*.xml"))[:_MAX_REPORTS]:
            tree = read_xml(report)
            for case in tree.iter("testcase") if tree is not None else ():
                file = _source_of(root, module, case.get("classname", ""))
                status, message = case_status(case)
                result = TestResult(
                    f"{file}::{case.get('name', '')}", status, clip_message(message), file
                )
                results[result.test_id] = result
    return list(results.values())


def _source_of(root: Path, module: Path, classname: str) -> str:
    """The test source file of a class (``com.x.CalcTest$Inner`` -> its outer class's)."""
    outer = classname.split("$", 1)[0]
    rel = Path("src/test/java", *outer.split(".")).with_suffix(".java")
    path = module / rel
    return os.path.relpath(path, root) if path.is_file() else outer


def _not_compiled(output: str, root: Path, selection: Sequence[str]) -> list[TestResult]:
    """The selected files when the build stopped before any test ran (a compiler error):
    those the compiler named, else all of them."""
    if "COMPILATION ERROR" not in output and "BUILD FAILED" not in output:
        return []
    named = {os.path.relpath(m.group(1), root) for m in _COMPILE_ERROR.finditer(output)}
    files = list(dict.fromkeys(s.split("::", 1)[0] for s in selection))
    hit = [f for f in files if f in named] or files
    message = "\n".join(m.group(0) for m in _COMPILE_ERROR.finditer(output))[:2000]
    return [TestResult(f, "error", message or "the build failed", f) for f in hit]
