"""A sanitised copy of the repository's git config, shown to tests in place of the real one.

A worktree's git needs the repository's common directory (objects, refs, config), so it
stays readable inside the sandbox; but its ``config`` is where credentials live: the
token ``actions/checkout`` persists (``http.<url>.extraheader``), credential helpers,
``url.<x>.insteadOf`` with a password, and commands git would run (``core.sshCommand``,
``core.fsmonitor``, filters and textconv drivers). The copy keeps only what git needs to
read the repository; everything else is left out.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from ..gitrepo import run_git

# Keys kept as they are (section.key, lowercase as git lists them).
_KEPT_KEYS = frozenset(
    {
        "core.repositoryformatversion",
        "core.filemode",
        "core.bare",
        "core.logallrefupdates",
        "core.ignorecase",
        "core.precomposeunicode",
        "core.symlinks",
        "core.autocrlf",
        "core.eol",
        "core.safecrlf",
        "core.checkstat",
        "core.trustctime",
        "core.abbrev",
        "core.quotepath",
    }
)
# Subsection keys kept ("remote.<name>.url" -> "remote.url"); URLs lose their login.
_KEPT_SUBSECTION_KEYS = frozenset(
    {
        "remote.url",
        "remote.pushurl",
        "remote.fetch",
        "remote.promisor",
        "remote.partialclonefilter",
        "branch.remote",
        "branch.merge",
        "submodule.url",
        "submodule.active",
        "submodule.path",
    }
)
_URL_KEYS = frozenset({"remote.url", "remote.pushurl", "submodule.url"})
_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", re.IGNORECASE)


def sanitise_url(url: str) -> str:
    """``https://user:token@host/x?token=y`` -> ``https://host/x``."""
    url = _USERINFO.sub(r"\1", url)
    return url.split("?", 1)[0] if "://" in url else url


def _quote(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _kept(name: str, value: str) -> tuple[str, str | None, str, str] | None:
    """(section, subsection, key, value) of a kept entry, or None."""
    section, _, rest = name.partition(".")
    subsection, _, key = rest.rpartition(".")
    if not subsection:
        if section == "extensions" or f"{section}.{key}" in _KEPT_KEYS:
            return section, None, key, value
        return None
    short = f"{section}.{key}"
    if short not in _KEPT_SUBSECTION_KEYS:
        return None
    return section, subsection, key, sanitise_url(value) if short in _URL_KEYS else value


def sanitised_text(config: Path) -> str:
    """The text of the sanitised copy of the git config file ``config``."""
    try:
        stat = config.stat()
    except OSError:
        return ""
    return _sanitised_cached(str(config), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _sanitised_cached(config: str, _mtime: int, _size: int) -> str:
    proc = run_git(["config", "--file", config, "--list", "-z"], Path(config).parent, check=False)
    sections: dict[tuple[str, str | None], list[str]] = {}
    for entry in proc.stdout.split("\0"):
        name, _, value = entry.partition("\n")
        kept = _kept(name.strip(), value) if name.strip() else None
        if kept is None:
            continue
        section, subsection, key, text = kept
        sections.setdefault((section, subsection), []).append(f"\t{key} = {_quote(text)}")
    lines = ["# swc: a sanitised copy of this repository's git config (see swc doctor)"]
    for (section, subsection), entries in sections.items():
        header = section if subsection is None else f"{section} {_quote(subsection)}"
        lines += [f"[{header}]", *entries]
    return "\n".join(lines) + "\n"


def write_sanitised(config: Path, dest: Path) -> Path:
    dest.write_text(sanitised_text(config), encoding="utf-8")
    return dest
