"""``swc eval -j 2`` gives the results of ``-j 1`` when every test writes the same file in
the temp directory (as click's own tests do): each test run has a temp directory of its
own, in the sandbox (a private /tmp) and without it (TMPDIR per run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from swcollab.cli import cli
from tests.evaluation.conftest import Models, make_history

# Every test run of the project writes one fixed file in the temp directory and reads it
# back at its end: two runs sharing that directory overwrite each other's and fail.
SHARED_TEMP_FILE = """import os
import tempfile
import time
import uuid

import pytest


@pytest.fixture(scope="session", autouse=True)
def shared_temp_file():
    path = os.path.join(tempfile.gettempdir(), "calc-shared-state.txt")
    token = uuid.uuid4().hex
    with open(path, "w") as fh:
        fh.write(token)
    time.sleep(0.3)
    yield
    with open(path) as fh:
        assert fh.read() == token, "another test run wrote the shared temp file"
"""


def resolved(root: Path, db: Path, jobs: int, *extra: str) -> dict[str, bool]:
    result = CliRunner().invoke(
        cli,
        [
            "--repo",
            str(root),
            "eval",
            "--from-history",
            "--strategies",
            "weak",
            "--db",
            str(db),
            "--json",
            "-j",
            str(jobs),
            *extra,
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert sum(row["tasks"] for row in document["table"]) == 3
    return {f"{r['task_id']}|{r['strategy']}": r["resolved"] for r in document["runs"]}


@pytest.mark.parametrize("sandbox", ["on", "off"])
def test_two_jobs_give_the_results_of_one(tmp_path: Path, models: Models, sandbox: str):
    root = tmp_path / "calc-project"
    make_history(root, {"conftest.py": SHARED_TEMP_FILE})
    extra = ("--no-sandbox",) if sandbox == "off" else ()
    one = resolved(root, tmp_path / "one.db", 1, *extra)
    two = resolved(root, tmp_path / "two.db", 2, *extra)
    assert two == one
    # the weak model solves alpha only (tests/evaluation/conftest.py): no more, no less
    assert sum(one.values()) == 1 and len(one) == 3
