"""``swc trust``: let the repository's own configuration decide where prompts and keys go
and what runs (``swcollab/trust.py`` says why and how)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..errors import UsageError
from .common import AppContext, json_option, pass_app

TRUST_HELP = """Trust this repository's .swc.toml (or [tool.swc] in pyproject.toml).

A repository file may set keys that decide where your prompts and API keys go or what
runs outside the sandbox: test_cmd, sandbox, network_isolation, prompts_dir,
allow_config_edits, test_changes, each tier's api_base and api_key_env, and a tier's
model naming a local GGUF file. swc applies
them only once you trusted the file: until then swc fix, context, brief, eval and the hook
stop, naming them. swc trust shows them and records the file's SHA-256 in your own
configuration directory; a changed file needs trusting again. In CI, pass
--trust-repo-config to swc or set SWC_TRUST_REPO_CONFIG=1 instead.

\b
Examples:
  swc trust              # show the keys, trust this content of the file
  swc trust --list       # every file you trusted, and whether it changed since
  swc trust --revoke     # forget the trust given to this repository's file
"""


@click.command("trust", help=TRUST_HELP)
@click.option("--list", "list_", is_flag=True, help="List the files you trusted.")
@click.option("--revoke", is_flag=True, help="Forget the trust given to this repository's file.")
@json_option
@pass_app
def trust_command(app: AppContext, list_: bool, revoke: bool, json_: bool) -> None:
    if list_ and revoke:
        raise UsageError("--list and --revoke do not go together")
    if list_:
        _show(_listing(), json_, _listing_lines)
    elif revoke:
        _show(_revoked(app), json_, _revoked_lines)
    else:
        _show(_trusted(app), json_, _trusted_lines)


def _store() -> Path:
    from ..config import user_config_path
    from ..trust import store_path

    return store_path(user_config_path())


def _trusted(app: AppContext) -> dict[str, Any]:
    """Record trust in the repository's file; what was trusted."""
    from ..config import config_files, load_settings, needing_trust, read_repo_config
    from ..trust import record

    root = app.repo().root
    repo = read_repo_config(config_files(root))
    if repo is None:
        return {"file": None, "root": str(root), "trusted": False, "keys": {}, "store": None}
    # an invalid file is refused (one line naming the key) before it is trusted
    settings = load_settings(root, trust_repo=True)
    keys = needing_trust(repo, settings.tier_names)
    store = _store()
    record(store, repo, list(keys))
    return {
        "file": repo.origin,
        "root": str(root),
        "trusted": True,
        "sha256": repo.sha256,
        "keys": keys,
        "store": str(store),
    }


def _trusted_lines(result: dict[str, Any]) -> list[str]:
    if result["file"] is None:
        return [
            f"no .swc.toml or [tool.swc] in pyproject.toml at {result['root']}: nothing to trust"
        ]
    keys = result["keys"]
    head = f"{result['file']} (sha256 {result['sha256'][:12]})"
    if not keys:
        lines = [f"{head} sets no key that needs trust"]
    else:
        lines = [f"{head} sets:"] + [f"  {name} = {_shown(value)}" for name, value in keys.items()]
    lines.append(f"trusted until it changes (recorded in {result['store']})")
    return lines


def _shown(value: Any) -> str:
    """A value from the repository, as TOML would write it; every character that is not
    printable ASCII escaped, so nothing in it reaches the terminal as a control."""
    return json.dumps(value, ensure_ascii=True)


def _listing() -> list[dict[str, Any]]:
    from ..config import repo_config_at
    from ..errors import ConfigError
    from ..trust import load_entries

    rows = []
    for path, entry in sorted(load_entries(_store()).items()):
        try:
            now = repo_config_at(Path(path))
        except ConfigError:
            now = None
        state = "missing" if now is None else "changed"
        if now is not None and now.sha256 == entry.sha256:
            state = "trusted"
        rows.append(
            {
                "path": path,
                "sha256": entry.sha256,
                "trusted_at": entry.trusted_at,
                "keys": entry.keys,
                "state": state,
            }
        )
    return rows


def _listing_lines(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["no file is trusted (swc trust in a repository trusts its file)"]
    states = {
        "trusted": "trusted",
        "changed": "CHANGED since trusted: not applied until swc trust",
        "missing": "gone or unreadable",
    }
    return [
        f"{row['path']}  {states[row['state']]}  (since {row['trusted_at']}; keys: "
        f"{', '.join(row['keys']) or 'none'})"
        for row in rows
    ]


def _revoked(app: AppContext) -> dict[str, Any]:
    from ..config import config_files
    from ..trust import revoke

    files = config_files(app.repo().root)
    candidates = [p for p in (files.repo, files.pyproject) if p is not None]
    revoked = [str(p.absolute()) for p in candidates if revoke(_store(), p.absolute())]
    return {"revoked": revoked, "root": str(app.repo().root)}


def _revoked_lines(result: dict[str, Any]) -> list[str]:
    if not result["revoked"]:
        return [f"no file of {result['root']} was trusted"]
    return [f"revoked: {path}" for path in result["revoked"]]


def _show(result: Any, json_: bool, lines: Any) -> None:
    from ..output import echo, print_json

    if json_:
        print_json(result)
        return
    for line in lines(result):
        echo(line)
