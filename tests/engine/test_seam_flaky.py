"""A flaky test in the user's suite, through the seam: an in-process runner whose one
guarded test follows a script (on the base, on the candidates), so a flake is the same
on every run of this file."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from engine.conftest import GOOD_PATCH, GOOD_TEST, PASSING_TEST, WRONG_PATCH
from engine.seam import InProcessRunner, fix
from swcollab.engine import VERDICT_FIXED
from swcollab.engine.types import VERDICT_NOT_FIXED, VERDICT_UNVERIFIED, RunResult
from swcollab.models.fake import FakeModel
from swcollab.models.ledger import Ledger
from swcollab.report import render_markdown, result_as_json
from swcollab.sandbox import Isolation, TestCommand, TestRun

GUARDED = "tests/test_ops.py::test_mul"  # the project's existing test (engine/conftest.py)


class ScriptedFlake(InProcessRunner):
    """``InProcessRunner``, but ``GUARDED``'s status follows a script per side, the last
    entry repeating. The first directory it runs in is the base (the baseline comes
    before anything else); every other one is a candidate's worktree."""

    def __init__(self, *, base: Sequence[str], candidate: Sequence[str]) -> None:
        super().__init__()
        self.script = {"base": list(base), "candidate": list(candidate)}
        self.used = {"base": 0, "candidate": 0}
        self.base_root: Path | None = None

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
        self.base_root = self.base_root or root
        side = "base" if root == self.base_root else "candidate"
        if not any(r.test_id == GUARDED for r in run.results):
            return run
        script = self.script[side]
        status = script[min(self.used[side], len(script) - 1)]
        self.used[side] += 1
        message = "" if status == "passed" else "AssertionError: scripted flake"
        results = tuple(
            replace(r, status=status, message=message) if r.test_id == GUARDED else r
            for r in run.results
        )
        failed = any(r.status != "passed" for r in results)
        return replace(run, results=results, exit_code=1 if failed else 0)

    def reruns(self, side: str) -> int:
        """Runs of the guarded test alone (a re-run) in the base or a candidate."""
        return sum(
            1
            for root, selection in self.runs
            if selection == (GUARDED,) and (root == self.base_root) == (side == "base")
        )


def flaky_ids(result: RunResult) -> list[str]:
    return [t.test_id for t in result.flaky_tests]


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def test_a_flake_does_not_reject_the_correct_fix_and_the_report_names_it(project: Path) -> None:
    runner = ScriptedFlake(base=["passed"], candidate=["failed", "passed"])
    model = FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH})
    result = fix(project, model, runner=runner)

    assert result.verdict == VERDICT_FIXED
    assert result.winner is not None and result.winner.tier == "weak"
    assert result.winner.index == 1 and model.count("strong") == 0
    assert "return a + b" in git(project, "show", f"{result.branch}:calc/ops.py")
    [flaky] = result.flaky_tests
    assert flaky.test_id == GUARDED and not flaky.earlier
    # failed on the candidate, passed on its first re-run; no base re-run was needed
    assert (flaky.candidate_runs, flaky.candidate_failures) == (2, 1)
    assert (flaky.base_runs, flaky.base_failures) == (1, 0)
    assert runner.reruns("candidate") == 1 and runner.reruns("base") == 0
    outcome = {o.test_id: o for o in result.winner.outcomes}[GUARDED]
    assert (outcome.kind, outcome.status, outcome.required) == ("flaky", "failed", False)

    markdown = render_markdown(result)
    assert "## Flaky tests" in markdown and GUARDED in markdown
    assert "failed 1 of 2 run(s) on a candidate, 0 of 1 on the base" in markdown
    [listed] = result_as_json(result)["flaky_tests"]
    assert listed["test_id"] == GUARDED and listed["found_by"] == result.run_id
    assert (listed["candidate_runs"], listed["candidate_failures"]) == (2, 1)


