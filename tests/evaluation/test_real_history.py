"""Mining a real project's history (itsdangerous, from the shared git bundle)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from swcollab.evaluation.hidden import TestConfig
from swcollab.evaluation.mining import mine_history

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLE_PLACES = (Path("/work/shared/repos"), REPO_ROOT.parent / "shared" / "repos")


def _bundle(name: str) -> Path | None:
    for place in BUNDLE_PLACES:
        if (place / name).is_file():
            return place / name
    return None


@pytest.mark.slow
def test_mine_three_real_tasks(tmp_path: Path):
    bundle = _bundle("itsdangerous.bundle")
    if bundle is None:
        pytest.skip("itsdangerous.bundle not found in /work/shared/repos or ../shared/repos")
    root = tmp_path / "itsdangerous"
    subprocess.run(["git", "clone", "-q", str(bundle), str(root)], check=True)
    config = TestConfig(f"{sys.executable} -m pytest -q", 300.0)
    mined = mine_history(root, config, limit=3)
    assert len(mined.tasks) == 3
    assert any(s.reason == "changes no test files" for s in mined.skips)
    for task in mined.tasks:
        fix = task.extra["fix_commit"]
        parent = subprocess.run(
            ["git", "rev-parse", f"{fix}^"], cwd=root, check=True, capture_output=True, text=True
        ).stdout.strip()
        assert task.base_commit == parent
        assert task.fail_to_pass and task.patch and task.test_patch
        assert all(t.split("::")[0] in task.hidden_test_files for t in task.fail_to_pass)
        assert not set(task.fail_to_pass) & set(task.pass_to_pass)
        assert "tests/" not in "".join(
            line for line in task.patch.splitlines() if line.startswith("diff --git")
        )
