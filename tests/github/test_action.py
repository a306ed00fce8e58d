"""action.yml: well-formed, injection-safe, its flags exist on ``swc fix``, its script works."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .helpers import git

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = ACTION["runs"]["steps"]
FIX_STEP = next(step for step in STEPS if step.get("id") == "fix")


def test_composite_action_with_the_documented_inputs_and_outputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) >= {
        "weak-model",
        "strong-model",
        "budget",
        "strategy",
        "issue-number",
        "test-cmd",
        "extra-args",
        "trust-repo-config",
    }
    assert ACTION["inputs"]["issue-number"]["default"] == "${{ github.event.issue.number }}"
    assert {name: out["value"] for name, out in ACTION["outputs"].items()} == {
        "verdict": "${{ steps.fix.outputs.verdict }}",
        "branch": "${{ steps.fix.outputs.branch }}",
        "cost": "${{ steps.fix.outputs.cost }}",
        "pr-url": "${{ steps.fix.outputs.pr-url }}",
    }
    assert any(str(step.get("uses", "")).startswith("actions/setup-python@") for step in STEPS)
    assert any(
        "pip install" in step.get("run", "") and '"$GITHUB_ACTION_PATH"' in step["run"]
        for step in STEPS
    )


def test_no_expression_is_interpolated_into_a_script() -> None:
    for step in STEPS:
        assert "${{" not in step.get("run", ""), step.get("name")


def test_every_input_reaches_the_fix_step_through_env() -> None:
    values = " ".join(FIX_STEP["env"].values())
    for name in (
        "issue-number",
        "weak-model",
        "strong-model",
        "budget",
        "strategy",
        "test-cmd",
        "extra-args",
        "trust-repo-config",
        "github-token",
    ):
        assert f"inputs.{name} }}}}" in values, name


def action_flags() -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", FIX_STEP["run"]))


def test_flags_passed_by_the_action_exist_on_swc_fix() -> None:
    from swcollab.cli.fix_cmd import fix  # the lead's command; fails until it lands

    options = {opt for param in fix.params for opt in (*param.opts, *param.secondary_opts)}
    used = action_flags()
    assert used >= {
        "--issue",
        "--push",
        "--pr",
        "--comment",
        "--json",
        "--weak",
        "--strong",
        "--budget",
        "--strategy",
        "--test-cmd",
    }
    assert used - options == set()


# -- the fix step's script, run for real with a fake swc ----------------------------------

FAKE_SWC = """\
import json, os, sys
with open(os.environ["FAKE_SWC_ARGS"], "w") as fh:
    json.dump(sys.argv[1:], fh)
with open(os.environ["FAKE_SWC_TRUST"], "w") as fh:
    fh.write(os.environ.get("SWC_TRUST_REPO_CONFIG", "unset"))
