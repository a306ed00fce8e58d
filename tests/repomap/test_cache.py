"""The tag cache: keyed by blob, shared by worktrees, re-parses only what changed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from swcollab.repomap import Focus, build_repo_map
from swcollab.repomap.cache import TagCache, today

from .conftest import SHOP, MakeRepo, git


def test_warm_run_parses_nothing_and_one_change_parses_one_file(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    cold = build_repo_map(repo, Focus())
    assert cold.stats.files_parsed == 5 and cold.stats.cache_hits == 0
    warm = build_repo_map(repo, Focus())
    assert warm.stats.files_parsed == 0 and warm.stats.cache_hits == 5
    assert warm.text == cold.text
    # Edited in the working tree, not committed: the map shows what is on disk.
    with (repo / "shop" / "inventory.py").open("a") as handle:
        handle.write("\n\ndef count_pallets(levels):\n    return len(levels)\n")
    changed = build_repo_map(repo, Focus(text="count pallets"))
    assert changed.stats.files_parsed == 1 and changed.stats.cache_hits == 4
    assert "def count_pallets(levels):" in changed.text


def test_branch_switch_reuses_rows_by_content(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    build_repo_map(repo, Focus())
    git(repo, "switch", "-q", "-c", "feature")
    (repo / "shop" / "pricing.py").write_text("def free():\n    return 0\n")
    git(repo, "commit", "-qam", "free")
    assert build_repo_map(repo, Focus()).stats.files_parsed == 1
    git(repo, "switch", "-q", "main")
    back = build_repo_map(repo, Focus())
    assert back.stats.files_parsed == 0  # main's pricing.py blob is still cached


def test_worktrees_share_the_cache_under_the_common_dir(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    repo = make_repo(SHOP)
    build_repo_map(repo, Focus())
    other = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(other), "-b", "side")
    in_worktree = build_repo_map(other, Focus(text="discount code"))
    assert in_worktree.stats.files_parsed == 0
    assert in_worktree.stats.cache_hits == 5
    assert not (other / ".git" / "swc").exists()  # .git is a file in a worktree
    assert "shop/pricing.py" in in_worktree.shown


def test_two_processes_at_once_do_not_corrupt_the_cache(make_repo: MakeRepo) -> None:
    files = {
        f"pkg/mod{i}.py": f"def function_{i}(x):\n    return helper_{i}(x)\n\n"
        f"def helper_{i}(y):\n    return y\n"
        for i in range(40)
    }
    repo = make_repo(files)
    script = (
        "import sys; from pathlib import Path; "
        "from swcollab.repomap import Focus, build_repo_map; "
        "m = build_repo_map(Path(sys.argv[1]), Focus()); print(len(m.files))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(repo)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert [out.strip() for out, _err in outputs] == ["40", "40", "40"]
    db = sqlite3.connect(repo / ".git" / "swc" / "tags.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT count(*) FROM blobs").fetchone()[0] == 40
    warm = build_repo_map(repo, Focus())
    assert warm.stats.files_parsed == 0


def test_rows_of_unreachable_blobs_are_pruned(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    (repo / "shop" / "pricing.py").write_text("def never_committed():\n    pass\n")
    build_repo_map(repo, Focus())  # caches the working-tree blob (not in git's object db)
    git(repo, "checkout", "--", "shop/pricing.py")
    build_repo_map(repo, Focus())
    db_path = repo / ".git" / "swc" / "tags.db"
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT count(*) FROM blobs").fetchone()[0] == 6
    # Pretend the rows were last used yesterday and maintenance last ran then.
    db.execute("UPDATE blobs SET last_used = last_used - 1")
    db.execute("UPDATE meta SET value = value - 1 WHERE key = 'pruned_on'")
    db.commit()
    db.close()
    cache = TagCache(db_path)
    try:
        assert cache.maintain(repo) == 1  # only the never-committed blob is gone
        assert cache.maintain(repo) == 0  # at most once a day
        remaining = cache.conn.execute("SELECT count(*) FROM blobs").fetchone()[0]
        orphans = cache.conn.execute(
            "SELECT count(*) FROM terms WHERE blob_id NOT IN (SELECT id FROM blobs)"
        ).fetchone()[0]
    finally:
        cache.close()
    assert (remaining, orphans) == (5, 0)
    assert today() > 0
