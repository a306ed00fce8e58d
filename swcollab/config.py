"""Settings: one frozen dataclass tree, layered from defaults, files, environment and flags.

Precedence, lowest first: defaults < user file (``$XDG_CONFIG_HOME/swc/config.toml``) <
repository file (``.swc.toml`` at the repo root, or ``[tool.swc]`` in ``pyproject.toml``)
< environment (``SWC_*``) < command-line flags. Every key is declared once in ``KEYS``
(``config_keys``); validation, ``swc config show`` and the table in
docs/reference/configuration.md all read that declaration.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .config_keys import (
    KEYS,
    MAX_TOKENS,
    STRATEGIES,
    TIER_NAMES,
    Key,
    keys_for,
    text_problem,
)
from .errors import ConfigError
from .trust import (
    RepoConfig,
    Untrusted,
    hold_back,
    needs_trust,
    store_path,
    table_sha256,
    trust_requested,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


SOURCE_DEFAULT = "default"
SOURCE_USER = "user file"
SOURCE_REPO = "repo file"
SOURCE_ENV = "environment"
SOURCE_FLAG = "flag"
# The layers a value may come from, lowest precedence first.
LAYERS = (SOURCE_DEFAULT, SOURCE_USER, SOURCE_REPO, SOURCE_ENV, SOURCE_FLAG)


def layer_rank(source: str) -> int:
    return LAYERS.index(source) if source in LAYERS else 0


DEFAULT_CONTEXT_TOKENS = 16_000
# The most a cheaper tier is shown by default (benchmarks/context.py: the changed lines of
# 92 % of held-out real fixes are shown at 64,000 tokens, 77 % at 16,000); how much of it
# a tier gets follows its price (engine/context.py ``tier_budgets``).
WEAK_CONTEXT_TOKENS = 64_000
# A cheaper tier's patch prompt costs at most this share of the strong tier's.
DEFAULT_CONTEXT_COST_SHARE = 0.2


@dataclass(frozen=True)
class TierSettings:
    """One tier of the cascade: which model, how to reach it, what it costs, how many tries."""

    name: str
    model: str | None = None
    api_base: str | None = None
    api_key_env: str | None = None
    temperature: float = 0.7
    max_tokens: int = 4096
    input_cost_per_mtok: float | None = None
    output_cost_per_mtok: float | None = None
    cached_input_cost_per_mtok: float | None = None
    edit_format: str | None = None
    candidates: int | None = None
    tests: int | None = None
    context_tokens: int | None = None


@dataclass(frozen=True)
class Settings:
    weak: TierSettings = field(default_factory=lambda: TierSettings("weak"))
    strong: TierSettings = field(default_factory=lambda: TierSettings("strong"))
    budget: float = 1.0
    strategy: str = "cascade"
    test_cmd: str | None = None
    test_timeout: float = 300.0
    map_tokens: int = 2048
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    context_cost_share: float = DEFAULT_CONTEXT_COST_SHARE
    max_file_size: int = 1_000_000
    retries: int = 3
    request_timeout: float = 120.0
    fewshot: int = 0
    router: str = "weak"
    judge: str = "consistency"
    prompts_dir: str | None = None
    network_isolation: bool = True
    sandbox: str = "on"
    # the sandbox's resource limits (sandbox/limits.py; 0: none; memory unset: automatic)
    sandbox_processes: int = 512
    sandbox_memory_mb: int | None = None
    sandbox_file_size_mb: int = 1024
    sandbox_open_files: int = 1024
    sandbox_tmp_mb: int = 1024
    allow_config_edits: bool = False
    allow_code_hook_edits: bool = False
    test_changes: str = "strong"
    flaky_tests: str = "detect"
    tier_order: str = "weak,strong"
    extra_tiers: tuple[TierSettings, ...] = ()
    # key ("budget", "weak.model") -> where its value came from
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    # keys of the repository's file held back until the user trusts it (``swc trust``)
    untrusted: Untrusted | None = field(default=None, compare=False)

    def context_tokens_for(self, tier: str) -> int:
        """Tokens of code shown to ``tier`` at most: the user's choice
        (``chosen_context_tokens``), else ``WEAK_CONTEXT_TOKENS`` for a tier cheaper than
        the last (the engine lowers that to what its price buys, ``tier_budgets``), and
        the global default for the last tier."""
        chosen = self.chosen_context_tokens(tier)
        if chosen is not None:
            return chosen
        if tier != self.tier_names[-1]:
            return WEAK_CONTEXT_TOKENS
        return self.context_tokens

    def chosen_context_tokens(self, tier: str) -> int | None:
        """The tokens of code the user chose for ``tier`` (None: none chosen): its own
        ``context_tokens``, unless the global one was set at a later layer
        (``--context-tokens`` beats a file's ``weak.context_tokens``); else the global one
        when it was set."""
        own = self.tier(tier).context_tokens
        own_layer = layer_rank(self.sources.get(f"{tier}.context_tokens", SOURCE_DEFAULT))
        global_layer = layer_rank(self.sources.get("context_tokens", SOURCE_DEFAULT))
        if own is not None and own_layer >= global_layer:
            return own
        if global_layer > 0 or self.context_tokens != DEFAULT_CONTEXT_TOKENS:
            return self.context_tokens
        return None

    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(name.strip() for name in self.tier_order.split(","))

    @property
    def tiers(self) -> tuple[TierSettings, ...]:
        """The cascade's tiers in order: weak, any middle tiers, strong."""
        by_name = {t.name: t for t in (self.weak, self.strong, *self.extra_tiers)}
        return tuple(by_name.get(name, TierSettings(name)) for name in self.tier_names)

    def tier(self, name: str) -> TierSettings:
        for tier in (self.weak, self.strong, *self.extra_tiers):
            if tier.name == name:
                return tier
        if name in self.tier_names:
            return TierSettings(name)
        raise ConfigError(f"unknown tier {name!r}; expected one of {', '.join(self.tier_names)}")


@dataclass(frozen=True)
class ConfigFiles:
    user: Path
    repo: Path | None
    pyproject: Path | None

    def existing(self) -> list[Path]:
        return [p for p in (self.user, self.repo, self.pyproject) if p is not None and p.is_file()]


def user_config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "swc" / "config.toml"


def config_files(repo_root: Path | None, environ: Mapping[str, str] | None = None) -> ConfigFiles:
    if repo_root is None:
        return ConfigFiles(user_config_path(environ), None, None)
    return ConfigFiles(
        user_config_path(environ), repo_root / ".swc.toml", repo_root / "pyproject.toml"
    )


def _coerce(key: Key, value: Any, origin: str) -> Any:
    """Check a value's type (ints are accepted where numbers are expected) and its range."""
    if key.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, key.kind) or (key.kind is not bool and isinstance(value, bool)):
        article = "an" if key.type_name[0] in "aeiou" else "a"
        raise ConfigError(
            f"{origin}: key '{key.name}' must be {article} {key.type_name}, got {value!r}"
        )
    if key.kind is str and (problem := text_problem(value)):
        raise ConfigError(f"{origin}: key '{key.name}' must be {problem}, got {value!r}")
    if key.check is not None:
        expected = key.check(value)
        if expected:
            raise ConfigError(f"{origin}: key '{key.name}' must be {expected}, got {value!r}")
    return value