def test_a_test_that_fails_on_the_base_when_run_again_is_flaky(project: Path) -> None:
    runner = ScriptedFlake(base=["passed", "failed"], candidate=["failed"])
    result = fix(project, FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH}), runner=runner)
    assert result.verdict == VERDICT_FIXED and result.winner and result.winner.tier == "weak"
    [flaky] = result.flaky_tests
    assert (flaky.candidate_runs, flaky.candidate_failures) == (2, 2)
    assert (flaky.base_runs, flaky.base_failures) == (2, 1)
    assert flaky.why == "failed on the base too"


def test_a_test_the_candidate_breaks_every_time_is_still_a_regression(project: Path) -> None:
    runner = ScriptedFlake(base=["passed"], candidate=["failed"])
    model = FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH})
    result = fix(project, model, runner=runner)

    assert result.verdict == VERDICT_NOT_FIXED and result.branch is None
    assert result.flaky_tests == []
    assert all(a.regressions == (GUARDED,) for a in result.attempts)
    assert len(result.attempts) == 3  # both weak candidates, then strong: all rejected
    # each candidate's failure was checked (3 re-runs on it, 3 on the base) and confirmed
    assert runner.reruns("candidate") == 9 and runner.reruns("base") == 9
    assert "flaky" not in render_markdown(result).lower()


def test_a_flaky_exclusion_alone_never_accepts_a_candidate(project: Path) -> None:
    # the reproduction test keeps failing: the flake is not even re-run
    runner = ScriptedFlake(base=["passed"], candidate=["failed", "passed"])
    result = fix(project, FakeModel({"tests": GOOD_TEST, "patch": WRONG_PATCH}), runner=runner)
    assert result.verdict == VERDICT_NOT_FIXED and result.winner is None
    assert runner.reruns("candidate") == 0

    # no reproduction test could be kept: the flake is found, but nothing judges
    runner = ScriptedFlake(base=["passed"], candidate=["failed", "passed"])
    model = FakeModel({"tests": PASSING_TEST, "patch": GOOD_PATCH})
    result = fix(project, model, runner=runner)
    assert flaky_ids(result) == [GUARDED]
    assert result.verdict == VERDICT_UNVERIFIED
    assert not any(a.accepted for a in result.attempts)


def test_the_ledger_remembers_a_flake_and_the_next_run_does_not_guard_it(
    project: Path,
) -> None:
    first = fix(
        project,
        FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH}),
        runner=ScriptedFlake(base=["passed"], candidate=["failed", "passed"]),
    )
    with Ledger.open(project / ".git" / "swc") as ledger:
        [row] = ledger.flaky_tests()
    assert row["test_id"] == GUARDED and row["run_id"] == first.run_id

    # now it fails on every candidate run: known flaky, it is neither re-run nor guarded
    runner = ScriptedFlake(base=["passed"], candidate=["failed"])
    second = fix(
        project,
        FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH}),
        runner=runner,
        task="add(2, 3) must return 5, not -1",
    )
    assert second.verdict == VERDICT_FIXED and second.winner and second.winner.tier == "weak"
    assert runner.reruns("candidate") == 0 and runner.reruns("base") == 0
    [known] = second.flaky_tests
    assert known.test_id == GUARDED and known.earlier and known.run_id == first.run_id
    assert f"known from run {first.run_id}" in render_markdown(second)


def test_flaky_tests_off_judges_with_every_guarded_test_as_before(project: Path) -> None:
    with Ledger.open(project / ".git" / "swc") as ledger:  # remembered, but ignored
        ledger.remember_flaky(
            [
                {
                    "test_id": GUARDED,
                    "run_id": "20260101-000000-abcd",
                    "base": "0" * 40,
                    "candidate_runs": 2,
                    "candidate_failures": 1,
                    "base_runs": 1,
                    "base_failures": 0,
                }
            ]
        )
    runner = ScriptedFlake(base=["passed"], candidate=["failed", "passed"])
    model = FakeModel({"tests": GOOD_TEST, "patch": GOOD_PATCH})
    result = fix(project, model, runner=runner, flaky_tests="off")
    # the first candidate, correct, is blamed for the flake; the second passes
    assert result.attempts[0].regressions == (GUARDED,) and not result.attempts[0].accepted
    assert result.winner is not None and result.winner.index == 2
    assert runner.reruns("candidate") == 0 and runner.reruns("base") == 0
    assert result.flaky_tests == []
