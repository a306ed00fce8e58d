"""Java end to end: ``swc doctor`` and ``swc fix`` on a small Maven project, no
configuration, offline, with the plugins this machine's ~/.m2 already holds."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import checkout, fix, needs, outcomes, patch, reply_with_test, swc

# plugins and libraries the project pins: Maven Central is not reachable from the tests
NEEDED = (
    "org/apache/maven/plugins/maven-resources-plugin/3.3.1",
    "org/apache/maven/plugins/maven-compiler-plugin/3.13.0",
    "org/apache/maven/plugins/maven-surefire-plugin/3.2.5",
    "org/junit/jupiter/junit-jupiter/5.10.2",
)
POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>calc</artifactId>
  <version>1.0</version>
  <properties>
    <maven.compiler.release>17</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>5.10.2</version>
      <scope>test</scope>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin><artifactId>maven-resources-plugin</artifactId><version>3.3.1</version></plugin>
      <plugin><artifactId>maven-compiler-plugin</artifactId><version>3.13.0</version></plugin>
      <plugin><artifactId>maven-surefire-plugin</artifactId><version>3.2.5</version></plugin>
    </plugins>
  </build>
</project>
"""
CALC = """package com.example;

public class Calc {
    public static int add(int a, int b) {
        return a - b;
    }

    public static int mul(int a, int b) {
        return a * b;
    }
}
"""
CALC_TEST = """package com.example;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CalcTest {
    @Test
    void mulWorks() {
        assertEquals(6, Calc.mul(2, 3));
    }
}
"""
# written as the model might: its own class name, which swc makes the file's
ADD_TEST = """package com.example;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

public class CalcAddTest {
    @Test
    void addSums() {
        assertEquals(5, Calc.add(2, 3));
    }

    @Test
    void mulAgain() {
        assertEquals(4, Calc.mul(2, 2));
    }
}
"""
SOURCE = "src/main/java/com/example/Calc.java"
FILES = {
    "pom.xml": POM,
    ".gitignore": "target/\n",
    SOURCE: CALC,
    "src/test/java/com/example/CalcTest.java": CALC_TEST,
}
RIGHT = patch(SOURCE, "        return a - b;", "        return a + b;", "java")
SLOPPY = RIGHT + patch(SOURCE, "        return a * b;", "        return a + b;", "java")


@pytest.fixture(autouse=True)
def maven_here() -> None:
    needs("mvn")
    repository = Path.home() / ".m2" / "repository"
    missing = [p for p in NEEDED if not (repository / p).is_dir()]
    if missing:
        pytest.skip(f"~/.m2 lacks {', '.join(missing)} (Maven Central is not reachable)")


def test_a_maven_fix_keeps_a_junit_class_that_mvn_test_runs(make_project, tmp_path: Path):
    root, _script = make_project(
        FILES,
        weak_tests=[
            reply_with_test("src/test/java/com/example/CalcAddTest.java", ADD_TEST, "java")
        ],
        weak_patches=[SLOPPY],
        strong_patches=[RIGHT],
    )
    code, doctor, err = swc(root, "doctor")
    assert code == 0 and doctor["ready"], err
    assert "mvn -o -B test" in next(f for f in doctor["facts"] if f["name"] == "tests")["value"]
    code, doc, err = fix(root, "Calc.add(2, 3) returns -1 instead of 5")
    assert code == 0, err
    assert doc["verdict"] == "fixed" and doc["winner"]["tier"] == "strong", json.dumps(doc)[:3000]
    (generated,) = doc["tests"]["generated"]
    path = generated["path"]
    assert path.startswith("src/test/java/com/example/Swc") and path.endswith("WeakTest.java")
    assert generated["kept"] == [f"{path}::addSums"]  # mulAgain passes on the base: out
    weak = {o["test_id"]: o["status"] for o in outcomes(doc, "weak")}
    assert weak == {
        f"{path}::addSums": "passed",
        "src/test/java/com/example/CalcTest.java::mulWorks": "failed",
    }
    tree = checkout(root, doc["branch"], tmp_path / "branch")
    run = subprocess.run(
        ["mvn", "-o", "-B", "test"], cwd=tree, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert f"{Path(path).stem}" in run.stdout  # the project's own mvn test ran the kept class
