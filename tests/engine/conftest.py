"""A small buggy Python project in a real git repository, and a scripted pair of models.

The scripted models answer through the loopback OpenAI server, so the whole of litellm's
HTTP path, the budget and the ledger run as they do for a user.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from swcollab.models.fake import FakeModel
from tests.fakes.model_config import configure_fake_tiers
from tests.fakes.openai_server import FakeOpenAI, request_text

BUGGY_OPS = '''"""Arithmetic helpers."""


def add(a, b):
    """Return the sum of a and b."""
    return a - b


def mul(a, b):
    return a * b
'''

EXISTING_TEST = """from calc.ops import mul


def test_mul():
    assert mul(2, 3) == 6
"""

GOOD_TEST = """tests/test_swc_add.py
```python
from calc.ops import add


def test_add_sums():
    assert add(2, 3) == 5
```
"""

PASSING_TEST = """```python
from calc.ops import mul


def test_mul_again():
    assert mul(2, 2) == 4
```
"""

GOOD_PATCH = """The bug is the minus sign.

calc/ops.py
```python
<<<<<<< SEARCH
    return a - b
=======
    return a + b
>>>>>>> REPLACE
```
"""

WRONG_PATCH = """calc/ops.py
```python
<<<<<<< SEARCH
    return a - b
=======
    return a * b
>>>>>>> REPLACE
```
"""

MALFORMED_PATCH = """calc/ops.py
```python
<<<<<<< SEARCH
    return a minus b
=======
    return a + b
>>>>>>> REPLACE
```
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def trust(root: Path) -> None:
    """``swc trust`` in ``root``: its .swc.toml is the test's own (the user's) file."""
    from click.testing import CliRunner

    from swcollab.cli import cli

    result = CliRunner().invoke(cli, ["--repo", str(root), "trust"])
    assert result.exit_code == 0, result.output


def commit_project(root: Path, files: dict[str, str]) -> Path:
    """A git repository at ``root`` holding ``files`` in one commit on ``main``."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {
        "calc/__init__.py": "",
        "calc/ops.py": BUGGY_OPS,
        "tests/test_ops.py": EXISTING_TEST,
        "pyproject.toml": '[project]\nname = "calc"\nversion = "0"\n',
    }
    return commit_project(tmp_path / "proj", files)


def is_tests_request(body: dict) -> bool:
    return "reproduce the problem" in request_text(body)


def is_plan_request(body: dict) -> bool:
    return "Write a short plan" in request_text(body)


def purpose_of(body: dict) -> str:
    """What a request over HTTP is for, from its prompt's words (a patch unless told)."""
    text = request_text(body)
    if is_tests_request(body):
        return "tests"
    if is_plan_request(body):
        return "plan"
    for words, purpose in (
        ("Decide who should fix this task", "route"),
        ("Write a brief of this repository", "brief"),
        ("No test could decide", "judge"),
        ("passes the tests written for the task", "pick"),
    ):
        if words in text:
            return purpose
    return "patch"


@dataclass
class Script:
    """What each tier answers: lists are consumed in order, the last item repeats.

    The answers are a ``FakeModel``'s; over HTTP a request carries no purpose, so the
    purpose is told from the prompt's words here (the seam's tests need no such guess)."""

    weak_tests: list[str] = field(default_factory=lambda: [GOOD_TEST])
    strong_tests: list[str] = field(default_factory=lambda: [GOOD_TEST])
    weak_patches: list[str] = field(default_factory=lambda: [GOOD_PATCH])
    strong_patches: list[str] = field(default_factory=lambda: [GOOD_PATCH])
    mid_tests: list[str] = field(default_factory=lambda: [GOOD_TEST])
    mid_patches: list[str] = field(default_factory=lambda: [GOOD_PATCH])
    plan: str = "Change the minus in add() to a plus."
    route: str = '{"tier": "weak", "reason": "simple"}'
    brief: str = "BRIEF: calc is a tiny arithmetic library; ops live in calc/ops.py."
    judge: str = '{"choice": 1, "reason": "looks right"}'
    calls: list[tuple[str, str]] = field(default_factory=list)  # (tier, kind)

    def __post_init__(self) -> None:
        self.model = FakeModel(
            {
                "weak:tests": self.weak_tests,
                "mid:tests": self.mid_tests,
                "strong:tests": self.strong_tests,
                "weak:patch": self.weak_patches,
                "mid:patch": self.mid_patches,
                "strong:patch": self.strong_patches,
                "plan": self.plan,
                "route": self.route,
                "brief": self.brief,
                "judge": self.judge,
                "pick": self.judge,
            }
        )

    def answer(self, body: dict) -> str:
        model = str(body.get("model"))
        tier = "strong" if "strong" in model else "mid" if "mid-model" in model else "weak"
        kind = purpose_of(body)
        self.calls.append((tier, kind))
        return self.model.answer(tier, kind)

    def count(self, tier: str, kind: str | None = None) -> int:
        return sum(1 for t, k in self.calls if t == tier and (kind is None or k == kind))


@pytest.fixture
def models(
    fake_llm: FakeOpenAI, project: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Script]:
    """Configure both tiers against the loopback server; returns a function making a Script."""
    configure_fake_tiers(monkeypatch, project.parent / "xdg", fake_llm.base_url, weak_candidates=2)

    def make(**kwargs: object) -> Script:
        script = Script(**kwargs)  # type: ignore[arg-type]
        fake_llm.set_handler(script.answer)
        return script

    return make