def _flatten(table: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Turn a TOML table into dotted keys, accepting ``weak = "name"`` as ``weak.model``."""
    flat: dict[str, Any] = {}
    for name, value in table.items():
        if name in TIER_NAMES or isinstance(value, Mapping):
            if isinstance(value, str):
                flat[f"{name}.model"] = value
            elif isinstance(value, Mapping):
                for sub, subvalue in value.items():
                    flat[f"{name}.{sub}"] = subvalue
            else:
                raise ConfigError(
                    f"{origin}: key '{name}' must be a model name or a table, got {value!r}"
                )
        else:
            flat[name] = value
    return flat


def _unknown_key_message(name: str, keys: Mapping[str, Key] = KEYS) -> str:
    close = difflib.get_close_matches(name, list(keys), n=1)
    suggestion = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown key '{name}' ({suggestion}`swc config show` lists every key)"


def _read_toml(path: Path) -> tuple[dict[str, Any], bytes]:
    """The parsed file and the bytes it was parsed from (what trust is given to)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8")), raw
    except UnicodeDecodeError as exc:
        # one line: the fix is in the message (TOML files must be UTF-8)
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start} cannot be decoded); save it as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


# (source, origin named in error messages, dotted key -> value)
_Layer = tuple[str, str, dict[str, Any]]


def _user_layers(files: ConfigFiles) -> list[_Layer]:
    if not files.user.is_file():
        return []
    origin = str(files.user)
    return [(SOURCE_USER, origin, _flatten(_read_toml(files.user)[0], origin))]


