"""The models layer: every model call priced, checked against the budget, and recorded.

Light at import time: litellm is imported only when a call, a price or a token count
needs it (``_litellm.litellm()``), and the local server machinery only for local models.
"""

from __future__ import annotations

from .budget import Budget
from .client import ModelClient
from .ledger import VERDICTS, Ledger, new_run_id
from .retry import Backoff
from .specs import DEFAULT_LOCAL_MODEL, is_local, is_small_model, spec_from_tier
from .types import Completion, Model, ModelEvent, ModelSpec, Reply

__all__ = [
    "DEFAULT_LOCAL_MODEL",
    "VERDICTS",
    "Backoff",
    "Budget",
    "Completion",
    "Ledger",
    "Model",
    "ModelClient",
    "ModelEvent",
    "ModelSpec",
    "Reply",
    "is_local",
    "is_small_model",
    "new_run_id",
    "spec_from_tier",
]
