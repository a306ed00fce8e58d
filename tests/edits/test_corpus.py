"""The edit corpus: real-looking model answers with the files they edit and the outcome.

Each directory under ``corpus/`` is one case (see ``corpus/README.md``): ``answer.md``,
``before/`` (the repository), ``after/`` (files expected to change, as they should read)
and ``case.json`` (format, files shown, expected ok, counts, feedback fragments). The
test applies the answer in a real git repository and checks the files on disk, that
the returned diff turns ``before`` into ``after`` with ``git apply``, and the feedback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from swcollab.edits import apply_answer

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p for p in CORPUS.iterdir() if (p / "case.json").exists())


def git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    data = stdin.encode("utf-8") if stdin is not None else None
    done = subprocess.run(["git", *args], cwd=cwd, input=data, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def make_repo(path: Path, before: Path, symlinks: dict[str, str], outside: Path) -> Path:
    shutil.copytree(before, path, dirs_exist_ok=True)
    for link, target in symlinks.items():
        os.symlink(str(outside) if target == "<outside>" else target, path / link)
    git(path, "init", "-q")
    git(path, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git(path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    return path


def files_of(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and ".git" not in p.relative_to(root).parts
    }


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path, tmp_path: Path) -> None:
    spec = json.loads((case / "case.json").read_text())
    before = case / "before"
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = make_repo(tmp_path / "repo", before, spec.get("symlinks", {}), outside)
    answer = (case / "answer.md").read_bytes().decode("utf-8")

    result = apply_answer(
        repo,
        answer,
        edit_format=spec.get("edit_format", "search-replace"),
        files=spec.get("files", []),
    )

    expected = files_of(before)
    expected.update(files_of(case / "after") if (case / "after").exists() else {})
    assert files_of(repo) == expected, result.feedback()
    assert not any(outside.iterdir()), "an edit wrote outside the repository"
    assert result.ok is spec["ok"], result.feedback()
    assert len(result.applied) == spec.get("applied", len(result.applied))
    assert len(result.failed) == spec.get("failed", len(result.failed))
    for how in spec.get("how", []):
        assert how in [o.how for o in result.applied]
    assert sorted(result.changed_files) == sorted(
        p for p in expected if files_of(before).get(p) != expected[p]
    )
    feedback = result.feedback()
    assert (feedback == "") is (result.ok and not result.refused)
    for fragment in spec.get("feedback", []):
        assert fragment in feedback, feedback
    for fragment in spec.get("notes", []):
        assert any(fragment in note for note in result.notes), result.notes
    check_diff_reproduces(result.diff, before, expected, tmp_path / "replay")


def check_diff_reproduces(diff: str, before: Path, expected: dict[str, bytes], where: Path) -> None:
    """The returned diff, applied with ``git apply`` to a clean copy, gives ``after``."""
    shutil.copytree(before, where)
    git(where, "init", "-q")
    if diff:
        git(where, "apply", "--whitespace=nowarn", "-", stdin=diff)
    assert files_of(where) == expected
