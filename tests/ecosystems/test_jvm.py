"""Java: Maven and Gradle detected, where a new test class goes, the selection as
Surefire's ``-Dtest`` or Gradle's ``--tests``, each test's result from the XML reports."""

from __future__ import annotations

from pathlib import Path

from swcollab.ecosystems import detect_test_command
from swcollab.ecosystems.jvm import JVM
from swcollab.sandbox import TestCommand

SOURCE = "src/main/java/com/x/Calc.java"
JUNIT5 = "package com.x;\nimport org.junit.jupiter.api.Test;\nclass CalcTest {}\n"
JUNIT4 = "package com.x;\nimport org.junit.Test;\npublic class CalcTest {}\n"
REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.x.CalcTest" tests="3" failures="1" errors="0" skipped="1">
  <testcase name="adds" classname="com.x.CalcTest" time="0.01">
    <failure message="expected 5, was -1" type="AssertionFailedError">at Calc</failure>
  </testcase>
  <testcase name="mulWorks" classname="com.x.CalcTest" time="0.01"/>
  <testcase name="later" classname="com.x.CalcTest$Nested" time="0"><skipped/></testcase>
</testsuite>
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_maven_runs_offline_and_the_wrapper_wins(tmp_path: Path) -> None:
    maven = detect_test_command(write(tmp_path / "m", {"pom.xml": "<project/>"}))
    assert maven is not None and maven.argv == ("mvn", "-o", "-B", "test")
    assert maven.ecosystem == "jvm" and maven.runner == "maven"
    wrapped = detect_test_command(write(tmp_path / "w", {"pom.xml": "<project/>", "mvnw": ""}))
    assert wrapped is not None and wrapped.argv[0] == "./mvnw"
    gradle = detect_test_command(write(tmp_path / "g", {"build.gradle.kts": "", "gradlew": ""}))
    assert gradle is not None and gradle.argv[:3] == ("./gradlew", "test", "--offline")


def test_a_new_test_is_a_class_in_the_package_of_the_code(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {"pom.xml": "", SOURCE: "package com.x;\n", "src/test/java/com/x/CalcTest.java": JUNIT5},
    )
    place = JVM.new_test(root, SOURCE, "add is wrong", "weak")
    assert place.path == "src/test/java/com/x/SwcAddIsWrongWeakTest.java"
    assert place.framework.startswith("JUnit 5") and "package `com.x`" in place.notes
    assert place.example_path == "src/test/java/com/x/CalcTest.java"
    (root / "src/test/java/com/x/CalcTest.java").write_text(JUNIT4)
    assert JVM.new_test(root, SOURCE, "x", "weak").framework == "JUnit 4"


def test_the_class_is_named_as_its_file_in_its_package() -> None:
    code = "package other;\n\npublic class CalcAddTest {\n    class Inner {}\n}\n"
    fixed = JVM.prepare_test(code, "src/test/java/com/x/SwcXWeakTest.java", Path("."), "weak")
    assert fixed.startswith("package com.x;") and "public class SwcXWeakTest {" in fixed
    assert "class Inner" in fixed
    bare = JVM.prepare_test("class T {}\n", "src/test/java/com/x/SwcYTest.java", Path("."), "weak")
    assert bare.startswith("package com.x;\n") and "class SwcYTest" in bare


def test_the_selection_is_surefires_and_gradles(tmp_path: Path) -> None:
    selection = ["src/test/java/com/x/CalcTest.java", "src/test/java/com/x/ATest.java::adds"]
    maven = TestCommand(("mvn", "-o", "-B", "test"), "d", ecosystem="jvm", runner="maven")
    argv = JVM.invocation(maven, selection, tmp_path, tmp_path).argv
    assert argv[4] == "-Dtest=com.x.CalcTest,com.x.ATest#adds"
    assert "-Dsurefire.failIfNoSpecifiedTests=false" in argv
    gradle = TestCommand(("gradle", "test"), "d", ecosystem="jvm", runner="gradle")
    argv = JVM.invocation(gradle, selection, tmp_path, tmp_path).argv
    assert argv[2:] == ("--tests", "com.x.CalcTest", "--tests", "com.x.ATest.adds")


def test_surefire_reports_become_per_test_results(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "pom.xml": "",
            "src/test/java/com/x/CalcTest.java": JUNIT5,
            "target/surefire-reports/TEST-com.x.CalcTest.xml": REPORT,
        },
    )
    command = TestCommand(("mvn", "test"), "d", ecosystem="jvm", runner="maven")
    read = JVM.read(command, "", tmp_path, root, [])
    file = "src/test/java/com/x/CalcTest.java"
    assert {(r.test_id, r.status) for r in read.results} == {
        (f"{file}::adds", "failed"),
        (f"{file}::mulWorks", "passed"),
        (f"{file}::later", "skipped"),
    }
    JVM.before_run(root, command, None)  # a later run never reads this run's reports
    assert not (root / "target/surefire-reports").exists()


def test_a_test_class_that_does_not_compile_is_an_error_of_its_file(tmp_path: Path) -> None:
    file = "src/test/java/com/x/SwcTest.java"
    output = (
        "[ERROR] COMPILATION ERROR : \n"
        f"[ERROR] {tmp_path}/{file}:[7,20] cannot find symbol\n"
        "[INFO] BUILD FAILURE\n"
    )
    command = TestCommand(("mvn", "test"), "d", ecosystem="jvm", runner="maven")
    (result,) = JVM.read(command, output, tmp_path, tmp_path, [file, "other/ATest.java"]).results
    assert (result.test_id, result.status) == (file, "error")
    assert "cannot find symbol" in result.message
