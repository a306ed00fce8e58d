"""Declared test changes: the syntax models use, what changed test by test, what is kept."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from swcollab.engine.testchange import (
    TestRules,
    allowed_for,
    changed_tests,
    declarations,
    declared_reason,
    is_test_file,
    review_test_edits,
    runner_config_changed,
    touches,
)


def test_the_marker_before_a_path_line_a_fence_or_a_bold_path() -> None:
    answer = """Here is the fix.

calc/ops.py
```python
<<<<<<< SEARCH
x
=======
y
>>>>>>> REPLACE
```

TEST CHANGE: the window now counts items, as the issue asks
tests/test_more.py
```python
<<<<<<< SEARCH
a
=======
b
>>>>>>> REPLACE
```

**TEST CHANGE:** `parse("")` now raises
```python tests/test_parse.py
...
```

- Test change (tests/test_cli.py): the flag was renamed

TEST CHANGE: the path is in the diff's header
diff --git a/tests/test_adapters.py b/tests/test_adapters.py
--- a/tests/test_adapters.py
+++ b/tests/test_adapters.py

TEST CHANGE: no path follows this one

def not_a_path(): pass
"""
    found = declarations(answer)
    assert [(d.path, d.reason) for d in found] == [
        ("tests/test_more.py", "the window now counts items, as the issue asks"),
        ("tests/test_parse.py", '`parse("")` now raises'),
        ("tests/test_cli.py", "the flag was renamed"),
        ("tests/test_adapters.py", "the path is in the diff's header"),
        (None, "no path follows this one"),
    ]
    assert declared_reason("tests/test_more.py", found).startswith("the window")
    assert declared_reason("pkg/tests/test_cli.py", found) == "the flag was renamed"
    assert declared_reason("tests/test_other.py", found) is None


def test_who_may_change_tests() -> None:
    assert allowed_for("strong", "strong") and not allowed_for("strong", "weak")
    assert not allowed_for("strong", "mid")
    assert allowed_for("all", "weak") and not allowed_for("none", "strong")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/test_x.py", True),
        ("pkg/x_test.go", True),
        ("conftest.py", True),
        ("sub/conftest.py", True),
        ("pytest.ini", True),
        ("tox.ini", True),
        ("jest.config.js", True),
        ("src/calc.py", False),
        ("pyproject.toml", False),
    ],
)
def test_test_files(path: str, expected: bool) -> None:
    assert is_test_file(path) is expected


def test_shared_configuration_counts_only_when_its_test_section_changes() -> None:
    old = '[project]\nname = "x"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n'
    assert not runner_config_changed("pyproject.toml", old, old.replace('name = "x"', 'name = "y"'))
    assert runner_config_changed("pyproject.toml", old, old.replace('"-q"', '"-q -k nothing"'))
    cfg = "[metadata]\nname = x\n\n[tool:pytest]\naddopts = -q\n"
    assert not runner_config_changed("setup.cfg", cfg, cfg.replace("name = x", "name = y"))
    assert runner_config_changed("setup.cfg", cfg, cfg.replace("-q", "-p no:x"))


OLD = """import pytest


class UniqueInWindowTests:
    def test_basic(self):
        assert list(f([0, 1, 0], 2)) == [0, 1]
        helper()

    def test_other(self):
        assert True


@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n


def test_gone():
    assert 1 == 1


def test_request_url_trims_leading_path_separators():
    p = prepare("http://127.0.0.1:10000//v:h")
    assert "/v:h" == request_url(p, {})
