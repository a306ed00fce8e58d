"""What a model says before anyone drafts: the strong model's plan or FAQ for the
weak tier, and the router's choice of the tier that starts."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from ..prompts import chat
from ..task import Task
from .attempts import context_vars
from .types import Context

if TYPE_CHECKING:
    from ..models import ModelClient


def write_guidance(
    *, client: ModelClient, kind: str, task: Task, context: Context, prompts_dir: str | None
) -> str:
    """The strong model's plan (``plan``) or newcomer FAQ (``faq``) for the weak model."""
    messages = chat(kind, prompts_dir=prompts_dir, **context_vars(context, task.text))
    return client.complete("strong", messages, purpose=kind).text.strip()


_JSON_OBJECT = re.compile(r"\{.*?\}", re.S)


def parse_json_object(text: str) -> dict | None:
    for match in _JSON_OBJECT.finditer(text):
        try:
            value = json.loads(match.group(0))
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def route_task(
    *, client: ModelClient, router: str, task: Task, context: Context, prompts_dir: str | None
) -> tuple[str | None, str]:
    """Ask the router tier where the task starts; (None, why) when its answer is unusable."""
    messages = chat("route", prompts_dir=prompts_dir, **context_vars(context, task.text))
    reply = client.complete(router, messages, purpose="route", temperature=0.0)
    answer = parse_json_object(reply.text)
    if not answer or answer.get("tier") not in ("weak", "strong"):
        return None, f"router answer unusable ({reply.text.strip()[:80]!r}); plain cascade"
    return str(answer["tier"]), str(answer.get("reason", ""))[:300]
