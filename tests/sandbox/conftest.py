"""Real temporary git repositories for the sandbox tests, isolated from the user's git config."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .helpers import git, write


@pytest.fixture(autouse=True)
def _isolated_git_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path_factory.mktemp("gitconfig") / "config"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


MakeRepo = Callable[..., Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """``make_repo(files)`` -> a repository with one commit holding ``files``."""
    counter = iter(range(1000))

    def make(files: dict[str, str], *, name: str | None = None) -> Path:
        root = tmp_path / (name or f"repo{next(counter)}")
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        git(root, "config", "user.name", "Repo Owner")
        git(root, "config", "user.email", "owner@example.com")
        write(root, files)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "initial")
        return root

    return make


@pytest.fixture
def wt_tmp(tmp_path: Path) -> Iterator[Path]:
    """Where this test's worktrees go; checked to be empty of swc holders at the end."""
    path = tmp_path / "wt-tmp"
    path.mkdir()
    yield path
    leftovers = sorted(p.name for p in path.iterdir() if p.name.startswith("swc-"))
    assert leftovers == [], f"worktree holders left behind: {leftovers}"
