"""Small projects of each ecosystem in real git repositories, and ``swc`` run on them
through the CLI with the scripted loopback models and no test command configured."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from engine.conftest import Script, commit_project, trust

from swcollab.cli import cli
from tests.fakes.model_config import configure_fake_tiers
from tests.fakes.openai_server import FakeOpenAI


def needs(program: str) -> None:
    """Skip, saying so, where a toolchain is missing."""
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed here (the test needs its toolchain)")


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def make_project(
    tmp_path: Path, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[Path, Script]]:
    """A git repository holding ``files``, both tiers scripted with ``answers`` (a
    ``Script``'s fields), and no test command configured: swc detects it."""

    def make(files: dict[str, str], **answers: object) -> tuple[Path, Script]:
        root = commit_project(tmp_path / "proj", files)
        configure_fake_tiers(monkeypatch, tmp_path / "xdg", fake_llm.base_url, weak_candidates=1)
        config = tmp_path / "xdg" / "swc" / "config.toml"
        config.write_text(
            config.read_text()
            .replace("test_cmd = ", "# test_cmd = ")
            .replace("test_timeout = 120", "test_timeout = 300")
            .replace("tests = 1\n", "")  # the strong tier writes tests only when needed
        )
        (root / ".swc.toml").write_text('test_cmd = ""\n')  # untracked: swc's own file
        trust(root)
        script = Script(**answers)  # type: ignore[arg-type]
        fake_llm.set_handler(script.answer)
        return root, script

    return make


def swc(root: Path, *args: str) -> tuple[int, dict, str]:
    """``swc --repo root ARGS --json``: (exit code, the JSON document, stderr)."""
    result = CliRunner().invoke(cli, ["--repo", str(root), *args, "--json"], catch_exceptions=False)
    document = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, document, result.stderr


def fix(root: Path, prompt: str, *args: str) -> tuple[int, dict, str]:
    return swc(root, "fix", "--prompt", prompt, *args)


def outcomes(document: dict, tier: str) -> list[dict]:
    """The test outcomes of ``tier``'s attempts."""
    return [o for a in document["attempts"] if a["tier"] == tier for o in a["tests"]]


def checkout(root: Path, branch: str, into: Path) -> Path:
    """The branch checked out in a worktree of its own (``into``), to run its tests."""
    git(root, "worktree", "add", "-q", "--detach", str(into), branch)
    return into


def patch(path: str, search: str, replace: str, fence: str = "") -> str:
    """A search/replace answer changing ``search`` to ``replace`` in ``path``."""
    return (
        f"{path}\n```{fence}\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n```\n"
    )


def reply_with_test(path: str, code: str, fence: str) -> str:
    return f"{path}\n```{fence}\n{code}```\n"
