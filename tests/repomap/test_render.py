"""Rendering: an outline within the budget, never over it."""

from __future__ import annotations

import pytest

from swcollab.repomap import Focus, build_repo_map
from swcollab.repomap.render import estimate_tokens

from .conftest import SHOP, MakeRepo


def _many_files() -> dict[str, str]:
    files = {}
    for i in range(60):
        body = "".join(
            f"    def method_{i}_{j}(self, value):\n        return value\n\n" for j in range(8)
        )
        files[f"pkg/module_{i}.py"] = (
            f"class Component{i}:\n{body}\ndef use_{i}():\n    return Component{(i + 1) % 60}()\n"
        )
    return files


@pytest.mark.parametrize("budget", [1, 50, 200, 1024, 4000])
def test_budget_is_never_exceeded(make_repo: MakeRepo, budget: int) -> None:
    repo = make_repo(_many_files())
    result = build_repo_map(repo, Focus(text="component method value"), tokens=budget)
    assert result.tokens == estimate_tokens(result.text)
    assert result.tokens <= budget
    if budget >= 1024:
        # Bisection fills the budget: one more item would not have fitted.
        assert result.tokens > budget * 0.9


def test_budget_with_a_model_tokenizer(make_repo: MakeRepo) -> None:
    litellm = pytest.importorskip("litellm")
    repo = make_repo(_many_files())
    result = build_repo_map(repo, Focus(text="component"), tokens=300, model="gpt-4o")
    real = litellm.token_counter(model="gpt-4o", text=result.text)
    assert result.tokens == real <= 300
    # The estimate used without a model is on the safe side of this tokenizer.
    assert estimate_tokens(result.text) >= real


def test_unknown_model_falls_back_to_the_estimate_with_a_warning(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    result = build_repo_map(repo, Focus(), tokens=100, model="no-such-model-xyz")
    assert result.tokens == estimate_tokens(result.text)
    assert any("unknown to litellm" in w for w in result.warnings)


def test_outline_shape(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    text = build_repo_map(repo, Focus(text="shopping cart total price"), tokens=2048).text
    block = text.split("\n\n")[0] if "\n\n" in text else text
    assert "shop/cart.py:\n" in text
    assert " 4│class ShoppingCart:\n" in text
    assert "11│    def total_price(self, code=None):" in text
    assert "…" in block
    assert "shop/__init__.py" in text  # a file without definitions is listed by path
