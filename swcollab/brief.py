"""The repository brief: written once by the strong model, read by the weak one in every run.

Stored in ``.git/swc/brief/`` (``brief.md`` and ``brief.json`` with the commit it was
written at and the blobs of the files it describes). A brief a person wrote or edited and
committed as ``.swc/brief.md`` always wins over the generated one.

Staleness rule: the generated brief is rewritten by ``swc brief --refresh``, or
automatically when at least ``STALE_SHARE`` of the files it was written from changed
(their git blob differs or they are gone) since it was written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from .gitrepo import is_ancestor, run_git
from .prompts import chat
from .repofiles import regular_blob

if TYPE_CHECKING:
    from .models import ModelClient

STALE_SHARE = 0.3
COMMITTED_BRIEF = ".swc/brief.md"
README_CHARS = 6000
BRIEF_MAP_TOKENS = 3000


@dataclass(frozen=True)
class Brief:
    text: str
    source: str  # "committed" | "generated"
    commit: str = ""
    run_id: str = ""
    cost_usd: float = 0.0
    stale_share: float = 0.0


def brief_dir(state_dir: Path) -> Path:
    return state_dir / "brief"


def _blobs(root: Path, rev: str, paths: list[str] | None = None) -> dict[str, str]:
    args = ["ls-tree", "-r", rev]
    if paths:
        args += ["--", *paths]
    out = run_git(args, root, check=False).stdout
    blobs = {}
    for line in out.splitlines():
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "blob":
            blobs[path] = parts[2]
    return blobs


def changed_share(root: Path, rev: str, recorded: dict[str, str]) -> float:
    if not recorded:
        return 0.0
    now = _blobs(root, rev, list(recorded))
    changed = sum(1 for path, blob in recorded.items() if now.get(path) != blob)
    return changed / len(recorded)


def load_brief(root: Path, state_dir: Path, base: str = "HEAD") -> Brief | None:
    """The brief to show at ``base``: the committed one, else the generated one (if any)."""
    committed = regular_blob(root, base, COMMITTED_BRIEF)  # never through a symlink
    text = committed.decode("utf-8", errors="replace").strip() if committed else ""
    if text:
        return Brief(text, "committed")
    folder = brief_dir(state_dir)
    text_file, meta_file = folder / "brief.md", folder / "brief.json"
    if not text_file.is_file() or not meta_file.is_file():
        return None
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if not is_ancestor(root, meta.get("commit", ""), base):
        return None  # written from a later commit: it could tell the future (swc eval)
    share = changed_share(root, base, meta.get("files", {}))
    return Brief(
        text_file.read_text(encoding="utf-8").strip(),
        "generated",
        meta.get("commit", ""),
        meta.get("run_id", ""),
        float(meta.get("cost_usd", 0.0)),
        share,
    )


def _readme(root: Path, commit: str) -> str:
    """The README of ``commit``, read from git as a regular file: a README that is a
    symlink (to ``/etc/passwd``, a private key) is skipped, never followed."""
    for name in ("README.md", "README.rst", "README.txt", "README"):
        content = regular_blob(root, commit, name)
        if content is not None:
            return content.decode("utf-8", errors="replace")[:README_CHARS]
    return ""


def write_brief(
    *,
    client: ModelClient,
    root: Path,
    state_dir: Path,
    commit: str,
    run_id: str,
    prompts_dir: str | None = None,
) -> Brief:
    """Have the strong model write the brief from the whole-repository map and the README.

    Both are read from ``commit``, never from the working tree (the map in a disposable
    worktree, the README from git's objects): the brief is recorded as written at
    ``commit`` and reused as describing it.
    """
    from .repomap import Focus, build_repo_map
    from .sandbox import Worktree

    with Worktree(root, commit) as tree:
        repo_map = build_repo_map(tree.path, Focus(), tokens=BRIEF_MAP_TOKENS, state_dir=state_dir)
    readme = _readme(root, commit)
    messages = chat("brief", prompts_dir=prompts_dir, repo_map=repo_map.text, readme=readme)
    reply = client.complete("strong", messages, purpose="brief")
    paths = [f.path for f in repo_map.files]
    meta = {
        "commit": commit,
        "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": reply.model,
        "run_id": run_id,
        "cost_usd": reply.cost_usd,
        "files": _blobs(root, commit, paths) if paths else {},
    }
    folder = brief_dir(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "brief.md").write_text(reply.text.strip() + "\n", encoding="utf-8")
    (folder / "brief.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return Brief(reply.text.strip(), "generated", commit, run_id, reply.cost_usd, 0.0)
