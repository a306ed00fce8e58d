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
# The weak tier's default (benchmarks/context.py: the changed lines of 92 % of held-out
# real fixes are shown at 64,000 tokens, 77 % at 16,000); about $0.0096 a request at
# gpt-4o-mini's price.
WEAK_CONTEXT_TOKENS = 64_000


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
    max_file_size: int = 1_000_000
    retries: int = 3
    request_timeout: float = 120.0
    fewshot: int = 0
    router: str = "weak"
    judge: str = "consistency"
    prompts_dir: str | None = None
    network_isolation: bool = True
    sandbox: str = "on"
    allow_config_edits: bool = False
    allow_code_hook_edits: bool = False
    test_changes: str = "strong"
    tier_order: str = "weak,strong"
    extra_tiers: tuple[TierSettings, ...] = ()
    # key ("budget", "weak.model") -> where its value came from
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def context_tokens_for(self, tier: str) -> int:
        """Tokens of code shown to ``tier``: its own ``context_tokens``, unless the global
        one was set at a later layer (``--context-tokens`` beats a file's
        ``weak.context_tokens``); else the global one when it was set; else
        ``WEAK_CONTEXT_TOKENS`` for the weak tier, whose calls are cheap (the engine keeps
        that only where the model's window is known to take it), and the global default
        for the others."""
        own = self.tier(tier).context_tokens
        own_layer = layer_rank(self.sources.get(f"{tier}.context_tokens", SOURCE_DEFAULT))
        global_layer = layer_rank(self.sources.get("context_tokens", SOURCE_DEFAULT))
        if own is not None and own_layer >= global_layer:
            return own
        global_set = global_layer > 0 or self.context_tokens != DEFAULT_CONTEXT_TOKENS
        if tier == "weak" and not global_set:
            return WEAK_CONTEXT_TOKENS
        return self.context_tokens

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


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start} cannot be decoded)",
            hint="Save the file as UTF-8: TOML files must be UTF-8.",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


# (source, origin named in error messages, dotted key -> value)
_Layer = tuple[str, str, dict[str, Any]]


def _file_layers(files: ConfigFiles) -> list[_Layer]:
    layers: list[_Layer] = []
    if files.user.is_file():
        origin = str(files.user)
        layers.append((SOURCE_USER, origin, _flatten(_read_toml(files.user), origin)))
    if files.repo is not None and files.repo.is_file():
        origin = str(files.repo)
        layers.append((SOURCE_REPO, origin, _flatten(_read_toml(files.repo), origin)))
    elif files.pyproject is not None and files.pyproject.is_file():
        tool = _read_toml(files.pyproject).get("tool", {}).get("swc")
        if tool is not None:
            origin = f"{files.pyproject} [tool.swc]"
            if not isinstance(tool, Mapping):
                raise ConfigError(f"{origin}: must be a table")
            layers.append((SOURCE_REPO, origin, _flatten(tool, origin)))
    return layers


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
) -> Settings:
    """Build the effective settings; ``flags`` maps dotted keys to values given on the CLI.

    A flag whose value is ``None`` was not given and is ignored.
    """
    env = os.environ if environ is None else environ
    files = config_files(repo_root, env)
    layers = _file_layers(files)
    layers.append((SOURCE_ENV, "environment", _env_layer(env, KEYS)))
    flag_layer = {k: v for k, v in (flags or {}).items() if v is not None}
    layers.append((SOURCE_FLAG, "option", flag_layer))
    keys = keys_for(_tier_names(layers))
    # Keys of middle tiers only exist once tier_order names them: read the environment again.
    layers[-2] = (SOURCE_ENV, "environment", _env_layer(env, keys))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {name: SOURCE_DEFAULT for name in keys}
    for source, origin, layer in layers:
        for name, value in layer.items():
            if name not in keys:
                raise ConfigError(f"{origin}: {_unknown_key_message(name, keys)}")
            key = keys[name]
            where = _origin(key, source, origin)
            values[name] = _coerce(key, value, where)
            sources[name] = source
    return _build(values, sources)


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
    """Every key with its value and source: the JSON shape of ``swc config show``."""
    keys = keys_for(settings.tier_names)
    return {
        name: {
            "value": setting_value(settings, name),
            "source": settings.sources.get(name, SOURCE_DEFAULT),
            "env": keys[name].env_var,
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
    "setting_value",
    "settings_as_dict",
    "with_tier",
]
