"""``--strategy best-of-n``: N weak candidates, the strong model picks; tests still judge."""

from __future__ import annotations

import sqlite3

from engine.conftest import GOOD_PATCH, PASSING_TEST, WRONG_PATCH, git
from engine.test_fix import fix, ops_on

OTHER_GOOD_PATCH = """calc/ops.py
```python
<<<<<<< SEARCH
    return a - b
=======
    return b + a
>>>>>>> REPLACE
```
"""


def calls(project) -> list[tuple[str, str]]:
    conn = sqlite3.connect(project / ".git" / "swc" / "ledger.db")
    return conn.execute("SELECT tier, purpose FROM calls ORDER BY id").fetchall()


def test_every_candidate_is_drafted_and_strong_picks_among_the_passing(
    project, models, monkeypatch
):
    monkeypatch.setenv("SWC_WEAK_CANDIDATES", "3")
    script = models(
        weak_patches=[GOOD_PATCH, WRONG_PATCH, OTHER_GOOD_PATCH],
        judge='{"choice": 2, "reason": "the second reads better"}',
    )
    code, doc, err = fix(project, "--strategy", "best-of-n")
    assert code == 0, err
    assert script.count("weak", "patch") == 3  # no early stop at the first passing one
    assert script.count("strong", "pick") == 1 and script.count("strong", "patch") == 0
    assert calls(project)[-1] == ("strong", "pick")
    # the pick saw only the two that pass; its choice 2 is the third candidate
    assert doc["winner"]["candidate"] == 3
    assert "return b + a" in ops_on(project, doc["branch"])
    assert doc["verdict"] == "fixed" and not doc["branch"].endswith("-unverified")
    assert any("best of 3: 2 candidate(s) passed the tests" in n for n in doc["notes"])
    assert "tests/test_swc_add" in " ".join(
        git(project, "show", "--name-only", "--format=", doc["branch"]).split()
    )


def test_one_passing_candidate_needs_no_pick(project, models, monkeypatch):
    monkeypatch.setenv("SWC_WEAK_CANDIDATES", "2")
    script = models(weak_patches=[WRONG_PATCH, GOOD_PATCH])
    code, doc, err = fix(project, "--strategy", "best-of-n")
    assert code == 0, err
    assert script.count("strong") == 0
    assert doc["winner"]["candidate"] == 2


def test_none_passing_is_not_fixed_and_strong_never_drafts(project, models, monkeypatch):
    monkeypatch.setenv("SWC_WEAK_CANDIDATES", "2")
    script = models(weak_patches=[WRONG_PATCH])
    code, doc, _ = fix(project, "--strategy", "best-of-n")
    assert code == 1
    assert doc["verdict"] == "not_fixed" and doc["branch"] is None
    assert script.count("strong") == 0


def test_without_a_test_that_judges_strong_picks_unverified(project, models, monkeypatch):
    monkeypatch.setenv("SWC_WEAK_CANDIDATES", "2")
    script = models(
        weak_tests=[PASSING_TEST],
        weak_patches=[WRONG_PATCH, GOOD_PATCH],
        judge='{"choice": 2, "reason": "adds"}',
    )
    code, doc, _ = fix(project, "--strategy", "best-of-n")
    assert code == 1
    assert doc["verdict"] == "unverified" and doc["branch"].endswith("-unverified")
    assert script.count("strong", "judge") == 1 and script.count("strong", "tests") == 0
    assert "return a + b" in ops_on(project, doc["branch"])


def test_at_least_two_candidates_by_default(project, models, monkeypatch):
    monkeypatch.setenv("SWC_BUDGET", "0.01")  # too little for more than one by the plan
    models(weak_patches=[WRONG_PATCH])
    code, doc, _ = fix(project, "--strategy", "best-of-n")
    assert code in (1, 4)
    assert doc["plan"][0]["candidates"] >= 2
