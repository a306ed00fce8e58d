"""How the budget holds when a provider counts more prompt tokens than swc does.

A loopback provider bills ``factor`` times the prompt tokens swc's tokenizer counted
(real providers' tokenizers differ from tiktoken; some add hidden tokens). Calls of
realistic size (chunks of swc's own source as prompts, weak and strong alternating, at
gpt-4o-mini-like and Claude-Sonnet-like prices) are made until the budget refuses one,
once with swc's reservation rule and once with the previous one (our count x 1.15 + 16
tokens), which is the baseline. Printed per provider: calls made, what was billed, and
how often the budget was overrun, over several seeds (different prompts and replies).

    python benchmarks/budget.py [--budget 0.5] [--seeds 10] [--max-tokens 1024]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from swcollab.config import Settings, TierSettings  # noqa: E402
from swcollab.errors import BudgetExhausted  # noqa: E402
from swcollab.models import Budget, Ledger, ModelClient  # noqa: E402
from swcollab.models import _litellm as lib  # noqa: E402
from swcollab.models.budget import WorstCase  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI, FakeResponse  # noqa: E402

PRICES = {"weak": (0.15, 0.60), "strong": (3.0, 15.0)}  # USD per million tokens
PROVIDERS = {
    "honest (1x)": lambda rng: 1.0,
    "1.3x": lambda rng: 1.3,
    "2x": lambda rng: 2.0,
    "3x": lambda rng: 3.0,
    "random 0-3x": lambda rng: rng.uniform(0.0, 3.0),
}


class BaselineClient(ModelClient):
    """The reservation rule before issue 16: our count x 1.15 + 16, max_tokens of output."""

    def worst_case(self, spec, route, estimate, limit, prompt):  # type: ignore[no-untyped-def]
        return WorstCase(math.ceil(estimate * 1.15) + 16, limit)


def settings(base_url: str, max_tokens: int) -> Settings:
    tiers = {
        name: TierSettings(
            name,
            model=f"openai/{name}-model",
            api_base=base_url,
            input_cost_per_mtok=PRICES[name][0],
            output_cost_per_mtok=PRICES[name][1],
            max_tokens=max_tokens,
        )
        for name in PRICES
    }
    return Settings(weak=tiers["weak"], strong=tiers["strong"], retries=0)


def prompts(rng: random.Random) -> list[str]:
    text = "\n".join(p.read_text() for p in sorted((ROOT / "swcollab").rglob("*.py")))
    chunks = []
    for _ in range(400):
        size = rng.randint(4_000, 40_000)  # characters: ~1k to ~10k tokens
        start = rng.randint(0, len(text) - size)
        chunks.append(text[start : start + size])
    return chunks


def run(
    client_class: type[ModelClient],
    fake: FakeOpenAI,
    factor,
    limit: float,
    seed: int,
    state: Path,
    max_tokens: int,
) -> tuple[int, float]:
    rng = random.Random(seed)
    bill_rng = random.Random(seed + 1)

    def bill(body: dict) -> FakeResponse:
        counted = lib.token_count(str(body["model"]), messages=body["messages"])
        return FakeResponse(
            content="ok " * 50,
            prompt_tokens=int(counted * factor(bill_rng)),
            completion_tokens=rng.randint(1, max_tokens),
        )

    fake.set_handler(bill)
    ledger = Ledger.open(state)
    run_id = ledger.start_run(task="bench", strategy="cascade", tiers={}, base="-")
    budget = Budget(limit)
    client = client_class(
        settings(fake.base_url, max_tokens), budget=budget, ledger=ledger, run_id=run_id
    )
    made = 0
    texts = prompts(random.Random(seed))
    try:
        for index, text in enumerate(texts):
            tier = "strong" if index % 3 == 2 else "weak"
            client.complete(tier, [{"role": "user", "content": text}], purpose="patch")
            made += 1
    except BudgetExhausted:
        pass
    billed = ledger.total_cost(run_id)
    ledger.close()
    return made, billed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=0.5)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=1024)
    args = parser.parse_args()
    print(
        f"budget ${args.budget:.2f}; weak and strong calls of ~1k-10k prompt tokens, "
        f"max_tokens {args.max_tokens}; {args.seeds} seeds"
    )
    print(
        f"{'provider bills':<14} {'rule':<9} {'calls':>6} {'billed, mean':>13} "
        f"{'billed, max':>12}  overruns"
    )
    with FakeOpenAI() as fake, tempfile.TemporaryDirectory() as tmp:
        for name, factor in PROVIDERS.items():
            for label, cls in (("baseline", BaselineClient), ("swc", ModelClient)):
                results = []
                for seed in range(args.seeds):
                    state = Path(tmp) / f"{name}-{label}-{seed}".replace(" ", "_")
                    results.append(
                        run(cls, fake, factor, args.budget, seed, state, args.max_tokens)
                    )
                calls = sum(m for m, _ in results) / len(results)
                shares = [billed / args.budget * 100 for _, billed in results]
                overruns = sum(1 for _, billed in results if billed > args.budget + 1e-12)
                print(
                    f"{name:<14} {label:<9} {calls:>6.1f} {sum(shares) / len(shares):>12.1f}% "
                    f"{max(shares):>11.1f}%  {overruns}/{len(results)}"
                )


if __name__ == "__main__":
    main()
