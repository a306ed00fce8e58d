"""Ranking: the PageRank matches networkx's, and the map leans toward the task."""

from __future__ import annotations

import random

import pytest

from swcollab.repomap import Focus, build_repo_map, focus_from_text
from swcollab.repomap.rank import name_weight, pagerank_edges

from .conftest import SHOP, MakeRepo, git, write_files


def test_pagerank_matches_networkx_with_personalization_and_dangling_nodes() -> None:
    nx = pytest.importorskip("networkx")
    np = pytest.importorskip("numpy")
    rng = random.Random(7)
    n = 60
    edges = [(rng.randrange(n), rng.randrange(n), rng.uniform(0.1, 5)) for _ in range(300)]
    edges = [(a, b, w) for a, b, w in edges if a != b and a < 50]  # 50..59 are dangling
    edges.append(edges[0])  # a duplicate edge adds up, as in a multigraph
    personalization = {3: 2.0, 17: 1.0, 55: 0.5}
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    for a, b, w in edges:
        old = graph.get_edge_data(a, b, {"weight": 0.0})["weight"]
        graph.add_edge(a, b, weight=old + w)
    expected = nx.pagerank(
        graph,
        alpha=0.85,
        personalization=personalization,
        dangling=personalization,
        tol=1e-10,
        max_iter=1000,
    )
    source, target, weight = (np.array(col) for col in zip(*edges, strict=True))
    ours = pagerank_edges(n, source, target, weight, personalization)
    assert ours.sum() == pytest.approx(1.0)
    assert ours == pytest.approx([expected[i] for i in range(n)], abs=1e-5)


def test_name_weights_favour_specific_names() -> None:
    assert name_weight("apply_discount_code", 1, set()) > name_weight("apply", 1, set())
    assert name_weight("_private_helper", 1, set()) < name_weight("public_helper", 1, set())
    assert name_weight("get", 10, set()) < name_weight("get", 1, set())
    assert name_weight("get", 1, {"get"}) > name_weight("get", 1, set())


def test_map_leans_toward_the_words_of_the_task(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    stock = build_repo_map(
        repo,
        focus_from_text("Reserving units of stock in the warehouse fails when the level is low"),
    )
    assert stock.files[0].path == "shop/inventory.py"
    discount = build_repo_map(repo, focus_from_text("A discount code is applied twice"))
    assert discount.files[0].path == "shop/pricing.py"


def test_named_files_come_first_even_when_unrelated(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    result = build_repo_map(
        repo, Focus(text="discount code", files=("shop/shipping.py",)), tokens=60
    )
    assert result.shown[0] == "shop/shipping.py"
    assert result.text.startswith("shop/shipping.py")


def test_stack_trace_frames_pull_their_files_in(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    trace = (
        "Traceback (most recent call last):\n"
        f'  File "{repo}/shop/shipping.py", line 5, in shipping_cost\n'
        '  File "/usr/lib/python3/site-packages/shop/cart.py", line 12, in total_price\n'
        "TypeError: unsupported operand\n"
    )
    result = build_repo_map(repo, focus_from_text(trace), tokens=80)
    assert result.shown[:2] == ("shop/shipping.py", "shop/cart.py")


def test_definitions_are_spread_by_use(make_repo: MakeRepo) -> None:
    files = dict(SHOP)
    files["shop/checkout.py"] = (
        "from shop.pricing import apply_discount_code\n\n"
        "def checkout(amount):\n"
        "    return apply_discount_code(amount, 'SUMMER')\n"
    )
    repo = make_repo(files)
    result = build_repo_map(repo, Focus(), tokens=2048)
    pricing = next(f for f in result.files if f.path == "shop/pricing.py")
    best = max(pricing.definitions, key=lambda d: d.score)
    assert best.name == "apply_discount_code"


def test_files_changed_on_the_branch_join_the_focus(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    git(repo, "switch", "-q", "-c", "work")
    write_files(repo, {"shop/inventory.py": "def restock_warehouse(levels):\n    return []\n"})
    git(repo, "commit", "-qam", "change")
    result = build_repo_map(repo, Focus(), tokens=30, branch_base="main")
    assert result.shown[0] == "shop/inventory.py"
    bad = build_repo_map(repo, Focus(), branch_base="no-such-ref")
    assert any("no-such-ref" in w for w in bad.warnings)
