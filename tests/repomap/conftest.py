"""Temporary git repositories for the repo map tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

GIT_IDENTITY = [
    "-c",
    "user.name=swc test",
    "-c",
    "user.email=swc@example.invalid",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "protocol.file.allow=always",
]


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return proc.stdout


def write_files(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


MakeRepo = Callable[..., Path]


@pytest.fixture
def make_repo(tmp_path: Path) -> MakeRepo:
    """``make_repo({"a.py": "..."})``: a new git repository with those files committed."""
    counter = iter(range(1000))

    def make(files: Mapping[str, str | bytes] | None = None, *, commit: bool = True) -> Path:
        root = tmp_path / f"repo{next(counter)}"
        root.mkdir()
        git(root, "init", "-q", "-b", "main")
        if files:
            write_files(root, files)
            git(root, "add", "-A")
        if commit and files:
            git(root, "commit", "-qm", "initial")
        return root

    return make


# A small project the ranking tests can reason about.
SHOP = {
    "shop/__init__.py": "",
    "shop/cart.py": (
        "from shop.pricing import apply_discount_code\n\n\n"
        "class ShoppingCart:\n"
        "    def __init__(self):\n        self.items = []\n\n"
        "    def add_item(self, item):\n        self.items.append(item)\n\n"
        "    def total_price(self, code=None):\n"
        "        return apply_discount_code(sum(i.price for i in self.items), code)\n"
    ),
    "shop/pricing.py": (
        "DISCOUNT_RATES = {'SUMMER': 0.1}\n\n\n"
        "def apply_discount_code(amount, code):\n"
        '    """Reduce the amount by the rate of a discount code."""\n'
        "    rate = DISCOUNT_RATES.get(code, 0)\n"
        "    return round(amount * (1 - rate), 2)\n"
    ),
    "shop/inventory.py": (
        "class StockLevel:\n"
        "    def reserve_units(self, sku, count):\n        return count\n\n\n"
        "def restock_warehouse(levels):\n    return [l.reserve_units('x', 1) for l in levels]\n"
    ),
    "shop/shipping.py": (
        "from shop.cart import ShoppingCart\n\n\n"
        "def shipping_cost(cart: ShoppingCart, country: str) -> float:\n"
        '    """Flat rate per parcel, free above a threshold."""\n'
        "    return 0.0 if cart.total_price() > 50 else 4.99\n"
    ),
    "README.md": "# shop\n",
}