def read_repo_config(files: ConfigFiles) -> RepoConfig | None:
    """The repository's file swc reads: ``.swc.toml``, else ``[tool.swc]`` of pyproject.toml."""
    if files.repo is not None and files.repo.is_file():
        table, raw = _read_toml(files.repo)
        path = files.repo.absolute()
        return RepoConfig(path, str(files.repo), table_sha256(path, raw, table), table)
    if files.pyproject is not None and files.pyproject.is_file():
        tool = _read_toml(files.pyproject)[0].get("tool", {})
        table = tool.get("swc") if isinstance(tool, Mapping) else None
        if table is None:
            return None
        origin = f"{files.pyproject} [tool.swc]"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{origin}: must be a table")
        path = files.pyproject.absolute()
        return RepoConfig(path, origin, table_sha256(path, b"", table), table)
    return None


def repo_config_at(path: Path) -> RepoConfig | None:
    """The repository file at ``path`` (a ``.swc.toml`` or a ``pyproject.toml``) as swc
    reads it; None when it is gone or holds no ``[tool.swc]``."""
    if path.name == "pyproject.toml":
        return read_repo_config(ConfigFiles(path, None, path))
    return read_repo_config(ConfigFiles(path, path, None))


def needing_trust(repo: RepoConfig, tier_names: tuple[str, ...]) -> dict[str, Any]:
    """The keys of the repository's file that need trust, with the file's values."""
    keys = keys_for(tier_names)
    flat = _flatten(repo.table, repo.origin)
    return {
        name: value
        for name, value in flat.items()
        if name in keys and needs_trust(keys[name], value)
    }


def _parse_env_value(key: Key, raw: str) -> Any:
    text = raw.strip()
    if key.kind is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        return raw
    if key.kind in (int, float):
        try:
            return key.kind(text)
        except ValueError:
            return raw
    return raw


