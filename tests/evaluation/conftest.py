"""A small project whose history holds three fixes (with their tests), and scripted models.

History, oldest first: the initial code (three bugs), fix alpha (add), a docs-only
commit, fix bravo (mul), a test-only commit, fix charlie (neg). Each fix commit changes
``calc/ops.py`` and adds a hidden test; its message names the task (``task-alpha``...),
so the scripted models can tell which task a prompt is about.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes.model_config import configure_fake_tiers
from tests.fakes.openai_server import FakeOpenAI, request_text, word_count

OPS = '''"""Arithmetic helpers."""


def add(a, b):
    return a - b


def mul(a, b):
    return a ** b


def neg(x):
    return +x


def sub(a, b):
    return a - b
'''

BASE_TEST = """from calc.ops import sub


def test_sub():
    assert sub(5, 3) == 2
"""

# The hidden tests: names the models must never see.
HIDDEN = {
    "alpha": (
        "tests/test_ops.py",
        "test_hidden_add_sums",
        "from calc.ops import add\n\n\ndef test_hidden_add_sums():\n    assert add(2, 3) == 5\n",
    ),
    "bravo": (
        "tests/test_mul.py",
        "test_hidden_mul_product",
        "from calc.ops import mul\n\n\ndef test_hidden_mul_product():\n"
        "    assert mul(3, 4) == 12\n",
    ),
    "charlie": (
        "tests/test_neg.py",
        "test_hidden_neg_flips",
        "from calc.ops import neg\n\n\ndef test_hidden_neg_flips():\n    assert neg(4) == -4\n",
    ),
}
FIXES = {
    "alpha": ("    return a - b\n\n\ndef mul", "    return a + b\n\n\ndef mul"),
    "bravo": ("    return a ** b", "    return a * b"),
    "charlie": ("    return +x", "    return -x"),
}
MESSAGES = {
    "alpha": "add() subtracts instead of adding [task-alpha]",
    "bravo": "mul() raises to a power instead of multiplying [task-bravo]",
    "charlie": "neg() does not flip the sign [task-charlie]",
}
# What a model answers: the bug line, the right line, a wrong line.
_MUL = "\n\n\ndef mul(a, b):"
PATCH_LINES = {
    "alpha": ("    return a - b" + _MUL, "    return a + b" + _MUL, "    return a * b" + _MUL),
    "bravo": ("    return a ** b", "    return a * b", "    return a - b"),
    "charlie": ("    return +x", "    return -x", "    return x * 2"),
}
REPRO = {
    "alpha": "from calc.ops import add\n\n\ndef test_swc_add():\n    assert add(1, 1) == 2\n",
    "bravo": "from calc.ops import mul\n\n\ndef test_swc_mul():\n    assert mul(2, 5) == 10\n",
    "charlie": "from calc.ops import neg\n\n\ndef test_swc_neg():\n    assert neg(1) == -1\n",
}


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def _commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)
    return git(root, "rev-parse", "HEAD").strip()


def make_history(root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The project and its history (``extra`` files in its first commit); returns the sha
    of each fix commit."""
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    for name, text in (extra or {}).items():
        (root / name).write_text(text)
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(OPS)
    (root / "tests" / "test_ops.py").write_text(BASE_TEST)
    (root / "pyproject.toml").write_text('[project]\nname = "calc"\nversion = "0"\n')
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    _commit(root, "initial")
    shas = {}
    for name in ("alpha", "bravo", "charlie"):
        ops = root / "calc" / "ops.py"
        old, new = FIXES[name]
        ops.write_text(ops.read_text().replace(old, new))
        path, _test, text = HIDDEN[name]
        target = root / path
        target.write_text((target.read_text() + "\n\n" if target.exists() else "") + text)
        shas[name] = _commit(root, MESSAGES[name])
        if name == "alpha":
            (root / "README.md").write_text("# calc\n")
            _commit(root, "docs: a readme")
        if name == "bravo":
            (root / "tests" / "test_more.py").write_text(
                "from calc.ops import sub\n\n\ndef test_sub_zero():\n    assert sub(1, 1) == 0\n"
            )
            _commit(root, "tests: one more")
    return shas


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "calc-project"
    shas = make_history(root)
    return root, shas


def task_of(text: str) -> str | None:
    for name in ("alpha", "bravo", "charlie"):
        if f"task-{name}" in text:
            return name
    return None


def _patch(name: str, right: bool) -> str:
    search, good, bad = PATCH_LINES[name]
    return (
        f"calc/ops.py\n```python\n<<<<<<< SEARCH\n{search}\n=======\n"
        f"{good if right else bad}\n>>>>>>> REPLACE\n```\n"
    )


@dataclass
class Models:
    """Weak solves ``weak_solves``; strong solves everything. Every call is logged."""

    weak_solves: set[str] = field(default_factory=lambda: {"alpha"})
    calls: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    on_request: object = None  # called with (tier, task) before answering

    def answer(self, body: dict) -> str:
        tier = "strong" if "strong" in str(body.get("model")) else "weak"
        text = request_text(body)
        name = task_of(text) or "alpha"
        if callable(self.on_request):
            self.on_request(tier, name)
        if "reproduce the problem" in text:
            kind = "tests"
            reply = f"tests/test_swc_{name}.py\n```python\n{REPRO[name]}```\n"
        else:
            kind = "patch"
            reply = _patch(name, tier == "strong" or name in self.weak_solves)
        self.calls.append((tier, kind, name, word_count(text), word_count(reply)))
        return reply

    def cost(self, tier: str | None = None) -> float:
        prices = {"weak": (1.0, 2.0), "strong": (10.0, 40.0)}
        return sum(
            (p * prices[t][0] + c * prices[t][1]) / 1e6
            for t, _k, _n, p, c in self.calls
            if tier is None or t == tier
        )


@pytest.fixture
def models(fake_llm: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Models:
    """Both tiers on the loopback server, with prices, through the user config file."""
    configure_fake_tiers(monkeypatch, tmp_path / "xdg", fake_llm.base_url, weak_candidates=1)
    script = Models()
    fake_llm.set_handler(script.answer)
    return script
