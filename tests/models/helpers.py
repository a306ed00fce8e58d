"""Settings and clients wired to the loopback server, shared by the models tests."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from swcollab.config import Settings, TierSettings
from swcollab.models import Backoff, Budget, Ledger, ModelClient, ModelEvent
from tests.fakes.openai_server import FakeOpenAI

FAST = Backoff(base=0.01, factor=2.0, cap=0.05, retry_after_cap=0.05)
WEAK_PRICES = (1.0, 2.0)  # USD per million prompt / completion tokens
STRONG_PRICES = (10.0, 40.0)


def fake_settings(
    fake: FakeOpenAI,
    *,
    retries: int = 2,
    timeout: float = 30.0,
    weak: dict[str, Any] | None = None,
    strong: dict[str, Any] | None = None,
) -> Settings:
    weak_tier = TierSettings(
        "weak",
        model="openai/weak-model",
        api_base=fake.base_url,
        input_cost_per_mtok=WEAK_PRICES[0],
        output_cost_per_mtok=WEAK_PRICES[1],
        max_tokens=256,
    )
    strong_tier = TierSettings(
        "strong",
        model="openai/strong-model",
        api_base=fake.base_url,
        input_cost_per_mtok=STRONG_PRICES[0],
        output_cost_per_mtok=STRONG_PRICES[1],
        max_tokens=256,
    )
    return Settings(
        weak=replace(weak_tier, **(weak or {})),
        strong=replace(strong_tier, **(strong or {})),
        retries=retries,
        request_timeout=timeout,
    )


class Harness:
    """A client with a ledger run and an event log, as the engine sets one up."""

    def __init__(
        self,
        settings: Settings,
        state_dir: Path,
        *,
        budget: float | None = None,
        environ: dict[str, str] | None = None,
    ) -> None:
        self.ledger = Ledger.open(state_dir)
        self.run_id = self.ledger.start_run(
            task="t", strategy="cascade", tiers={"weak": "w", "strong": "s"}, base="abc"
        )
        self.budget = Budget(budget)
        self.events: list[ModelEvent] = []
        self.client = ModelClient(
            settings,
            budget=self.budget,
            ledger=self.ledger,
            run_id=self.run_id,
            on_event=self.events.append,
            environ=environ,
            backoff=FAST,
        )

    def calls(self) -> list[dict]:
        return self.ledger.calls(self.run_id)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def close(self) -> None:
        self.client.close()
        self.ledger.close()


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def wait_dead(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False
