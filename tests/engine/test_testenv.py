"""The project's own test environment, tests that cannot run, and fixes that change a test.

End to end through ``swc fix --json`` with the scripted loopback models: the user sees an
exit code, a message, a branch (or none), and the fake server saw every model call.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from click.testing import CliRunner

from engine.conftest import GOOD_TEST, git, trust
from swcollab.cli import cli
from tests.fakes.venv import make_venv

PROMPT = "add(2, 3) returns -1 instead of 5: the sum is wrong"


def fix(project: Path, *args: str, prompt: str = PROMPT) -> tuple[int, dict, str]:
    result = CliRunner().invoke(
        cli,
        ["--repo", str(project), "fix", "--prompt", prompt, "--json", *args],
        catch_exceptions=False,
    )
    document = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, document, result.stderr


def commit(project: Path, files: dict[str, str], message: str = "change") -> None:
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(project, "add", "-A")
    git(project, "commit", "-qm", message)


def detect_test_command(project: Path) -> None:
    """No test_cmd: an untracked .swc.toml (swc's own file) blanks the fake config's."""
    (project / ".swc.toml").write_text('test_cmd = ""\n')
    trust(project)


def swc_branches(project: Path) -> list[str]:
    return [
        b
        for b in git(project, "branch", "--format=%(refname:short)").split()
        if b.startswith("swc")
    ]


def last_run(project: Path) -> sqlite3.Row:
    conn = sqlite3.connect(project / ".git" / "swc" / "ledger.db")
    conn.row_factory = sqlite3.Row
    return conn.execute("SELECT * FROM runs ORDER BY rowid DESC").fetchone()


# ----------------------------------------------------- tests that cannot run: exit 3, no spend


def test_a_missing_dependency_is_exit_3_naming_it_before_any_model_call(project, models, fake_llm):
    models()
    commit(project, {"calc/__init__.py": "import markupsafe_is_not_installed\n"})
    code, doc, err = fix(project)
    assert code == 3, err
    assert doc == {}
    assert "No module named 'markupsafe_is_not_installed'" in err
    assert "collecting tests/test_ops.py" in err
    assert f"interpreter: {sys.executable}" in err and "-m pytest" in err
    assert "No model was called" in err and "test_cmd" in err
    assert fake_llm.requests == []
    assert swc_branches(project) == []
    assert last_run(project)["verdict"] == "error"


def test_with_no_existing_test_selected_the_command_is_still_probed(project, models, fake_llm):
    models()
    git(project, "rm", "-q", "tests/test_ops.py")
    commit(
        project,
        {
            "calc/__init__.py": "import yaml_is_not_installed\n",
            "tests/test_misc.py": "import calc\n\n\ndef test_loads():\n    assert calc\n",
        },
    )
    code, _doc, err = fix(project)
    assert code == 3, err
    assert "No module named 'yaml_is_not_installed'" in err
    assert "tests/test_misc.py" in err
    assert fake_llm.requests == []


def test_a_venv_without_pytest_is_named_with_the_fix(project, models, fake_llm):
    models()
    commit(project, {".gitignore": ".venv/\n"})
    python = make_venv(project / ".venv", with_pytest=False)
    detect_test_command(project)
    code, _doc, err = fix(project)
    assert code == 3, err
    assert "pytest is not installed for this interpreter" in err
    assert f"interpreter: {python} (found .venv/ at the checkout root)" in err
    assert f"{python} -m pip install pytest" in err
    assert fake_llm.requests == []


def test_a_test_command_that_does_not_exist(project, models, fake_llm):
    models()
    code, _doc, err = fix(project, "--test-cmd", "no-such-test-runner --all")
    assert code == 3
    assert "the test command cannot start: no-such-test-runner" in err
    assert fake_llm.requests == []


def path_without(program: str, bin_dir: Path) -> str:
    """A PATH of one directory linking every program of this PATH but ``program``."""
    import os

    bin_dir.mkdir()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or not Path(folder).is_dir():
            continue
        for entry in Path(folder).iterdir():
            link = bin_dir / entry.name
            if entry.name != program and not os.path.lexists(link):
                link.symlink_to(entry)
    return str(bin_dir)


def test_go_without_go_installed(project, models, fake_llm, monkeypatch, tmp_path):
    models()
    commit(
        project,
        {"go.mod": "module example.com/calc\n\ngo 1.21\n", "calc_test.go": "package calc\n"},
    )
    from swcollab.sandbox import probe_sandbox

    probe_sandbox()  # probed with this machine's PATH (the probe runs `true` from it)
    # no go here, whatever the machine has (Debian's golang-go puts it in /usr/bin)
    monkeypatch.setenv("PATH", path_without("go", tmp_path / "bin"))
    code, _doc, err = fix(project, "--test-cmd", "go test ./...")
    assert code == 3, err
    assert "the test command cannot start: go" in err
    assert fake_llm.requests == []


# ------------------------------------------------------------ the project's own environment


VENV_ONLY_TEST = """import projdep
from calc.ops import mul


def test_mul():
    assert mul(2, 3) == projdep.SIX
"""


def test_a_dot_venv_at_the_root_needs_no_test_cmd(project, models):
    """The project's tests need a module only its .venv has: swc finds and uses it."""
    models()
    commit(project, {".gitignore": ".venv/\n", "tests/test_ops.py": VENV_ONLY_TEST})
    python = make_venv(project / ".venv", modules={"projdep.py": "SIX = 6\n"})
    detect_test_command(project)
    code, doc, err = fix(project)
    assert code == 0, err
    assert doc["tests"]["interpreter"]["python"] == str(python)
    assert doc["tests"]["interpreter"]["reason"] == "found .venv/ at the checkout root"
    assert doc["tests"]["command"].startswith(f"{python} -m pytest")
    assert (
        f"Test interpreter: `{python}` (found .venv/ at the checkout root)"
        in doc["report_markdown"]
    )
    # the untracked .swc.toml is swc's own file, not "your uncommitted changes"
    assert not [w for w in doc["warnings"] if "uncommitted" in w]
    # the guarded existing test ran with the venv and passed on the base
    assert "tests/test_ops.py::test_mul" in {t["test_id"] for t in doc["winner"]["tests"]}


def test_a_relative_test_cmd_is_the_checkouts(project, models):
    models()
    commit(project, {".gitignore": ".venv/\n", "tests/test_ops.py": VENV_ONLY_TEST})
    make_venv(project / ".venv", modules={"projdep.py": "SIX = 6\n"})
    code, doc, err = fix(project, "--test-cmd", ".venv/bin/python -m pytest -q")
    assert code == 0, err
    assert doc["tests"]["interpreter"]["reason"] == "named in test_cmd"


def test_without_the_project_environment_the_fallback_is_said(project, models):
    models()
    detect_test_command(project)
    code, doc, err = fix(project)
    assert code == 0, err
    assert doc["tests"]["interpreter"]["fallback"] is True
    assert any("swc's own interpreter" in w for w in doc["warnings"])


EXITING_TEST = """```python
import os

os._exit(3)
```
"""


def test_a_generated_test_with_no_per_test_result_is_discarded(project, models):
    """It is not kept as one failing test (which would reject every patch)."""
    script = models(weak_tests=[EXITING_TEST], strong_tests=[GOOD_TEST])
    code, doc, err = fix(project)
    assert code == 0, err
    reasons = [d["reason"] for d in doc["tests"]["discarded"] if d["tier"] == "weak"]
    assert reasons and all("yielded no per-test result" in r for r in reasons)
    assert all(g["tier"] == "strong" for g in doc["tests"]["generated"])
    assert script.count("strong", "tests") >= 1


# --------------------------------------------------------- fixes that change tested behaviour

GREET = """def greet(name):
    return "Hello " + name


def shout(text):
    return text.upper()
"""
GREET_TESTS = """from greet.core import greet, shout


def test_greet():
    assert greet("Bob") == "Hello Bob"


def test_shout():
    assert shout("hi") == "HI"
"""
GREET_TASK = 'greet() must end with an exclamation mark: greet("Ann") should be "Hello Ann!"'
GREET_REPRO = """tests/test_swc_greet.py
```python
from greet.core import greet


def test_greet_exclaims():
    assert greet("Ann") == "Hello Ann!"
```
"""
CODE_BLOCK = """greet/core.py
```python
<<<<<<< SEARCH
    return "Hello " + name
=======
    return "Hello " + name + "!"
>>>>>>> REPLACE
```
"""
TEST_BLOCK = """tests/test_greet.py
```python
<<<<<<< SEARCH
    assert greet("Bob") == "Hello Bob"
=======
    assert greet("Bob") == "Hello Bob!"
>>>>>>> REPLACE
```
"""
DECLARED = (
    CODE_BLOCK + "\nTEST CHANGE: greet() now ends with an exclamation mark, as asked\n" + TEST_BLOCK
)
UNDECLARED = CODE_BLOCK + "\n" + TEST_BLOCK
RIGGED_CONFTEST = """tests/conftest.py
```python
<<<<<<< SEARCH
=======
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
>>>>>>> REPLACE
```
"""
WRONG_GREET = CODE_BLOCK.replace('name + "!"', 'name + "?"')


def greet_project(project: Path) -> None:
    git(project, "rm", "-q", "-r", "calc", "tests")
    commit(
        project,
        {"greet/__init__.py": "", "greet/core.py": GREET, "tests/test_greet.py": GREET_TESTS},
    )


def test_a_fix_that_must_change_a_test_is_accepted_from_the_strong_tier(project, models, fake_llm):
    greet_project(project)
    models(weak_tests=[GREET_REPRO], weak_patches=[DECLARED], strong_patches=[DECLARED])
    code, doc, err = fix(project, prompt=GREET_TASK)
    assert code == 0, err
    assert doc["winner"]["tier"] == "strong"
    # the weak tier may not change tests (test_changes = "strong"): its change went back,
    # and the old test then failed its candidates
    weak = [a for a in doc["attempts"] if a["tier"] == "weak"]
    assert weak and all(not a["accepted"] for a in weak)
    assert all(
        "only the strong tier may change existing tests" in a["reverted_tests"][0] for a in weak
    )
    assert doc["test_changes"] == [
        {
            "path": "tests/test_greet.py",
            "test": "tests/test_greet.py::test_greet",
            "kind": "modified",
            "reason": "greet() now ends with an exclamation mark, as asked",
            "tier": "strong",
            "old": ['assert greet("Bob") == "Hello Bob"'],
            "new": ['assert greet("Bob") == "Hello Bob!"'],
            "renamed_from": None,
        }
    ]
    # judged: the changed test, the rest of its file, and the reproduction test passed
    statuses = {t["test_id"]: (t["kind"], t["status"]) for t in doc["winner"]["tests"]}
    assert statuses["tests/test_greet.py::test_greet"][1] == "passed"
    assert statuses["tests/test_greet.py::test_shout"] == ("existing", "passed")
    assert [st for kind, st in statuses.values() if kind == "repro"] == ["passed"]
    # a reviewer sees the change first: report, PR body (the same markdown), trailers
    markdown = doc["report_markdown"]
    assert markdown.index("This fix changes 1 existing test(s)") < markdown.index("Verdict")
    assert '  - old: `assert greet("Bob") == "Hello Bob"`' in markdown
    message = git(project, "log", "-1", "--format=%B", doc["branch"])
    assert (
        "Swc-Test-Change: tests/test_greet.py::test_greet (modified): greet() now ends "
        "with an exclamation mark, as asked"
    ) in message
    assert '  new: assert greet("Bob") == "Hello Bob!"' in message
    trailers = git(project, "log", "-1", "--format=%(trailers:key=Swc-Test-Change)", doc["branch"])
    assert "tests/test_greet.py::test_greet" in trailers
    # the branch holds the changed test
    assert 'greet("Bob") == "Hello Bob!"' in git(
        project, "show", f"{doc['branch']}:tests/test_greet.py"
    )
    # only the strong tier was told how to change a test
    patch_prompts = {
        model: [
            p for p in fake_llm.prompts(model) if "SEARCH" in p and "reproduce the problem" not in p
        ]
        for model in ("openai/weak-model", "openai/strong-model")
    }
    assert all("TEST CHANGE:" not in p for p in patch_prompts["openai/weak-model"])
    assert all("TEST CHANGE:" in p for p in patch_prompts["openai/strong-model"])


def test_a_rigged_conftest_cannot_make_a_wrong_patch_pass(project, models):
    """Undeclared, a new conftest.py goes back; declared (and allowed), the tests must
    still pass with the base's configuration."""
    greet_project(project)
    declared = WRONG_GREET + "\nTEST CHANGE: report every test as passed\n" + RIGGED_CONFTEST
    models(
        weak_tests=[GREET_REPRO],
        weak_patches=[WRONG_GREET + "\n" + RIGGED_CONFTEST],
        strong_patches=[declared],
    )
    code, doc, _err = fix(project, prompt=GREET_TASK)
    assert code == 1
    weak, strong = doc["attempts"][0], doc["attempts"][-1]
    assert "tests/conftest.py: reverted" in weak["reverted_tests"][0]
    assert strong["test_changes"][0]["kind"] == "config" and not strong["accepted"]
    assert doc["branch"] is None


def test_a_declared_change_to_a_test_the_user_named_is_refused(project, models):
    greet_project(project)
    models(weak_tests=[GREET_REPRO], weak_patches=[DECLARED], strong_patches=[DECLARED])
    commit(
        project,
        {
            "tests/test_user.py": "from greet.core import greet\n\n\n"
            "def test_user():\n"
            "    assert greet('Z') == 'Hello Z!'\n"
        },
    )
    code, doc, _err = fix(project, "--tests", "tests/test_user.py::test_user", prompt=GREET_TASK)
    # the code change alone passes the user's test; test_greet then regresses unless
    # changed, which the strong tier may do: the user's own test stays untouched
    assert code == 0
    assert [c["test"] for c in doc["test_changes"]] == ["tests/test_greet.py::test_greet"]


def test_from_failing_tests_with_a_missing_dependency_is_exit_3(project, models, fake_llm):
    models()
    commit(project, {"calc/__init__.py": "import markupsafe_is_not_installed\n"})
    result = CliRunner().invoke(
        cli,
        ["--repo", str(project), "fix", "--from-failing-tests", "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 3, result.stderr
    assert "No module named 'markupsafe_is_not_installed'" in result.stderr
    assert fake_llm.requests == []
