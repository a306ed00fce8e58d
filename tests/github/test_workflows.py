"""The Action and the README's workflows: pinned, least privilege, audited by zizmor offline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).resolve().parent / "zizmor.yml"
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
OWN_ACTION = "swcollab/swc@"


def readme_workflows() -> dict[str, str]:
    """Every ```yaml block of the docs that is a workflow file, by its file name."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages)
    blocks = re.findall(r"```yaml\n(# \.github/workflows/([\w.-]+)\n.*?)```", text, re.S)
    return {name: body for body, name in blocks}


@pytest.fixture(scope="module")
def workflow_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("repo") / ".github" / "workflows"
    folder.mkdir(parents=True)
    for name, body in readme_workflows().items():
        (folder / name).write_text(body, encoding="utf-8")
    return folder


def zizmor(*paths: Path, persona: str) -> list[dict]:
    exe = shutil.which("zizmor")
    assert exe, "zizmor is missing: pip install -e '.[dev]'"
    proc = subprocess.run(
        [
            exe,
            "--offline",
            "--no-progress",
            "--format",
            "json",
            "--persona",
            persona,
            "--config",
            str(CONFIG),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 10, 11, 12, 13, 14), proc.stderr  # findings, not failures
    return json.loads(proc.stdout or "[]")


def test_the_readme_has_the_three_workflows() -> None:
    assert sorted(readme_workflows()) == ["swc-batch.yml", "swc-eval.yml", "swc.yml"]


@pytest.mark.parametrize("persona", ["regular", "auditor"])
def test_zizmor_reports_no_high_finding(workflow_dir: Path, persona: str) -> None:
    findings = zizmor(ROOT / "action.yml", *sorted(workflow_dir.iterdir()), persona=persona)
    high = [
        (f["ident"], f["locations"][0]["symbolic"]["key"])
        for f in findings
        if f["determinations"]["severity"] == "High"
    ]
    assert high == []
    if persona == "regular":
        assert [f["ident"] for f in findings if not f.get("ignored")] == []


def test_zizmor_does_catch_what_it_is_here_for(tmp_path: Path) -> None:
    """The control: an unpinned action and an issue title spliced into a script are
    reported as high."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "name: bad\non: issues\npermissions: {}\njobs:\n  x:\n"
        "    runs-on: ubuntu-latest\n    permissions: {}\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo '${{ github.event.issue.title }}'\n"
    )
    idents = {
        f["ident"]
        for f in zizmor(bad, persona="regular")
        if f["determinations"]["severity"] == "High"
    }
    assert {"unpinned-uses", "template-injection"} <= idents


def _steps(workflow: dict) -> list[tuple[str, dict]]:
    return [(name, step) for name, job in workflow["jobs"].items() for step in job.get("steps", [])]


def test_every_third_party_action_is_pinned_to_a_commit_with_its_tag() -> None:
    texts = [*readme_workflows().values(), (ROOT / "action.yml").read_text()]
    uses = [
        line.strip()
        for text in texts
        for line in text.splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]
    assert uses
    for line in uses:
        ref, _, comment = line.split("uses:", 1)[1].partition("#")
        ref = ref.strip()
        if ref.startswith(OWN_ACTION):
            assert "pin the commit SHA" in comment
            continue
        assert SHA_PIN.match(ref), line
        assert re.match(r"\s*v\d+\.\d+\.\d+", comment), f"say which tag the SHA is: {line}"


def test_least_privilege_and_no_persisted_credentials() -> None:
    for name, text in readme_workflows().items():
        workflow = yaml.safe_load(text)
        assert workflow["permissions"] == {}, name
        for job_name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{name}: job {job_name} sets no permissions"
            assert "write-all" not in str(job["permissions"])
        for job_name, step in _steps(workflow):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, (name, job_name)
        # secrets only in jobs tied to an environment
        for job_name, job in workflow["jobs"].items():
            if "secrets." in json.dumps(job):
                assert job.get("environment") == "swc", (name, job_name)


def test_the_action_installs_and_enables_bubblewrap_and_pushes_with_its_token() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    steps = {step.get("name"): step for step in action["runs"]["steps"]}
    sandbox = steps["Install and enable bubblewrap"]
    assert sandbox["if"] == "runner.os == 'Linux'"
    assert "apt-get install -y -qq bubblewrap" in sandbox["run"]
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in sandbox["run"]
    assert "swc doctor" in steps["Install swc"]["run"]
    fix = next(step for step in action["runs"]["steps"] if step.get("id") == "fix")
    assert fix["env"]["SWC_PUSH_TOKEN"] == "${{ inputs.github-token }}"
