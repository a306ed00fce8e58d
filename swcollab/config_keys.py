"""Every setting declared once: its dotted name, type, range and the help that
``swc config show`` and docs/reference/configuration.md print (``KEYS``); the loading and
layering are in ``config``."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TIER_NAMES = ("weak", "strong")
STRATEGIES = ("cascade", "weak", "strong", "plan", "strong-first", "route", "faq", "best-of-n")
EDIT_FORMATS = ("search-replace", "whole")
JUDGES = ("consistency", "strong")
ROUTERS = ("weak", "strong")
SANDBOX_MODES = ("on", "off")
TEST_CHANGE_MODES = ("strong", "none", "all")


@dataclass(frozen=True)
class Key:
    """Declaration of one setting: its dotted name, type, check and documentation."""

    name: str
    kind: type
    help: str
    optional: bool = False
    check: Callable[[Any], str | None] | None = None

    @property
    def env_var(self) -> str:
        return "SWC_" + self.name.replace(".", "_").replace("-", "_").upper()

    @property
    def type_name(self) -> str:
        names = {str: "string", int: "integer", float: "number", bool: "boolean"}
        return names[self.kind]

    @property
    def range_text(self) -> str:
        """``">= 0 and <= 10000"`` for a bounded number, else empty."""
        return str(getattr(self.check, "text", ""))


class _Within:
    """A numeric setting's range: finite, at least ``low`` (or above it), at most ``high``.

    ``not low <= value`` (rather than ``value < low``) also rejects NaN, which TOML and
    ``float()`` accept, and the upper bound rejects infinity.
    """

    def __init__(self, low: float, high: float, *, above_low: bool = False) -> None:
        self.low, self.high, self.above_low = low, high, above_low
        lower = f"> {_number(low)}" if above_low else f">= {_number(low)}"
        self.text = f"{lower} and <= {_number(high)}"

    def __call__(self, value: Any) -> str | None:
        fits_low = value > self.low if self.above_low else value >= self.low
        fits = fits_low and value <= self.high and math.isfinite(value)
        return None if fits else f"a finite number {self.text}"


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


MAX_USD = 10_000.0  # one run's budget, a price per million tokens
MAX_TOKENS = 1_000_000  # a token budget or reply cap: beyond any model's context window
MAX_COUNT = 20  # candidates, tests, retries, few-shot examples


def text_problem(value: Any) -> str | None:
    """Strings reach git, SQLite, file names and terminals: no NUL, no invalid UTF-8."""
    if "\x00" in value:
        return "text without NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "valid UTF-8 text"
    return None


_TIER_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _tier_order(value: Any) -> str | None:
    names = [name.strip() for name in str(value).split(",")]
    if (
        len(names) < 2
        or names[0] != "weak"
        or names[-1] != "strong"
        or len(set(names)) != len(names)
        or not all(_TIER_NAME.match(name) for name in names)
    ):
        return (
            'tier names separated by commas, from "weak" to "strong" (e.g. '
            '"weak,mid,strong"), each once, lowercase'
        )
    return None


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else "one of " + ", ".join(choices)

    return check


_TOP_KEYS = [
    Key(
        "budget",
        float,
        "Most USD one run may spend; a call that could overrun it is not made.",
        check=_Within(0, MAX_USD),
    ),
    Key("strategy", str, "How the tiers collaborate.", check=_one_of(STRATEGIES)),
    Key(
        "test_cmd",
        str,
        "Command that runs the project's tests (detected when unset).",
        optional=True,
    ),
    Key(
        "test_timeout",
        float,
        "Seconds a test run may take before its processes are killed.",
        check=_Within(0, 86_400, above_low=True),
    ),
    Key(
        "map_tokens",
        int,
        "Token budget of the repo map shown to the model.",
        check=_Within(1, MAX_TOKENS),
    ),
    Key(
        "context_tokens",
        int,
        "Token budget of the code shown beside the map (every tier; when unset the weak "
        "tier gets 64000 where its model takes it, the others 16000).",
        check=_Within(1, MAX_TOKENS),
    ),
    Key(
        "max_file_size",
        int,
        "Files larger than this many bytes are left out of the map.",
        check=_Within(1, 1_000_000_000),
    ),
    Key(
        "retries",
        int,
        "Retries of a model call on rate limits, time-outs and 5xx.",
        check=_Within(0, MAX_COUNT),
    ),
    Key(
        "request_timeout",
        float,
        "Seconds to wait for one model reply.",
        check=_Within(0, 3_600, above_low=True),
    ),
    Key(
        "fewshot",
        int,
        "Earlier fixes shown to the weak tier as examples.",
        check=_Within(0, MAX_COUNT),
    ),
    Key("router", str, "Tier that routes tasks under --strategy route.", check=_one_of(ROUTERS)),
    Key(
        "judge",
        str,
        "How candidates are chosen when no test can judge them.",
        check=_one_of(JUDGES),
    ),
    Key(
        "prompts_dir", str, "Directory with your own copies of the prompt templates.", optional=True
    ),
    Key(
        "network_isolation",
        bool,
        "Run tests without network (the sandbox's own loopback "
        "only); false shares the host's network with them.",
    ),
    Key(
        "sandbox",
        str,
        "Run model-written code in the OS sandbox (bwrap / sandbox-exec); "
        '"off" runs it with your rights, at your own risk.',
        check=_one_of(SANDBOX_MODES),
    ),
    Key(
        "allow_config_edits",
        bool,
        "Let the model edit CI and tool configuration "
        "(.github/, .gitlab-ci.yml, .swc.toml, .gitmodules, .gitattributes, ...).",
    ),
    Key(
        "allow_code_hook_edits",
        bool,
        "Let the model edit files Python runs by itself: setup.py (on install), "
        "sitecustomize.py, usercustomize.py and *.pth (at every start-up).",
    ),
    Key(
        "test_changes",
        str,
        "Which tier may change an existing test, when its patch says "
        "why (TEST CHANGE: ...) and its reproduction tests pass: strong, none or all.",
        check=_one_of(TEST_CHANGE_MODES),
    ),
    Key(
        "tier_order",
        str,
        'The cascade\'s tiers in order; a middle tier such as "mid" is '
        "configured as [mid] like [weak].",
        check=_tier_order,
    ),
]

_TIER_FIELDS = [
    ("model", str, "Model name for litellm (e.g. gpt-4o-mini) or local/smollm2.", True, None),
    ("api_base", str, "Base URL of the provider or OpenAI-compatible server.", True, None),
    ("api_key_env", str, "Environment variable holding the API key.", True, None),
    (
        "temperature",
        float,
        "Sampling temperature when several candidates are drawn.",
        False,
        _Within(0, 2),
    ),
    ("max_tokens", int, "Most tokens one reply may have.", False, _Within(1, MAX_TOKENS)),
    (
        "input_cost_per_mtok",
        float,
        "USD per million prompt tokens, for unknown models.",
        True,
        _Within(0, MAX_USD),
    ),
    (
        "output_cost_per_mtok",
        float,
        "USD per million completion tokens, for unknown models.",
        True,
        _Within(0, MAX_USD),
    ),
    (
        "edit_format",
        str,
        "search-replace or whole (default: whole for local/small models).",
        True,
        _one_of(EDIT_FORMATS),
    ),
    (
        "candidates",
        int,
        "Candidate patches this tier drafts (default: planned from budget).",
        True,
        _Within(1, MAX_COUNT),
    ),
    (
        "tests",
        int,
        "Reproduction tests this tier writes (default: planned from budget).",
        True,
        _Within(1, MAX_COUNT),
    ),
    (
        "context_tokens",
        int,
        "Code tokens shown to this tier (default: context_tokens; the weak tier's: 64000 "
        "where its model's window takes them).",
        True,
        _Within(1, MAX_TOKENS),
    ),
]


def tier_keys(tier: str) -> dict[str, Key]:
    return {
        f"{tier}.{name}": Key(f"{tier}.{name}", kind, f"{tier} tier: {text}", optional, check)
        for name, kind, text, optional, check in _TIER_FIELDS
    }


KEYS: dict[str, Key] = {key.name: key for key in _TOP_KEYS}
for _tier in TIER_NAMES:
    KEYS.update(tier_keys(_tier))


def keys_for(tier_names: tuple[str, ...] | list[str]) -> dict[str, Key]:
    """``KEYS`` plus the keys of the middle tiers named in ``tier_order``."""
    keys = dict(KEYS)
    for tier in tier_names:
        if tier not in TIER_NAMES:
            keys.update(tier_keys(tier))
    return keys
