"""The whole cascade offline with the real SmolLM2 (local/smollm2) as both tiers.

The model's luck decides whether the bug gets fixed; this test asserts only what does
not depend on it: the run completes, the ledger and the report agree with the verdict,
and the branch exists exactly when the tests passed.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.conftest import git
from swcollab.cli import cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="the local extra (llama-cpp-python) is not installed",
    ),
]


def test_cascade_offline_with_smollm2(tmp_path: Path) -> None:
    root = tmp_path / "tiny"
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(
        'def add(a, b):\n    """Return the sum of a and b."""\n    return a - b\n'
    )
    (root / "tests" / "test_add.py").write_text(
        "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init")

    result = CliRunner().invoke(
        cli,
        [
            "--repo",
            str(root),
            "fix",
            "--prompt",
            "add(2, 3) should return 5 but returns -1",
            "--tests",
            "tests/test_add.py",
            "--weak",
            "local/smollm2",
            "--strong",
            "local/smollm2",
            "--test-cmd",
            f"{sys.executable} -m pytest -q",
            "--json",
        ],
    )
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    assert doc["verdict"] in ("fixed", "not_fixed")
    assert doc["cost_usd"] == 0 and doc["calls"] >= 2
    assert [p["edit_format"] for p in doc["plan"]] == ["whole", "whole"]
    branches = git(root, "branch", "--format=%(refname:short)").split()
    if doc["verdict"] == "fixed":
        assert result.exit_code == 0 and doc["branch"] in branches
        assert "a + b" in git(root, "show", f"{doc['branch']}:calc/ops.py") or "b + a" in git(
            root, "show", f"{doc['branch']}:calc/ops.py"
        )
    else:
        assert result.exit_code == 1 and doc["branch"] is None
        assert not [b for b in branches if b.startswith("swc/")]
    conn = sqlite3.connect(root / ".git" / "swc" / "ledger.db")
    verdict, calls = conn.execute(
        "SELECT verdict, (SELECT COUNT(*) FROM calls) FROM runs"
    ).fetchone()
    assert verdict == doc["verdict"] and calls == doc["calls"]
    report = Path(doc["report_path"]).read_text()
    assert doc["verdict"].replace("_", " ") in report.lower()
    # the working tree is untouched and no llama server outlives the run
    assert "return a - b" in (root / "calc" / "ops.py").read_text()