"""
NEW = (
    OLD.replace("== [0, 1]", "== [0, 1, 0]")
    .replace("def test_gone():\n    assert 1 == 1\n", "def test_new():\n    assert g() == 3\n")
    .replace("test_request_url_trims", "test_request_url_handles")
    .replace('"/v:h" ==', '"//v:h" ==')
)


def test_changes_test_by_test_with_old_and_new_assertions() -> None:
    changes = changed_tests("tests/test_more.py", OLD, NEW, "why", "strong")
    by_test = {c.test: c for c in changes}
    assert set(by_test) == {
        "tests/test_more.py::UniqueInWindowTests::test_basic",
        "tests/test_more.py::test_gone",
        "tests/test_more.py::test_new",
        "tests/test_more.py::test_request_url_handles_leading_path_separators",
    }
    renamed = by_test["tests/test_more.py::test_request_url_handles_leading_path_separators"]
    assert renamed.kind == "renamed"
    assert renamed.renamed_from.endswith("::test_request_url_trims_leading_path_separators")
    assert (renamed.old, renamed.new) == (
        ('assert "/v:h" == request_url(p, {})',),
        ('assert "//v:h" == request_url(p, {})',),
    )
    basic = by_test["tests/test_more.py::UniqueInWindowTests::test_basic"]
    assert basic.kind == "modified"
    assert basic.old == ("assert list(f([0, 1, 0], 2)) == [0, 1]",)
    assert basic.new == ("assert list(f([0, 1, 0], 2)) == [0, 1, 0]",)
    assert by_test["tests/test_more.py::test_gone"].kind == "removed"
    assert by_test["tests/test_more.py::test_new"].kind == "added"
    # configuration and other languages: the file as a whole
    (config,) = changed_tests("conftest.py", "", "import x\n", "why", "strong")
    assert config.kind == "config" and config.test == "conftest.py"
    (go,) = changed_tests("calc_test.go", None, "package calc\n", "why", "strong")
    assert go.kind == "added"


def test_touches_names_the_users_tests_a_change_reaches() -> None:
    changes = changed_tests("tests/test_more.py", OLD, NEW, "why", "strong")
    assert touches(
        changes,
        [
            "tests/test_more.py::UniqueInWindowTests::test_basic",
            "tests/test_more.py::UniqueInWindowTests::test_other",
            "tests/test_more.py::test_param[1]",
            "tests/test_more.py",
        ],
    ) == ["tests/test_more.py::UniqueInWindowTests::test_basic", "tests/test_more.py"]


def _repo(root: Path) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_more.py").write_text(OLD)
    (root / "calc.py").write_text("x = 1\n")
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "i"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def test_review_keeps_declared_allowed_changes_and_reverts_the_rest(tmp_path: Path) -> None:
    root = _repo(tmp_path / "r")
    (root / "tests" / "test_more.py").write_text(NEW)
    (root / "tests" / "test_swc_gen.py").write_text("def test_x():\n    pass\n")
    (root / "calc.py").write_text("x = 2\n")
    changed = ["calc.py", "tests/test_more.py", "tests/test_swc_gen.py"]
    answer = "TEST CHANGE: the window counts items\ntests/test_more.py\n```\n```\n"
    rules = TestRules("strong", ("tests/test_swc_gen.py",), (), (), can_judge=True)
    kept, reverted, restore = review_test_edits(root, changed, answer, [], "strong", rules)
    assert {c.test for c in kept} >= {"tests/test_more.py::UniqueInWindowTests::test_basic"}
    assert restore == ["tests/test_swc_gen.py"]
    assert "written for this run" in reverted[0]
    # the same answer from the weak tier, or with nothing to judge it, or undeclared
    for tier, rules_now, answer_now, why in [
        ("weak", rules, answer, "only the strong tier"),
        (
            "strong",
            TestRules("strong", (), (), (), can_judge=False),
            answer,
            "no reproduction test",
        ),
        ("strong", rules, "no marker\n", "only with a TEST CHANGE line"),
        (
            "strong",
            TestRules("strong", (), ("tests/test_more.py::test_gone",), (), True),
            answer,
            "a test you named",
        ),
    ]:
        kept, reverted, restore = review_test_edits(
            root, ["tests/test_more.py"], answer_now, [], tier, rules_now
        )
        assert kept == [] and restore == ["tests/test_more.py"]
        assert why in reverted[0]


def test_the_acceptance_rule_with_changed_tests() -> None:
    """A renamed test must pass under its new id (its old id no longer guards), a removed
    one is no longer required, a helper module changed whole is guarded by its tests."""
    from swcollab.engine.testsuite import TestSuite
    from swcollab.engine.types import GeneratedTest, TestChange
    from swcollab.sandbox import Isolation, TestCommand, TestResult, TestRun

    old_id = "tests/test_a.py::test_trims"
    plan = TestSuite(
        TestCommand(("python", "-m", "pytest"), "flag"),
        10,
        Isolation(),
        existing_files=("tests/test_a.py",),
        baseline_pass=frozenset(
            {old_id, "tests/test_a.py::test_gone", "tests/test_a.py::test_other"}
        ),
    )
    plan = plan.with_tests(
        [
            GeneratedTest(
                "tests/test_swc.py", "", "python", "strong", ("tests/test_swc.py::test_repro",)
            )
        ]
    )
    changes = [
        TestChange(
            "tests/test_a.py",
            "tests/test_a.py::test_keeps",
            "renamed",
            "r",
            "strong",
            renamed_from=old_id,
        ),
        TestChange("tests/test_a.py", "tests/test_a.py::test_gone", "removed", "r", "strong"),
        TestChange("tests/helpers.py", "tests/helpers.py", "modified", "r", "strong"),
    ]

    def judged(*statuses: tuple[str, str]) -> tuple[dict[str, str], bool]:
        results = tuple(TestResult(t, s, "", t.split("::")[0]) for t, s in statuses)
        outcomes, accepted = plan.evaluate(TestRun(0, False, "", 0, results, ()), changes)
        return {o.test_id: o.kind for o in outcomes}, accepted

    kinds, accepted = judged(
        ("tests/test_swc.py::test_repro", "passed"),
        ("tests/test_a.py::test_keeps", "passed"),
        ("tests/test_a.py::test_other", "passed"),
    )
    assert accepted
    assert kinds == {
        "tests/test_swc.py::test_repro": "repro",
        "tests/test_a.py::test_other": "existing",
        "tests/test_a.py::test_keeps": "changed",
    }
    _kinds, accepted = judged(
        ("tests/test_swc.py::test_repro", "passed"),
        ("tests/test_a.py::test_keeps", "failed"),
        ("tests/test_a.py::test_other", "passed"),
    )
    assert not accepted
    _kinds, accepted = judged(
        ("tests/test_swc.py::test_repro", "passed"),
        ("tests/test_a.py::test_keeps", "passed"),
        ("tests/test_a.py::test_other", "failed"),
    )
    assert not accepted
