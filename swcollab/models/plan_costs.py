"""What a call will cost, known before its prompt is written: for the run's plan.

The plan must promise only calls the budget will accept, so it costs a call by the very
rule the budget holds by (``ModelClient.worst_case``, with this model's ratios and
context window), for a prompt of a given size instead of given messages.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from . import _litellm as lib
from .budget import WorstCase

if TYPE_CHECKING:
    from .client import ModelClient


def call_costs(
    client: ModelClient, tier: str, *, prompt_tokens: int, prompt_bytes: int, messages: int = 2
) -> tuple[float, float]:
    """(held, charged) in USD for one call of ``tier`` whose prompt counts
    ``prompt_tokens`` (our estimate) in ``prompt_bytes``: what ``complete`` will hold from
    the budget, and what stays spent after it when the provider counts the prompt as it
    did before (as we count it, with no history) and the reply takes all of
    ``max_tokens``."""
    spec = client.spec(tier)
    route = lib.route(spec, client.environ)  # planning never starts a local server
    limit = client._reply_limit(spec, None, prompt_tokens)
    held = client.worst_case(spec, route, prompt_tokens, limit, (prompt_bytes, messages))
    ratio = client.budget.ratios.prompt_ratio(spec.model) or 1.0
    charged = WorstCase(math.ceil(prompt_tokens * max(ratio, 1.0)), held.completion_tokens)
    prices = client.price(tier)
    return held.cost(*prices), charged.cost(*prices)
