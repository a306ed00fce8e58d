"""The shipped completion scripts are exactly what the current CLI generates, and work."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPLETIONS = ROOT / "completions"
SHELLS = ("bash", "zsh", "fish")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("_SWC_")}
    env.update(extra)
    return env


def cli_output(**extra: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "swcollab"],
        env=_clean_env(**extra),
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


@pytest.mark.parametrize("shell", SHELLS)
def test_completion_file_matches_the_cli(shell: str) -> None:
    shipped = (COMPLETIONS / f"swc.{shell}").read_text()
    generated = cli_output(_SWC_COMPLETE=f"{shell}_source")
    assert "_SWC_COMPLETE" in generated
    assert shipped == generated, (
        f"completions/swc.{shell} is stale: run python completions/generate.py"
    )


def _generator():
    spec = importlib.util.spec_from_file_location("generate", COMPLETIONS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_check_detects_and_fixes_stale_files(tmp_path: Path) -> None:
    generate = _generator()
    for shell in SHELLS:
        shutil.copy(COMPLETIONS / f"swc.{shell}", tmp_path)
    assert generate.main(["--check", "--dir", str(tmp_path)]) == 0

    (tmp_path / "swc.zsh").write_text("# an old script\n")
    (tmp_path / "swc.fish").unlink()
    assert generate.stale(tmp_path) == ["zsh", "fish"]
    assert generate.main(["--check", "--dir", str(tmp_path)]) == 1

    assert generate.main(["--dir", str(tmp_path)]) == 0
    assert generate.stale(tmp_path) == []


def test_completion_offers_commands_and_subcommands() -> None:
    top = cli_output(_SWC_COMPLETE="bash_complete", COMP_WORDS="swc con", COMP_CWORD="1")
    assert "plain,config" in top.split()
    sub = cli_output(_SWC_COMPLETE="bash_complete", COMP_WORDS="swc config ", COMP_CWORD="2")
    assert set(sub.split()) == {"plain,show", "plain,path"}


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_script_is_valid_bash() -> None:
    proc = subprocess.run(
        ["bash", "-n", str(COMPLETIONS / "swc.bash")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
