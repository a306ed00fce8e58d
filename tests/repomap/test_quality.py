"""The quality corpus: the file a task needs is in the map at 1,024 tokens.

Tasks and the code they were written against: ``quality_tasks.py``. The hit rate is
reported in the README.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from swcollab.repomap import build_repo_map, focus_from_text

from .quality_tasks import MAP_TOKENS, TASKS, Task, applicable, make_corpus_repo


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return make_corpus_repo(tmp_path_factory.mktemp("corpus") / "repo")
    except (ImportError, FileNotFoundError) as exc:
        pytest.skip(f"the corpus packages are not installed: {exc}")


@pytest.mark.parametrize("task", TASKS, ids=[t.id for t in TASKS])
def test_needed_file_is_in_the_map(corpus: Path, task: Task) -> None:
    if not applicable(corpus, task):
        pytest.skip(f"{task.target} of the installed version no longer has {task.marker!r}")
    result = build_repo_map(corpus, focus_from_text(task.text), tokens=MAP_TOKENS)
    assert result.tokens <= MAP_TOKENS
    assert task.target in result.shown
    assert task.target in [f.path for f in result.files[:5]], "ranked below the top 5"
