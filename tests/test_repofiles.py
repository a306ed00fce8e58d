"""Repository files reach a prompt as regular files of the commit, never through a link
(swcollab/repofiles.py), and prompt templates cannot run code (swcollab/prompts)."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from swcollab.brief import _readme, load_brief
from swcollab.engine.spans import read_source
from swcollab.errors import ConfigError
from swcollab.prompts import render
from swcollab.repofiles import read_regular, regular_blob
from swcollab.repomap.files import list_source_files

SECRET = "TOP-SECRET-LINE from outside the repository\n"


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.py").write_text(f"# {SECRET}def stolen():\n    return 1\n")
    (folder / "passwd").write_text(SECRET)
    return folder


@pytest.fixture
def repo(tmp_path: Path, outside: Path) -> Path:
    """A commit with regular files and tracked symlinks leading out of the repository."""
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "ok.py").write_text("def fine():\n    return 2\n")
    (root / "src" / "leak.py").symlink_to(outside / "secret.py")
    (root / "README.md").symlink_to(outside / "passwd")
    (root / "README.rst").write_text("The real readme.\n")
    (root / "vendorlink").symlink_to(outside)
    (root / ".swc").mkdir()
    (root / ".swc" / "brief.md").symlink_to(outside / "passwd")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.email=a@b", "-c", "user.name=A", "commit", "-qm", "links")
    return root


def test_regular_blob_reads_regular_files_of_the_commit_only(repo: Path) -> None:
    assert regular_blob(repo, "HEAD", "src/ok.py") == b"def fine():\n    return 2\n"
    for path in ("README.md", "src/leak.py", "vendorlink", "src", "missing.py"):
        assert regular_blob(repo, "HEAD", path) is None, path


def test_the_brief_skips_a_symlinked_readme_and_committed_brief(repo: Path) -> None:
    assert _readme(repo, "HEAD") == "The real readme.\n"
    assert load_brief(repo, repo / ".git" / "swc") is None  # .swc/brief.md is a link


def test_read_regular_never_follows_a_link_anywhere_on_the_path(repo: Path, outside: Path) -> None:
    assert read_regular(repo, "src/ok.py") == b"def fine():\n    return 2\n"
    assert read_regular(repo, "src/leak.py") is None  # a link at the end
    assert read_regular(repo, "vendorlink/secret.py") is None  # a linked directory on the way
    assert read_regular(repo, "../outside/passwd") is None
    assert read_regular(repo, str(outside / "passwd")) is None
    assert read_regular(repo, "src") is None  # a directory
    assert read_source(repo, "vendorlink/secret.py") is None
    assert read_source(repo, "src/ok.py") == ["def fine():", "    return 2"]


def test_a_fifo_is_refused_without_waiting_for_a_writer(repo: Path) -> None:
    os.mkfifo(repo / "src" / "pipe.py")
    result: list[bytes | None] = []
    reader = threading.Thread(target=lambda: result.append(read_regular(repo, "src/pipe.py")))
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock the reader, then fail
        with open(repo / "src" / "pipe.py", "wb"):
            pass
        pytest.fail("read_regular blocked on a FIFO")
    assert result == [None]


def test_the_map_lists_only_regular_files(repo: Path) -> None:
    listing = list_source_files(repo, max_file_size=1_000_000)
    assert [f.path for f in listing.files] == ["src/ok.py"]
    # README.md, src/leak.py, vendorlink and .swc/brief.md
    assert listing.skipped["symlink"] == 4


def test_a_directory_replaced_by_a_link_in_the_working_tree_is_not_read(
    repo: Path, outside: Path
) -> None:
    """The index says src/ok.py is a regular file; the working tree's src/ is now a link."""
    (outside / "ok.py").write_text(f"# {SECRET}def fine():\n    return 3\n")
    real = repo / "src"
    real.rename(repo / "src-moved")
    real.symlink_to(outside)
    listing = list_source_files(repo, max_file_size=1_000_000)
    assert listing.files == [] or all(f.path != "src/ok.py" for f in listing.files)
    assert read_source(repo, "src/ok.py") is None


# -- templates --------------------------------------------------------------------------


def test_a_template_reaching_os_system_is_an_error_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    payloads = [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}",
        "{{ self.__init__.__globals__.__builtins__.__import__('os').system('touch "
        + str(marker)
        + "') }}",
    ]
    for index, payload in enumerate(payloads):
        (prompts / f"evil{index}.j2").write_text(payload)
        with pytest.raises(ConfigError) as caught:
            render(f"evil{index}", prompts_dir=str(prompts))
        assert caught.value.message.startswith(f"prompt template evil{index}.j2: ")
        assert "unsafe" in caught.value.message or "undefined" in caught.value.message
    assert not marker.exists()


def test_a_template_linking_out_of_its_directory_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.j2"
    outside.write_text("SECRET TEMPLATE {{ task }}")
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "system.j2").symlink_to(outside)
    with pytest.raises(ConfigError, match="links outside it"):
        render("system", prompts_dir=str(prompts))
    # a link inside the directory is fine
    (prompts / "real.j2").write_text("hello {{ who }}")
    (prompts / "plan.j2").symlink_to(prompts / "real.j2")
    assert render("plan", prompts_dir=str(prompts), who="you") == "hello you"
