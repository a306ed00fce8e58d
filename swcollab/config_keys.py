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
FLAKY_MODES = ("detect", "off")


@dataclass(frozen=True)
class Key:
    """Declaration of one setting: its dotted name, type, check and documentation."""

    name: str
    kind: type
    help: str
    optional: bool = False
    check: Callable[[Any], str | None] | None = None
    # Decides where prompts and keys go or what runs outside the sandbox: honoured from a
    # repository's file only once the user trusted that file (``trust``).
    needs_trust: bool = False

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


class _OffOrWithin(_Within):
    """A limit: 0 (off), or a number in a range whose low end keeps the sandbox able to
    start at all (bwrap and the test command need a few processes, files, megabytes)."""

    def __init__(self, low: float, high: float) -> None:
        super().__init__(low, high)
        self.text = f"0 (off), or {self.text}"

    def __call__(self, value: Any) -> str | None:
        return None if value == 0 or super().__call__(value) is None else self.text


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


MAX_USD = 10_000.0  # one run's budget, a price per million tokens
MAX_TOKENS = 1_000_000  # a token budget or reply cap: beyond any model's context window
MAX_COUNT = 20  # candidates, tests, retries, few-shot examples
MAX_MB = 1 << 24  # a size in MB: 16 TB


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
        needs_trust=True,
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
        "Token budget of the code shown beside the map (every tier; when unset the strong "
        "tier gets 16000 and a cheaper tier what context_cost_share buys, up to 64000).",
        check=_Within(1, MAX_TOKENS),
    ),
    Key(
        "context_cost_share",
        float,
        "A cheaper tier's patch prompt may cost at most this share of the strong tier's: "
        "its code budget follows from both models' prices (0.2: a fifth).",
        check=_Within(0, 1, above_low=True),
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
        "prompts_dir",
        str,
        "Directory with your own copies of the prompt templates (inside the repository or "
        "your config directory).",
        optional=True,
        needs_trust=True,
    ),
    Key(
        "network_isolation",
        bool,
        "Run tests without network (the sandbox's own loopback "
        "only); false shares the host's network with them.",
        needs_trust=True,
    ),
    Key(
        "sandbox",
        str,
        "Run model-written code in the OS sandbox (bwrap / sandbox-exec); "
        '"off" runs it with your rights, at your own risk.',
        check=_one_of(SANDBOX_MODES),
        needs_trust=True,
    ),
    Key(
        "sandbox_processes",
        int,
        "Most processes and threads a sandboxed test run may have at once (0: no limit).",
        check=_OffOrWithin(8, 1_000_000),
        needs_trust=True,
    ),
    Key(
        "sandbox_memory_mb",
        int,
        "Most memory (MB) a sandboxed test run may use; unset: the smaller of 4096 and "
        "half of this machine's memory (0: no limit).",
        optional=True,
        check=_OffOrWithin(32, MAX_MB),
        needs_trust=True,
    ),
    Key(
        "sandbox_file_size_mb",
        int,
        "Largest file (MB) a sandboxed test run may write, its output included (0: no limit).",
        check=_OffOrWithin(1, MAX_MB),
        needs_trust=True,
    ),
    Key(
        "sandbox_open_files",
        int,
        "Most files each process of a sandboxed test run may have open (0: no limit).",
        check=_OffOrWithin(16, 1_048_576),
        needs_trust=True,
    ),
    Key(
        "sandbox_tmp_mb",
        int,
        "Size (MB) of each tmpfs of the sandbox: its own /tmp, $HOME and /dev/shm (0: no limit).",
        check=_OffOrWithin(1, MAX_MB),
        needs_trust=True,
    ),
    Key(
        "allow_config_edits",
        bool,
        "Let the model edit CI and tool configuration "
        "(.github/, .gitlab-ci.yml, .swc.toml, .gitmodules, .gitattributes, ...).",
        needs_trust=True,
    ),
    Key(
        "allow_code_hook_edits",
        bool,
        "Let the model edit files Python runs by itself: setup.py (on install), "
        "sitecustomize.py, usercustomize.py and *.pth (at every start-up).",
        needs_trust=True,
    ),
    Key(
        "test_changes",
        str,
        "Which tier may change an existing test, when its patch says "
        "why (TEST CHANGE: ...) and its reproduction tests pass: strong, none or all.",
        check=_one_of(TEST_CHANGE_MODES),
        needs_trust=True,
    ),
    Key(
        "flaky_tests",
        str,
        "detect: a guarded test that fails on a candidate runs again there and on the base; "
        "a flaky one (it passes on a re-run, or fails on the base) judges no candidate and "
        "is remembered for later runs (swc runs flaky). off: every guarded test judges.",
        check=_one_of(FLAKY_MODES),
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
    (
        "model",
        str,
        "Model name for litellm (e.g. gpt-4o-mini) or local/smollm2 (a local/PATH.gguf from "
        "a repository's file applies once trusted).",
        True,
        None,
    ),
    ("api_base", str, "Base URL of the provider or OpenAI-compatible server.", True, None),
    (
        "api_key_env",
        str,
        "Environment variable holding the API key (a repository's file may name only the "
        "provider's own).",
        True,
        None,
    ),
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
        "cached_input_cost_per_mtok",
        float,
        "USD per million prompt tokens read from the provider's cache (default: the price "
        "map's, else input_cost_per_mtok).",
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
        "Code tokens shown to this tier (default: context_tokens for the strong tier; a "
        "cheaper tier's follows its price, see context_cost_share).",
        True,
        _Within(1, MAX_TOKENS),
    ),
]


# Where a tier's prompts and key go.
TRUSTED_TIER_FIELDS = frozenset({"api_base", "api_key_env"})


def tier_keys(tier: str) -> dict[str, Key]:
    return {
        f"{tier}.{name}": Key(
            f"{tier}.{name}",
            kind,
            f"{tier} tier: {text}",
            optional,
            check,
            needs_trust=name in TRUSTED_TIER_FIELDS,
        )
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
