"""Trust in a repository's own configuration, as git's ``safe.directory`` and direnv's
``allow`` give it.

A repository file (``.swc.toml``, or the ``[tool.swc]`` table of ``pyproject.toml``) is
written by whoever wrote the repository. The keys that decide where prompts and API keys
go or what runs outside the sandbox (``Key.needs_trust``) are honoured from it only once
the user trusted what the file says: ``swc trust`` records the SHA-256 of what swc reads
from the file, keyed by the file's absolute path, in the user's own configuration
directory (``$XDG_CONFIG_HOME/swc/trusted.json``). A file that changed needs trusting
again. CI trusts by saying so: ``--trust-repo-config`` or ``SWC_TRUST_REPO_CONFIG=1``.

What is hashed is what swc reads: all of ``.swc.toml``, and only the ``[tool.swc]`` table of
``pyproject.toml`` (as canonical JSON), so bumping a dependency does not ask for trust
again while any change to swc's table does.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .config_keys import TRUSTED_TIER_FIELDS, Key
from .errors import ConfigError

TRUST_VAR = "SWC_TRUST_REPO_CONFIG"
TRUST_FLAG = "--trust-repo-config"
STORE_NAME = "trusted.json"
STORE_VERSION = 1
LOCAL_MODEL_PREFIX = "local/"  # as models.specs.LOCAL_PREFIX (that module imports config)


@dataclass(frozen=True)
class RepoConfig:
    """A repository's configuration file as swc read it."""

    path: Path  # absolute path of the file
    origin: str  # as messages name it: the path, plus " [tool.swc]" for pyproject.toml
    sha256: str  # of what swc reads from it (see the module docstring)
    table: Mapping[str, Any]  # the parsed TOML swc reads


@dataclass(frozen=True)
class Untrusted:
    """Keys of a repository file that need trust it was not given: held back, not applied."""

    origin: str
    path: str
    values: Mapping[str, Any] = field(default_factory=dict)  # dotted key -> the file's value
    changed: bool = False  # trusted once, with other content

    def message(self) -> str:
        """The one line that stops a command."""
        keys = ", ".join(self.values)
        state = "changed since you trusted it" if self.changed else "not trusted"
        return (
            f"{self.origin} is {state}: it sets {keys}, which decide where prompts and keys "
            f"go or what runs; check them, then run `swc trust` (CI: {TRUST_VAR}=1)"
        )


@dataclass(frozen=True)
class TrustEntry:
    path: str
    sha256: str
    trusted_at: str
    keys: list[str]


def trust_requested(environ: Mapping[str, str]) -> bool:
    """``SWC_TRUST_REPO_CONFIG`` set to a true value (1, true, yes, on)."""
    return environ.get(TRUST_VAR, "").strip().lower() in ("1", "true", "yes", "on")


def table_sha256(path: Path, raw: bytes, table: Mapping[str, Any]) -> str:
    """The digest trust is given to: the bytes of ``.swc.toml``, the canonical JSON of
    ``pyproject.toml``'s ``[tool.swc]`` table."""
    if path.name != "pyproject.toml":
        return hashlib.sha256(raw).hexdigest()
    canonical = json.dumps(table, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def store_path(user_config: Path) -> Path:
    """The trust store beside the user's config file."""
    return user_config.with_name(STORE_NAME)


def load_entries(store: Path) -> dict[str, TrustEntry]:
    """Trusted files by absolute path; none when the store does not exist."""
    try:
        raw = store.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{store}: cannot be read ({exc}); delete it and trust again") from None
    try:
        document = json.loads(raw)
        return {
            path: TrustEntry(path, item["sha256"], item["trusted_at"], list(item["keys"]))
            for path, item in document["files"].items()
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ConfigError(
            f"{store}: not a trust store swc wrote; delete it and run `swc trust` again"
        ) from None


def _save(store: Path, entries: Mapping[str, TrustEntry]) -> None:
    """Write the store whole, atomically, readable by the user only."""
    store.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    document = {
        "version": STORE_VERSION,
        "files": {
            path: {k: v for k, v in asdict(e).items() if k != "path"} for path, e in entries.items()
        },
    }
    fd, tmp = tempfile.mkstemp(prefix=".trusted-", suffix=".json", dir=store.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, store)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_trusted(store: Path, config: RepoConfig) -> bool:
    entry = load_entries(store).get(str(config.path))
    return entry is not None and entry.sha256 == config.sha256


def was_trusted(store: Path, config: RepoConfig) -> bool:
    """Trusted once, whatever the content was then."""
    return str(config.path) in load_entries(store)


def hold_back(
    repo_layer: dict[str, Any],
    later: set[str],
    keys: Mapping[str, Key],
    repo: RepoConfig,
    store: Path,
    *,
    trusted: bool,
) -> Untrusted | None:
    """Take out of the repository's layer (in place) what it may not decide.

    A tier whose model the user chose in a ``later`` layer (environment, flag) is not sent
    to the repository's server nor with the key it names: that tier's ``api_base`` and
    ``api_key_env`` go. Then, unless the file is trusted, every key that needs trust and
    that no later layer overrides; they are returned.
    """
    for name in list(repo_layer):
        tier, _, attr = name.rpartition(".")
        if attr in TRUSTED_TIER_FIELDS and f"{tier}.model" in later:
            del repo_layer[name]
    needing = {
        name: value
        for name, value in repo_layer.items()
        if needs_trust(keys[name], value) and name not in later
    }
    if trusted or not needing or is_trusted(store, repo):
        return None
    for name in needing:
        del repo_layer[name]
    return Untrusted(repo.origin, str(repo.path), needing, was_trusted(store, repo))


def needs_trust(key: Key, value: Any) -> bool:
    """Whether ``value`` of ``key`` may come from a repository's file only once trusted:
    the keys declared so, and a tier's model naming a GGUF file (``local/PATH.gguf``),
    which swc loads into a llama.cpp server it starts outside the sandbox."""
    if key.needs_trust:
        return True
    return (
        key.name.endswith(".model")
        and isinstance(value, str)
        and value.startswith(LOCAL_MODEL_PREFIX)
        and value.endswith(".gguf")
    )


def record(store: Path, config: RepoConfig, keys: list[str]) -> TrustEntry:
    entries = load_entries(store)
    entry = TrustEntry(
        str(config.path),
        config.sha256,
        datetime.now(timezone.utc).isoformat(timespec="seconds"),
        sorted(keys),
    )
    entries[entry.path] = entry
    _save(store, entries)
    return entry


def revoke(store: Path, path: Path) -> bool:
    """Forget the trust given to ``path``; False when there was none."""
    entries = load_entries(store)
    if entries.pop(str(path), None) is None:
        return False
    _save(store, entries)
    return True


__all__ = [
    "TRUST_FLAG",
    "TRUST_VAR",
    "RepoConfig",
    "TrustEntry",
    "Untrusted",
    "hold_back",
    "is_trusted",
    "load_entries",
    "needs_trust",
    "record",
    "revoke",
    "store_path",
    "table_sha256",
    "trust_requested",
    "was_trusted",
]
