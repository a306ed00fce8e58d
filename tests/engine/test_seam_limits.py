"""A test run that hits a resource limit of the sandbox, through the seam (in-process):
the candidate is rejected with the limit named, and the run goes on with the next one.

The runner here reports a limit hit for code that holds ``HOG`` (the sandbox's own tests,
tests/sandbox/test_limits.py, show the real limits being hit and reported)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from engine.conftest import GOOD_PATCH, GOOD_TEST
from engine.seam import InProcessRunner, fix
from swcollab.engine import VERDICT_FIXED
from swcollab.errors import TestsCannotRun
from swcollab.models.fake import FakeModel
from swcollab.report import render_markdown
from swcollab.sandbox import Isolation, TestCommand, TestRun
from swcollab.sandbox.results import LimitHit

MEMORY_HIT = LimitHit(
    "memory",
    "the tests hit the sandbox's memory limit (256 MB, sandbox_memory_mb): "
    "a process was killed for lack of memory",
)

# a right answer that also takes all the memory it can: its tests pass, but the kernel
# killed one of its processes, so the run proves nothing
HOG_PATCH = """calc/ops.py
```python
<<<<<<< SEARCH
    return a - b
=======
    return a + b  # HOG
>>>>>>> REPLACE
```
"""

HOG_TEST = GOOD_TEST.replace("def test_add_sums", "# HOG\ndef test_add_sums")


class LimitedRunner(InProcessRunner):
    """The in-process runner, reporting a memory limit hit when the code run holds HOG."""

    def run(
        self,
        root: Path,
        command: TestCommand,
        *,
        timeout: float,
        selection: Sequence[str] = (),
        isolation: Isolation | None = None,
    ) -> TestRun:
        run = super().run(root, command, timeout=timeout, selection=selection)
        files = [root / "calc" / "ops.py", *(root / s.split("::")[0] for s in selection)]
        if any(f.is_file() and "HOG" in f.read_text() for f in files):
            return replace(run, limit_hits=(MEMORY_HIT,))
        return run


def test_a_candidate_whose_tests_hit_a_limit_is_rejected_and_the_next_one_runs(project):
    model = FakeModel({"tests": GOOD_TEST, "weak:patch": [HOG_PATCH, GOOD_PATCH]})
    runner = LimitedRunner()
    result = fix(project, model, runner=runner)
    assert result.verdict == VERDICT_FIXED
    first, second = result.attempts
    # its tests passed, but a run the sandbox cut short judges nothing
    assert first.passed == first.required and not first.accepted
    assert first.limit_hit == MEMORY_HIT.text
    assert first.failure.startswith(MEMORY_HIT.text)
    assert second.accepted and second.limit_hit == "" and result.winner == second
    # the report's table of attempts names the limit
    row = "| hit the sandbox's memory limit (256 MB, sandbox_memory_mb) |"
    assert row in render_markdown(result)


def test_a_generated_test_that_hits_a_limit_on_the_base_is_discarded(project):
    model = FakeModel({"weak:tests": HOG_TEST, "strong:tests": GOOD_TEST, "patch": GOOD_PATCH})
    result = fix(project, model, runner=LimitedRunner())
    reasons = {d.reason for d in result.discarded_tests if d.tier == "weak"}
    assert f"on the unpatched code, {MEMORY_HIT.text}" in reasons
    assert all("HOG" not in g.text for g in result.generated_tests)


class BaseRunner(InProcessRunner):
    """Reports a memory limit hit on the existing tests' run on the unpatched code;
    ``killed``: the whole run was killed (no result at all)."""

    def __init__(self, killed: bool) -> None:
        super().__init__()
        self.killed = killed

    def run(
        self,
        root: Path,
        command: TestCommand,
        *,
        timeout: float,
        selection: Sequence[str] = (),
        isolation: Isolation | None = None,
    ) -> TestRun:
        run = super().run(root, command, timeout=timeout, selection=selection)
        on_base = "a - b" in (root / "calc" / "ops.py").read_text()
        if not on_base or "tests/test_ops.py" not in selection:
            return run
        killed = {"exit_code": 137, "output": "Killed", "results": ()} if self.killed else {}
        return replace(run, limit_hits=(MEMORY_HIT,), **killed)


def test_existing_tests_hitting_a_limit_on_the_base_are_named_in_a_warning(project):
    model = FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH})
    result = fix(project, model, runner=BaseRunner(killed=False))
    assert result.verdict == VERDICT_FIXED
    assert any(w.startswith(f"on the unpatched code, {MEMORY_HIT.text}") for w in result.warnings)


def test_a_base_run_killed_at_a_limit_stops_before_any_model_call(project):
    model = FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH})
    with pytest.raises(TestsCannotRun) as caught:
        fix(project, model, runner=BaseRunner(killed=True))
    assert MEMORY_HIT.text in caught.value.message
    assert "Raise that setting" in (caught.value.hint or "")
    assert model.asked() == []
