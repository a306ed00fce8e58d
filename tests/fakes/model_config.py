"""Both tiers of swc pointed at the loopback model server, through the user config file.

Prices are set so costs can be recomputed from the fake's deterministic token counts:
weak 1 and 2 USD, strong 10 and 40 USD per million prompt and completion tokens.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

KEY_VARIABLE = "SWC_FAKE_KEY"


def configure_fake_tiers(
    monkeypatch: pytest.MonkeyPatch, config_home: Path, base_url: str, *, weak_candidates: int
) -> None:
    monkeypatch.setenv(KEY_VARIABLE, "sk-test")
    tiers = ""
    for tier, prices, candidates in (
        ("weak", (1.0, 2.0), weak_candidates),
        ("strong", (10.0, 40.0), 1),
    ):
        tiers += f'''
[{tier}]
model = "openai/{tier}-model"
api_base = "{base_url}"
api_key_env = "{KEY_VARIABLE}"
input_cost_per_mtok = {prices[0]}
output_cost_per_mtok = {prices[1]}
candidates = {candidates}
tests = 1
'''
    config = f'test_cmd = "{sys.executable} -m pytest -q"\ntest_timeout = 120\nbudget = 1.0\n'
    (config_home / "swc").mkdir(parents=True, exist_ok=True)
    (config_home / "swc" / "config.toml").write_text(config + tiers)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
