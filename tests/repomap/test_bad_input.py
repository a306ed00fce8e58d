"""Every bad input of the issue, through the API and through ``swc map``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from swcollab.cli import cli
from swcollab.errors import NotAGitRepository, UsageError
from swcollab.output import reset_consoles
from swcollab.repomap import Focus, build_repo_map

from .conftest import MakeRepo, git


def swc(*args: str) -> tuple[int, str, str]:
    reset_consoles()
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_not_a_git_repository(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f(): pass\n")
    with pytest.raises(NotAGitRepository):
        build_repo_map(tmp_path, Focus())
    code, out, err = swc("--repo", str(tmp_path), "map")
    assert code == 3
    assert "not inside a git repository" in err
    assert out == ""


def test_empty_repository(make_repo: MakeRepo) -> None:
    repo = make_repo()
    result = build_repo_map(repo, Focus(text="anything"))
    assert result.text == "" and result.files == () and result.tokens == 0
    assert any("no supported source files" in w for w in result.warnings)
    code, out, err = swc("--repo", str(repo), "map")
    assert code == 0 and out == ""
    assert "no supported source files" in err


def test_repository_without_supported_files(make_repo: MakeRepo) -> None:
    repo = make_repo({"README.md": "# hi\n", "data.csv": "a,b\n", "notes.txt": "x\n"})
    result = build_repo_map(repo, Focus())
    assert result.files == ()
    assert result.stats.files_total == 3
    assert result.stats.skipped == {"unsupported language": 3}


def test_binary_and_huge_files_are_left_out(make_repo: MakeRepo) -> None:
    repo = make_repo(
        {
            "ok.py": "def visible_function():\n    pass\n",
            "blob.py": b"\x00\x01binary\x00" * 100,
            "huge.py": "def hidden_function():\n    pass\n" + "# padding\n" * 2000,
        }
    )
    result = build_repo_map(repo, Focus(), max_file_size=10_000)
    assert [f.path for f in result.files] == ["ok.py"]
    assert "visible_function" in result.text
    assert "hidden_function" not in result.text
    assert result.stats.skipped["binary"] == 1
    assert result.stats.skipped["too large"] == 1


def test_invalid_utf8_file_is_mapped(make_repo: MakeRepo) -> None:
    repo = make_repo({"latin.py": b"# caf\xe9\ndef read_menu():\n    return '\xe9'\n"})
    result = build_repo_map(repo, Focus())
    assert "def read_menu():" in result.text


def test_file_with_syntax_errors_is_mapped(make_repo: MakeRepo) -> None:
    repo = make_repo(
        {
            "broken.py": "def first_ok():\n    pass\n\ndef (((:\n\nclass AfterError:\n"
            "    def still_found(self):\n        pass\n"
        }
    )
    result = build_repo_map(repo, Focus())
    assert "def first_ok():" in result.text
    assert "class AfterError:" in result.text


def test_symlinks_to_outside_are_never_followed(make_repo: MakeRepo) -> None:
    repo = make_repo(
        {"real.py": "def inside():\n    pass\n", "swapped.py": "def later_a_link():\n    pass\n"},
        commit=False,
    )
    os.symlink("/etc", repo / "etc_link")
    os.symlink("/etc/hostname", repo / "hostname.py")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "links")
    # A tracked file replaced by a link in the working tree is not read either.
    (repo / "swapped.py").unlink()
    os.symlink("/etc/passwd", repo / "swapped.py")
    result = build_repo_map(repo, Focus(text="hostname etc passwd root"))
    assert [f.path for f in result.files] == ["real.py"]
    assert result.stats.skipped["symlink"] == 2
    assert result.stats.skipped["not a regular file"] == 1
    assert "root" not in result.text
    with pytest.raises(UsageError, match="outside the repository"):
        build_repo_map(repo, Focus(), paths=[str(repo / "etc_link")])
    code, _out, err = swc("--repo", str(repo), "map", str(repo / "etc_link"))
    assert code == 2 and "outside the repository" in err


def test_submodule_is_not_entered(make_repo: MakeRepo) -> None:
    inner = make_repo({"lib.py": "def from_submodule():\n    pass\n"})
    repo = make_repo({"main.py": "def from_main():\n    pass\n"})
    git(repo, "submodule", "add", "-q", str(inner), "vendorlib")
    git(repo, "commit", "-qm", "submodule")
    assert (repo / "vendorlib" / "lib.py").exists()
    result = build_repo_map(repo, Focus())
    assert [f.path for f in result.files] == ["main.py"]
    assert "from_submodule" not in result.text
    assert result.stats.skipped["submodule"] == 1


def test_path_argument_outside_the_repository(make_repo: MakeRepo, tmp_path: Path) -> None:
    repo = make_repo({"a.py": "def f():\n    pass\n"})
    with pytest.raises(UsageError):
        build_repo_map(repo, Focus(), paths=[str(tmp_path)])
    code, out, err = swc("--repo", str(repo), "map", str(tmp_path))
    assert code == 2 and out == ""
    assert "outside the repository" in err


@pytest.mark.parametrize("tokens", ["0", "-5"])
def test_zero_or_negative_token_budget(make_repo: MakeRepo, tokens: str) -> None:
    repo = make_repo({"a.py": "def f():\n    pass\n"})
    code, out, err = swc("--repo", str(repo), "map", "--tokens", tokens)
    assert code == 2 and out == ""
    assert "--tokens" in err
    with pytest.raises(UsageError, match="positive"):
        build_repo_map(repo, Focus(), tokens=int(tokens))


def test_corrupted_cache_database_is_rebuilt(make_repo: MakeRepo) -> None:
    repo = make_repo({"a.py": "def cached_function():\n    pass\n"})
    first = build_repo_map(repo, Focus())
    assert first.warnings == ()
    db = repo / ".git" / "swc" / "tags.db"
    assert db.is_file()
    db.write_bytes(b"this is not a database at all" * 100)
    second = build_repo_map(repo, Focus())
    assert "def cached_function():" in second.text
    assert second.stats.files_parsed == 1
    assert any("rebuilt" in w for w in second.warnings)
    assert (repo / ".git" / "swc" / "tags.db.broken").is_file()
    db.write_bytes(b"\x00garbage" * 1000)
    code, out, err = swc("--repo", str(repo), "map")
    assert code == 0
    assert "def cached_function():" in out
    assert "rebuilt" in err


def test_vendored_and_generated_files_are_left_out(make_repo: MakeRepo) -> None:
    repo = make_repo(
        {
            "app/main.py": "def run_app():\n    pass\n",
            "node_modules/lib/index.js": "function vendoredThing() {}\n",
            "third_party/dep.py": "def vendored_helper():\n    pass\n",
            "web/bundle.min.js": "function minified(){}\n",
            "proto/api_pb2.py": "def generated_message():\n    pass\n",
            "gen/schema.py": "def marked_generated():\n    pass\n",
            "extern/copy.go": "package extern\nfunc Copied() {}\n",
            ".gitattributes": "gen/** linguist-generated\nextern/** linguist-vendored=true\n",
        }
    )
    result = build_repo_map(repo, Focus())
    assert [f.path for f in result.files] == ["app/main.py"]
    assert result.stats.skipped["vendored directory"] == 2
    assert result.stats.skipped["generated"] == 2
    assert result.stats.skipped["generated or vendored (.gitattributes)"] == 2


# --- one long word in the task: the patterns over the task start only where their run
# starts (no scan of the rest of the run from each of its characters) and never nest
# quantifiers that split one run many ways; benchmarks/bad_input.py measures the time.


def test_task_patterns_start_only_at_the_start_of_a_run() -> None:
    from swcollab.engine import spans
    from swcollab.repomap import focus

    assert focus._PATH.match("a+b.py", 2) is None  # "b.py" inside the run "a+b.py"
    assert focus._PATH.search("see a+b.py now").group(1) == "a+b.py"
    assert spans._COLON_FRAME.match("xa.py:3", 1) is None
    assert spans._COLON_FRAME.search("at x/a.py:3").group("path") == "x/a.py"
    assert focus._RUST_FRAME.search("\n\n   3: a::b") is not None


def test_a_camel_case_trap_ends(tmp_path: Path) -> None:
    """``Aa`` then forty capitals then ``_``: the old pattern tried each of the 2^40 ways
    to split the capitals (a task of a hundred characters never finished). Run in a
    process of its own, waited for with a deadline: the old pattern would still run."""
    import subprocess
    import sys

    code = (
        "from swcollab.repomap import focus_from_text\n"
        "f = focus_from_text(('Aa' + 'A' * 40 + '_ ') * 100 + 'parseHeader here')\n"
        "print('parseHeader' in f.identifiers)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "True"
