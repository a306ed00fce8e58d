"""``swc map`` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from swcollab.cli import cli
from swcollab.output import reset_consoles

from .conftest import SHOP, MakeRepo


def swc(*args: str, input: str | None = None) -> tuple[int, str, str]:
    reset_consoles()
    result = CliRunner().invoke(cli, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def test_map_prints_the_outline(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    code, out, err = swc("--repo", str(repo), "map", "--focus", "discount code rates")
    assert code == 0, err
    assert out.startswith("shop/pricing.py:\n")
    assert "def apply_discount_code(amount, code):" in out
    assert err == ""


def test_map_json_lists_ranked_files_with_scores(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    code, out, _err = swc("--repo", str(repo), "map", "--json", "--focus", "warehouse stock")
    assert code == 0
    doc = json.loads(out)
    assert doc["files"][0]["path"] == "shop/inventory.py"
    scores = [f["score"] for f in doc["files"]]
    assert scores == sorted(scores, reverse=True)
    names = {d["name"] for d in doc["files"][0]["definitions"]}
    assert {"StockLevel", "restock_warehouse"} <= names
    assert doc["tokens"] <= 2048 and doc["text"].startswith("shop/inventory.py")
    assert doc["stats"]["files_parsed"] == 5


def test_map_stats_go_to_stderr(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    swc("--repo", str(repo), "map")
    code, out, err = swc("--repo", str(repo), "map", "--stats")
    assert code == 0 and "shop/cart.py" in out
    assert "0 parsed, 5 from cache" in err
    assert "languages: python 5" in err
    assert "time: list" in err and "rank" in err


def test_map_restricted_to_paths_and_focus_from_a_file(make_repo: MakeRepo, tmp_path: Path) -> None:
    files = dict(SHOP)
    files["tools/report.py"] = "def print_report():\n    pass\n"
    repo = make_repo(files)
    task = tmp_path / "task.txt"
    task.write_text("the report is printed twice")
    code, out, _err = swc(
        "--repo", str(repo), "map", str(repo / "tools"), "--focus-file", str(task)
    )
    assert code == 0
    assert out.strip() == "tools/report.py:\n1│def print_report():\n  …"
    code, out, _err = swc(
        "--repo", str(repo), "map", "--focus-file", "-", input="reserve units of stock"
    )
    assert out.startswith("shop/inventory.py:")


def test_map_tokens_limits_the_output(make_repo: MakeRepo) -> None:
    repo = make_repo(SHOP)
    _code, small, _ = swc("--repo", str(repo), "map", "--tokens", "20")
    _code, large, _ = swc("--repo", str(repo), "map", "--tokens", "2000")
    assert 0 < len(small) < len(large)


def test_map_on_this_repository() -> None:
    root = Path(__file__).resolve().parents[2]
    code, out, err = swc(
        "--repo",
        str(root),
        "map",
        "--tokens",
        "512",
        "--focus",
        "personalized pagerank of the repo map",
    )
    assert code == 0, err
    assert "swcollab/repomap/rank.py" in out