def _env_layer(environ: Mapping[str, str], keys: Mapping[str, Key]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for key in keys.values():
        if key.env_var in environ and environ[key.env_var] != "":
            layer[key.name] = _parse_env_value(key, environ[key.env_var])
    return layer


def load_settings(
    repo_root: Path | None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    trust_repo: bool = False,
) -> Settings:
    """Build the effective settings; ``flags`` maps dotted keys to values given on the CLI.

    A flag whose value is ``None`` was not given and is ignored. The keys of the
    repository's file that need trust (``Key.needs_trust``) are held back, not applied,
    until the user trusted the file (``swc trust``), or ``trust_repo`` (the
    ``--trust-repo-config`` flag) or ``SWC_TRUST_REPO_CONFIG=1`` says to: they are in
    ``Settings.untrusted``, and ``require_trust`` stops a command that would use them.
    """
    env = os.environ if environ is None else environ
    files = config_files(repo_root, env)
    repo = read_repo_config(files)
    layers = _user_layers(files)
    if repo is not None:
        layers.append((SOURCE_REPO, repo.origin, _flatten(repo.table, repo.origin)))
    layers.append((SOURCE_ENV, "environment", _env_layer(env, KEYS)))
    flag_layer = {k: v for k, v in (flags or {}).items() if v is not None}
    layers.append((SOURCE_FLAG, "option", flag_layer))
    keys = keys_for(_tier_names(layers))
    # Keys of middle tiers only exist once tier_order names them: read the environment again.
    layers[-2] = (SOURCE_ENV, "environment", _env_layer(env, keys))
    layers = [
        (source, origin, _checked(layer, keys, source, origin)) for source, origin, layer in layers
    ]
    untrusted = None
    if repo is not None:
        trusted = trust_repo or trust_requested(env)
        index = next(i for i, layer in enumerate(layers) if layer[0] == SOURCE_REPO)
        later = {name for _s, _o, layer in layers[index + 1 :] for name in layer}
        store = store_path(files.user)
        untrusted = hold_back(layers[index][2], later, keys, repo, store, trusted=trusted)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {name: SOURCE_DEFAULT for name in keys}
    for source, _origin_name, layer in layers:
        values.update(layer)
        sources.update(dict.fromkeys(layer, source))
    if values.get("prompts_dir"):
        values["prompts_dir"] = _prompts_dir(values["prompts_dir"], sources, repo_root, files)
    return replace(_build(values, sources), untrusted=untrusted)


def _checked(
    layer: Mapping[str, Any], keys: Mapping[str, Key], source: str, origin: str
) -> dict[str, Any]:
    """Every value of one layer checked (type, range); an unknown key is an error."""
    checked = {}
    for name, value in layer.items():
        if name not in keys:
            raise ConfigError(f"{origin}: {_unknown_key_message(name, keys)}")
        key = keys[name]
        checked[name] = _coerce(key, value, _origin(key, source, origin))
    return checked


def require_trust(settings: Settings) -> None:
    """Stop (exit 2, one line) when the repository's file sets keys it was not trusted with."""
    if settings.untrusted is not None:
        raise ConfigError(settings.untrusted.message())


def _prompts_dir(
    value: str, sources: Mapping[str, str], root: Path | None, files: ConfigFiles
) -> str:
    """``prompts_dir`` resolved (a relative one from the file naming it; links followed),
    and inside the repository or the user's config directory."""
    source = sources.get("prompts_dir", SOURCE_DEFAULT)
    base = {SOURCE_USER: files.user.parent, SOURCE_REPO: root}.get(source) or Path.cwd()
    resolved = (base / Path(value).expanduser()).resolve()
    allowed = [files.user.parent.resolve()] + ([root.resolve()] if root is not None else [])
    if not any(resolved == top or top in resolved.parents for top in allowed):
        places = " or ".join(str(top) for top in allowed)
        raise ConfigError(
            f"prompts_dir {value!r} (from {source}) resolves to {resolved}, outside {places}: "
            "prompt templates are read only from the repository or your config directory"
        )
    return str(resolved)


def _origin(key: Key, source: str, origin: str) -> str:
    """Where a value came from, as error messages name it."""
    if source == SOURCE_ENV:
        return f"environment variable {key.env_var}"
    if source == SOURCE_FLAG:
        return "command line"
    return origin


def _tier_names(layers: list[_Layer]) -> list[str]:
    """The tier order the layers settle on (the last layer naming it wins), checked."""
    order = Settings.tier_order
    for source, origin, layer in layers:
        if "tier_order" in layer:
            where = "environment variable SWC_TIER_ORDER" if source == SOURCE_ENV else origin
            order = _coerce(KEYS["tier_order"], layer["tier_order"], where)
    return [name.strip() for name in order.split(",")]


def _build(values: Mapping[str, Any], sources: Mapping[str, str]) -> Settings:
    tiers = {}
    order = [n.strip() for n in str(values.get("tier_order", Settings.tier_order)).split(",")]
    for tier in dict.fromkeys([*TIER_NAMES, *order]):
        prefix = tier + "."
        kwargs = {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}
        tiers[tier] = TierSettings(name=tier, **kwargs)
    top = {k: v for k, v in values.items() if "." not in k}
    extra = tuple(tiers[name] for name in order if name not in TIER_NAMES)
    return Settings(
        weak=tiers["weak"], strong=tiers["strong"], extra_tiers=extra, sources=dict(sources), **top
    )


def setting_value(settings: Settings, name: str) -> Any:
    if "." in name:
        tier, attr = name.split(".", 1)
        return getattr(settings.tier(tier), attr)
    return getattr(settings, name)


def default_value(name: str) -> Any:
    return setting_value(Settings(), name)


def with_tier(settings: Settings, tier: TierSettings) -> Settings:
    return replace(settings, **{tier.name: tier})


def settings_as_dict(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every key with its value, source and whether it is trusted: the JSON shape of ``swc
    config show``. A key the repository's untrusted file sets shows the file's value,
    ``"trusted": false``: it is not applied."""
    keys = keys_for(settings.tier_names)
    held = settings.untrusted.values if settings.untrusted is not None else {}
    return {
        name: {
            "value": held[name] if name in held else setting_value(settings, name),
            "source": SOURCE_REPO if name in held else settings.sources.get(name, SOURCE_DEFAULT),
            "env": keys[name].env_var,
            "trusted": name not in held,
        }
        for name in keys
    }


__all__ = [
    "KEYS",
    "MAX_TOKENS",
    "STRATEGIES",
    "ConfigFiles",
    "Key",
    "Settings",
    "TierSettings",
    "config_files",
    "default_value",
    "keys_for",
    "load_settings",
    "needing_trust",
    "read_repo_config",
    "repo_config_at",
    "require_trust",
    "setting_value",
    "settings_as_dict",
    "with_tier",
]
