"""Telling a flaky test from a broken one, before a candidate is blamed.

An existing test guards candidates because it passed on the base. When guarded tests
are all that fails on a candidate, just those tests run again, on the candidate and on
the base, a few times within a time bound. A test that passes on a re-run on the
candidate, or fails on a re-run on the base, is flaky: from then on it judges no
candidate of the run (``FlakyTests`` is one object for every suite of the run), the
report names it with its counts, and the ledger remembers it for the repository's later
runs and ``swc eval``, which exclude it from the start (``swc runs flaky`` lists and
forgets them; ``flaky_tests = "off"`` turns all of this off).

A test that fails on every re-run on the candidate and passes on every re-run on the
base is the candidate's regression, as before. A flaky exclusion never accepts a
candidate alone: the acceptance rule still needs a reproduction or user test that passes
(``TestSuite.can_judge``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .testsuite import status_in
from .types import KIND_EXISTING, Event, EventSink, FlakyTest, TestOutcome

if TYPE_CHECKING:
    from ..models import Ledger
    from ..sandbox import TestRun
    from .testsuite import TestSuite

FLAKY_OFF = "off"
# Re-runs on each side at most; a side stops as soon as every suspect is shown flaky.
RERUNS = 3
# More failing guarded tests than this on one candidate: it broke them, no re-run.
MAX_SUSPECTS = 20
# Seconds all of one candidate's re-runs may take (and never more than test_timeout).
RERUN_SECONDS = 120.0
_EVIDENCE = ("passed", "failed", "error")  # statuses that say something about a test


class FlakyTests:
    """The run's flaky tests: those the ledger knew when it started (``known``) and those
    found since (``found``). Deliberately mutable and shared: a test found flaky on one
    candidate must judge no later candidate, of this tier or the next."""

    def __init__(self, known: Iterable[FlakyTest] = ()) -> None:
        self.known: dict[str, FlakyTest] = {t.test_id: t for t in known}
        self.found: dict[str, FlakyTest] = {}

    def excludes(self, test_id: str) -> bool:
        return test_id in self.known or test_id in self.found

    def add(self, tests: Iterable[FlakyTest]) -> None:
        for test in tests:
            self.found[test.test_id] = test

    def in_run(self, guarded: Iterable[str]) -> list[FlakyTest]:
        """What the report lists: the known ones this run would have guarded (``guarded``,
        the ids that passed on the base), then the ones found now."""
        ids = set(guarded)
        earlier = [t for t in self.known.values() if t.test_id in ids]
        return [*sorted(earlier, key=lambda t: t.test_id), *self.found.values()]


def flaky_tests_for(mode: str, ledger: Ledger) -> FlakyTests | None:
    """The run's registry, seeded with what the repository's ledger remembers; None when
    ``flaky_tests`` is "off" (every guarded test judges, as it always did)."""
    if mode == FLAKY_OFF:
        return None
    return FlakyTests(test_from_row(row) for row in ledger.flaky_tests())


def test_from_row(row: dict[str, Any]) -> FlakyTest:
    """A ledger row (``Ledger.flaky_tests``) as a test known from an earlier run."""
    return FlakyTest(
        row["test_id"],
        row["candidate_runs"],
        row["candidate_failures"],
        row["base_runs"],
        row["base_failures"],
        run_id=row["run_id"] or "",
        earlier=True,
    )


def ledger_rows(tests: Iterable[FlakyTest], run_id: str, base: str) -> list[dict[str, Any]]:
    """The tests found by run ``run_id`` at commit ``base``, as ledger rows."""
    return [
        {
            "test_id": t.test_id,
            "run_id": run_id,
            "base": base,
            "candidate_runs": t.candidate_runs,
            "candidate_failures": t.candidate_failures,
            "base_runs": t.base_runs,
            "base_failures": t.base_failures,
        }
        for t in tests
        if not t.earlier
    ]


def suspects_of(outcomes: Sequence[TestOutcome]) -> list[str]:
    """The guarded tests worth running again: those that failed (or errored) when nothing
    else stands between the candidate and acceptance, and not too many of them."""
    failing = [o for o in outcomes if o.required and o.status != "passed"]
    guarded = [o.test_id for o in failing if o.kind == KIND_EXISTING and o.status in _EVIDENCE]
    if not guarded or len(guarded) < len(failing) or len(guarded) > MAX_SUSPECTS:
        return []
    return guarded


@dataclass
class _Tally:
    """One suspect's runs so far; the first ones (a pass on the base, a failure on the
    candidate) are why it is a suspect."""

    candidate_runs: int = 1
    candidate_failures: int = 1
    base_runs: int = 1
    base_failures: int = 0

    @property
    def flaky(self) -> bool:
        return self.candidate_failures < self.candidate_runs or self.base_failures > 0

    def count(self, side: str, status: str) -> None:
        failed = status != "passed"
        if side == "candidate":
            self.candidate_runs += 1
            self.candidate_failures += failed
        else:
            self.base_runs += 1
            self.base_failures += failed


def find_flaky(
    suite: TestSuite,
    root: Path,
    first: TestRun,
    outcomes: Sequence[TestOutcome],
    on_event: EventSink,
    *,
    label: str = "candidate",
    tier: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> list[FlakyTest]:
    """Run a candidate's failing guarded tests (``outcomes`` of its run ``first`` in
    ``root``) again on it and on the base; the flaky ones, now excluded by the suite's
    registry (none when detection is off or no suspect is worth a re-run)."""
    registry = suite.flaky
    suspects = suspects_of(outcomes) if registry is not None else []
    if registry is None or not suspects:
        return []
    on_event(
        Event(
            "test",
            f"{label}: {len(suspects)} guarded test(s) failed; running them again on the "
            "candidate and on the base, to tell a flaky test from a broken one",
            tier,
            {"suspects": suspects},
        )
    )
    reruns = _Reruns(suite, {t: _Tally() for t in suspects}, not first.results, clock)
    sides = [("candidate", root)]
    if suite.base_root is not None:
        sides.append(("base", suite.base_root))
    for side, where in sides * RERUNS:  # candidate, base, candidate, base, ...
        pending = [t for t in suspects if not reruns.tallies[t].flaky]
        if not pending or not reruns.once(side, where, pending):
            break
    flaky = [_found(t, reruns.tallies[t]) for t in suspects if reruns.tallies[t].flaky]
    registry.add(flaky)
    for test in flaky:
        on_event(Event("test", f"{label}: {test.test_id} is flaky: {test.counts()}", tier))
    return flaky


def _found(test_id: str, tally: _Tally) -> FlakyTest:
    counts = (tally.candidate_runs, tally.candidate_failures, tally.base_runs, tally.base_failures)
    return FlakyTest(test_id, *counts)


class _Reruns:
    """The re-runs of one candidate's suspects, within one time bound for all of them."""

    def __init__(
        self,
        suite: TestSuite,
        tallies: dict[str, _Tally],
        one_by_one: bool,
        clock: Callable[[], float],
    ) -> None:
        self.suite, self.tallies, self.clock = suite, tallies, clock
        self.one_by_one = one_by_one  # no per-test results: a run speaks for one test only
        self.deadline = clock() + min(RERUN_SECONDS, suite.timeout)

    def once(self, side: str, where: Path, pending: list[str]) -> bool:
        """Run ``pending`` once more in ``where`` and count what each did; False when
        the time is up (a run cut short says nothing)."""
        from ..ecosystems import ecosystem_of
        from ..gitrepo import reset_worktree

        for group in [[t] for t in pending] if self.one_by_one else [pending]:
            left = self.deadline - self.clock()
            if left < 1.0:
                return False
            try:
                run = self.suite.run(where, group, timeout=left)
            finally:
                if side == "base":
                    reset_worktree(where)  # what the run wrote must not reach later runs
            if run.timed_out:
                return False
            per_test = ecosystem_of(self.suite.command).reports_per_test(self.suite.command)
            for test_id, status in _evidence(run, group, per_test).items():
                self.tallies[test_id].count(side, status)
        return True


def _evidence(run: TestRun, ids: list[str], per_test: bool) -> dict[str, str]:
    """What a re-run says about each of ``ids``: passed, failed or error; nothing for a
    test it did not report, nor for a run that could not start."""
    from ..sandbox.runner import EXIT_CANNOT_RUN

    if run.results:
        statuses = {t: status_in(run, t) for t in ids}
        return {t: s for t, s in statuses.items() if s in _EVIDENCE}
    if per_test or len(ids) != 1 or run.exit_code in (None, EXIT_CANNOT_RUN):
        return {}
    return {ids[0]: "passed" if run.exit_code == 0 else "failed"}
