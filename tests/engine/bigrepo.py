"""A repository whose file to change is large: the bug sits near its end, far past any
fixed cut, behind hundreds of unrelated definitions (as click's ``core.py`` or jinja's
``compiler.py`` are for their fixes)."""

from __future__ import annotations

import subprocess
from pathlib import Path

HEADER = '''"""Billing: invoices, ledgers and the many helpers around them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
'''

FILLER = '''

def compute_rollup_{i}(values: list[int], weight: int = {i}) -> int:
    """Weighted rollup number {i} of a series of readings."""
    total = 0
    for value in values:
        total += value * weight
    return total // max(1, len(values))


class Register{i}:
    """Register {i} keeps a running tally."""

    def __init__(self) -> None:
        self.tally = {i}

    def bump(self, amount: int) -> int:
        self.tally += amount
        return self.tally
'''

INVOICE = '''

@dataclass
class Invoice:
    """An invoice with lines and an optional discount."""

    lines: list[Decimal] = field(default_factory=list)
    discount_rate: Decimal = Decimal("0")

    def subtotal(self) -> Decimal:
        return sum(self.lines, Decimal("0"))

    def apply_discount(self) -> Decimal:
        """The total after the discount rate is taken off once."""
        total = self.subtotal()
        total -= total * self.discount_rate
        total -= total * self.discount_rate
        return total.quantize(Decimal("0.01"))
'''

SMALL = '''"""Rounding helpers."""


def round_cents(value: float) -> float:
    return round(value, 2)
'''

FILLERS = 250  # about 4,800 lines before the invoice: twice what the default budget holds


def big_source() -> str:
    return HEADER + "".join(FILLER.format(i=i) for i in range(FILLERS)) + INVOICE


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line of ``text`` containing ``needle``."""
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not found")


def make_big_repo(root: Path) -> Path:
    (root / "billing").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "billing" / "__init__.py").write_text("")
    (root / "billing" / "invoice.py").write_text(big_source())
    (root / "billing" / "rounding.py").write_text(SMALL)
    (root / "tests" / "test_rounding.py").write_text(
        "from billing.rounding import round_cents\n\n\n"
        "def test_round():\n    assert round_cents(1.234) == 1.23\n"
    )
    (root / "pyproject.toml").write_text('[project]\nname = "billing"\nversion = "0"\n')
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "initial"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root