print(os.environ.get("FAKE_SWC_JSON", ""))
sys.exit(int(os.environ.get("FAKE_SWC_EXIT", "0")))
"""

RESULT = {
    "verdict": "fixed",
    "branch": "swc/issue-42",
    "cost_usd": 0.0123,
    "pr_url": "https://github.com/o/r/pull/7",
    "report_markdown": "## swc: fixed #42\n\n| tier | attempts |\n|---|---|\n",
}


@pytest.fixture
def runner(tmp_path: Path, make_repo):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    swc = bin_dir / "swc"
    swc.write_text(f"#!{sys.executable}\n{FAKE_SWC}")
    swc.chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    workdir: Path = make_repo("checkout")
    git(workdir, "config", "user.email", "dev@example.com")

    def run(inputs: dict[str, str], *, swc_json: str = "", swc_exit: int = 0):
        files = {name: tmp_path / name for name in ("output", "summary", "args")}
        for path in files.values():
            path.write_text("")
        env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(tmp_path),
            "RUNNER_TEMP": str(tmp_path),
            "GITHUB_OUTPUT": str(files["output"]),
            "GITHUB_STEP_SUMMARY": str(files["summary"]),
            "GIT_CONFIG_GLOBAL": os.environ["GIT_CONFIG_GLOBAL"],
            "FAKE_SWC_ARGS": str(files["args"]),
            "FAKE_SWC_TRUST": str(tmp_path / "trust"),
            "FAKE_SWC_JSON": swc_json,
            "FAKE_SWC_EXIT": str(swc_exit),
        }
        # What GitHub does: the step's env with each ${{ inputs.x }} evaluated.
        for var, expression in FIX_STEP["env"].items():
            name = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", expression)[1]
            env[var] = inputs.get(name, "")
        proc = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", FIX_STEP["run"]],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
        )
        args = json.loads(files["args"].read_text() or "null")
        return proc, args, parse_outputs(files["output"].read_text()), files["summary"]

    return run


def parse_outputs(text: str) -> dict[str, str]:
    outputs, lines = {}, iter(text.splitlines())
    for line in lines:
        name, delimiter = line.split("<<", 1)
        value = []
        for inner in lines:
            if inner == delimiter:
                break
            value.append(inner)
        outputs[name] = "\n".join(value)
    return outputs


def test_script_passes_inputs_and_writes_outputs_and_summary(runner, tmp_path: Path) -> None:
    proc, args, outputs, summary = runner(
        {
            "issue-number": "42",
            "weak-model": "openai/gpt-4o-mini",
            "budget": "0.5",
            "strategy": "strong-first",
            "test-cmd": "pytest -x tests",
            "extra-args": "--keep-failed --base $(touch pwned) *",
        },
        swc_json=json.dumps(RESULT),
    )
    assert proc.returncode == 0, proc.stderr
    assert args == [
        "fix",
        "--issue",
        "42",
        "--push",
        "--pr",
        "--comment",
        "--json",
        "--weak",
        "openai/gpt-4o-mini",
        "--budget",
        "0.5",
        "--strategy",
        "strong-first",
        "--test-cmd",
        "pytest -x tests",
        "--keep-failed",
        "--base",
        "$(touch",
        "pwned)",
        "*",
    ]
    assert not list(tmp_path.rglob("pwned"))
    assert outputs == {
        "verdict": "fixed",
        "branch": "swc/issue-42",
        "cost": "0.0123",
        "pr-url": "https://github.com/o/r/pull/7",
    }
    assert summary.read_text() == RESULT["report_markdown"]


def test_not_fixed_keeps_the_job_going_and_errors_fail_it(runner) -> None:
    not_fixed = {"verdict": "not_fixed", "branch": None, "cost_usd": 0.2, "pr_url": None}
    proc, _, outputs, _ = runner({"issue-number": "5"}, swc_json=json.dumps(not_fixed), swc_exit=1)
    assert proc.returncode == 0
    assert outputs == {"verdict": "not_fixed", "branch": "", "cost": "0.2", "pr-url": ""}
    proc, _, outputs, summary = runner({"issue-number": "5"}, swc_exit=3)
    assert proc.returncode == 3
    assert outputs["verdict"] == "" and summary.read_text() == ""


def test_without_an_issue_number_the_step_fails_clearly(runner) -> None:
    proc, args, _, _ = runner({})
    assert proc.returncode == 2 and "no issue number" in proc.stdout
    assert args is None  # swc never ran


def test_the_repository_configuration_is_trusted_only_as_the_input_says(
    runner, tmp_path: Path
) -> None:
    assert ACTION["inputs"]["trust-repo-config"]["default"] == "true"
    for value, seen in (("true", "1"), ("", "unset"), ("false", "unset")):
        proc, _args, _outputs, _summary = runner(
            {"issue-number": "5", "trust-repo-config": value}, swc_json="{}"
        )
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / "trust").read_text() == seen, value
    # swc doctor, in the step before, judges the same configuration
    install = next(step for step in STEPS if step.get("name") == "Install swc")
    assert install["env"]["SWC_TRUST_INPUT"] == "${{ inputs.trust-repo-config }}"
    script = install["run"]
    assert script.index("export SWC_TRUST_REPO_CONFIG=1") < script.index("swc doctor")


def test_pre_commit_hook_definition() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hooks == [hooks[0]] and hooks[0]["id"] == "swc"
    assert hooks[0]["entry"] == "swc hook run"
    assert hooks[0]["stages"] == ["pre-push"]
    assert hooks[0]["pass_filenames"] is False and hooks[0]["language"] == "python"
