"""``swc fix`` end to end with a candidate whose tests exhaust the sandbox's memory: the
real sandbox stops them at a small limit set by the user, the candidate is rejected with
the limit named, the next candidate runs and fixes the task."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.conftest import GOOD_PATCH
from swcollab.cli import cli
from swcollab.sandbox import limits as limits_module
from swcollab.sandbox import probe_sandbox

PROMPT = "add(2, 3) returns -1 instead of 5: the sum is wrong"

# the right sum, after taking 1 GB (every page written) on each call
HOG_PATCH = """calc/ops.py
```python
<<<<<<< SEARCH
    return a - b
=======
    hog = [b"\\x01" * (16 << 20) for _ in range(64)]
    return a + b
>>>>>>> REPLACE
```
"""


@pytest.mark.parametrize("mechanism", ["machine", "rlimits"])
def test_a_candidate_exhausting_memory_is_rejected_naming_the_limit(
    project, models, monkeypatch, mechanism
):
    """ "machine": a cgroup where swc may make one here; "rlimits": without cgroups."""
    if not probe_sandbox().available:
        pytest.fail(f"the sandbox does not work here: {probe_sandbox().problem}")
    if mechanism == "rlimits":
        monkeypatch.setattr(limits_module, "cgroup_place", lambda: None)
    monkeypatch.setenv("SWC_SANDBOX_MEMORY_MB", "256")
    script = models(weak_patches=[HOG_PATCH, GOOD_PATCH])
    result = CliRunner().invoke(
        cli,
        ["--repo", str(project), "fix", "--prompt", PROMPT, "--json"],
        catch_exceptions=False,
    )
    doc = json.loads(result.stdout)
    assert result.exit_code == 0, (doc.get("error"), result.stderr)
    assert doc["verdict"] == "fixed" and script.count("strong") == 0
    hog, good = doc["attempts"]
    assert not hog["accepted"] and good["accepted"]
    # a cgroup's kill is certain ("hit"); an rlimit's MemoryError is the likely cause
    assert "hit the sandbox's memory limit (256 MB" in (hog["limit_hit"] or ""), hog
    assert good["limit_hit"] is None
    assert "sandbox_memory_mb" in doc["report_markdown"]
    assert "hog = " not in doc["diff"]
