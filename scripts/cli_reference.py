"""Render the command reference from the code: every ``--help``, and every ``--json`` shape.

    python scripts/cli_reference.py          # rewrite docs/reference/cli.md and json.md
    python scripts/cli_reference.py --check  # exit 1 if either is out of date

``cli-help`` is the ``--help`` of every command and subcommand, as click prints it at 80
columns. ``json-shapes`` is the shape (keys and JSON types, not values) of the document
each command prints with ``--json``, taken from real runs: a small buggy project in a
temporary git repository, both tiers answered by the loopback model server of the tests
(``tests/fakes/openai_server.py``), nothing reaching the network. Each command runs in
every scenario that changes its shape (a fixed run and one that is not), and the types
seen are joined (``string | null``); the project's suite has a flaky test, so the
shape of ``flaky_tests`` is seen too. Run it from the repository root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated import ROOT, generator_main

sys.path.insert(0, str(ROOT))

FILES = (ROOT / "docs" / "reference" / "cli.md", ROOT / "docs" / "reference" / "json.md")
COMMAND = "python scripts/cli_reference.py"
WIDTH = 80


# --- every --help -------------------------------------------------------------------------


def command_paths() -> list[tuple[str, ...]]:
    """Every command and subcommand of ``swc``, parents first, in name order."""
    import click

    from swcollab.cli import cli

    paths: list[tuple[str, ...]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        paths.append(path)
        if isinstance(command, click.Group):
            for name in sorted(command.commands):
                walk(command.commands[name], (*path, name))

    walk(cli, ())
    return paths


def help_text(path: tuple[str, ...]) -> str:
    """What ``swc PATH --help`` prints in a terminal ``WIDTH`` columns wide: run for real
    (click's test runner forces its own width), with this checkout's ``swcollab``."""
    env = {**os.environ, "COLUMNS": str(WIDTH), "NO_COLOR": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    done = subprocess.run(
        [sys.executable, "-m", "swcollab", *path, "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    if done.returncode != 0:
        raise SystemExit(f"swc {' '.join(path)} --help exited {done.returncode}: {done.stderr}")
    return done.stdout.rstrip("\n")


def cli_help() -> str:
    parts = []
    for path in command_paths():
        title = " ".join(("swc", *path))
        parts.append(f"## `{title}`\n\n```text\n{help_text(path)}\n```\n")
    return "\n".join(parts)


# --- every --json shape -------------------------------------------------------------------

BUGGY = (
    '"""Arithmetic helpers."""\n\n\ndef add(a, b):\n    return a - b\n\n\n'
    "def mul(a, b):\n    return a * b\n"
)
EXISTING_TEST = "from calc.ops import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"
FIXING_TEST = "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
# The reproduction test leaves state behind, and a test of the project depends on it not
# being there: that test fails after it on a candidate and passes alone, a flaky test (so
# the shape of ``flaky_tests`` is seen).
REPRO_TEST = (
    "tests/test_swc_add.py\n```python\nfrom calc import ops\n"
    + FIXING_TEST
    + "    ops.TRACE = True\n```\n"
)
ORDER_DEPENDENT_TEST = (
    'from calc import ops\n\n\ndef test_untraced():\n    assert not getattr(ops, "TRACE", False)\n'
)
GOOD_PATCH = (
    "calc/ops.py\n```python\n<<<<<<< SEARCH\n    return a - b\n=======\n"
    "    return a + b\n>>>>>>> REPLACE\n```\n"
)
WRONG_PATCH = GOOD_PATCH.replace("a + b", "a * b")
PROMPT = "add(2, 3) returns -1 instead of 5"

# Objects whose keys are data (tier names, setting names), shown as one entry.
MAPS = {
    ("config show", "settings"): "setting",
    ("fix", "calls_by_tier"): "tier",
    ("fix", "tokens"): "kind",
    ("context", "parts"): "part",
    ("trust", "keys"): "setting",
}


@dataclass
class Replies:
    """What the loopback model answers; ``wrong`` makes every patch fail the tests."""

    wrong: bool = False
    seen: list[str] = field(default_factory=list)

    def answer(self, body: dict) -> str:
        from tests.fakes.openai_server import request_text

        text = request_text(body)
        if "reproduce the problem" in text:
            return REPRO_TEST
        if "Write a brief of this repository" in text:
            return "calc is a tiny arithmetic library; its functions live in calc/ops.py."
        return WRONG_PATCH if self.wrong else GOOD_PATCH


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def make_project(root: Path) -> None:
    """A Python project whose history holds one fix with its test (for ``swc eval``)."""
    (root / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(BUGGY)
    (root / "tests" / "test_ops.py").write_text(EXISTING_TEST)
    (root / "tests" / "test_ops_trace.py").write_text(ORDER_DEPENDENT_TEST)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "dev@example.com")
    _git(root, "config", "user.name", "Dev")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "calc")
    (root / "calc" / "ops.py").write_text(BUGGY.replace("a - b", "a + b"))
    (root / "tests" / "test_add.py").write_text(FIXING_TEST)
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "Fix add: it subtracted")
    (root / "calc" / "ops.py").write_text(
        BUGGY.replace("def mul", "def div(a, b):\n    return a * b\n\n\ndef mul")
    )
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "Add div")


def write_config(config_home: Path, base_url: str) -> None:
    tiers = "".join(
        f'''
[{tier}]
model = "openai/{tier}-model"
api_base = "{base_url}"
api_key_env = "SWC_DOCS_FAKE_KEY"
input_cost_per_mtok = {price}
output_cost_per_mtok = {price * 4}
candidates = 1
tests = 1
'''
        for tier, price in (("weak", 1.0), ("strong", 10.0))
    )
    (config_home / "swc").mkdir(parents=True, exist_ok=True)
    (config_home / "swc" / "config.toml").write_text(
        f'test_cmd = "{sys.executable} -m pytest -q"\ntest_timeout = 120\n{tiers}'
    )


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_json(project: Path, *args: str) -> Any:
    from click.testing import CliRunner

    from swcollab.cli import cli

    result = CliRunner().invoke(cli, ["--repo", str(project), *args, "--json"])
    if result.exit_code not in (0, 1):
        raise SystemExit(
            f"swc {' '.join(args)} --json exited {result.exit_code}: "
            f"{result.stderr or result.output}"
        )
    return json.loads(result.stdout)


def collect_documents() -> dict[str, list[Any]]:
    """Every ``--json`` command, run for real in a scratch project; documents by command."""
    from tests.fakes.openai_server import FakeOpenAI

    docs: dict[str, list[Any]] = {}

    def add(name: str, document: Any) -> None:
        docs.setdefault(name, []).append(document)

    with tempfile.TemporaryDirectory(prefix="swc-docs-") as scratch, FakeOpenAI() as server:
        project, config_home = Path(scratch) / "calc", Path(scratch) / "config"
        make_project(project)
        write_config(config_home, server.base_url)
        replies = Replies()
        server.set_handler(replies.answer)
        env = {"XDG_CONFIG_HOME": str(config_home), "SWC_DOCS_FAKE_KEY": "sk-docs", "NO_COLOR": "1"}
        # The tests' interpreter is found the same way whether or not the shell that
        # started this activated the environment swc runs in (CI, a developer's venv).
        if sys.prefix != sys.base_prefix:
            env["VIRTUAL_ENV"] = sys.prefix
        with environment(env):
            add("config show", run_json(project, "config", "show"))
            # a repository file setting a key that needs trust: untrusted, then trusted
            (project / ".swc.toml").write_text(f'test_cmd = "{sys.executable} -m pytest -q"\n')
            add("config show", run_json(project, "config", "show"))
            add("trust", run_json(project, "trust"))
            add("trust --list", run_json(project, "trust", "--list"))
            add("config path", run_json(project, "config", "path"))
            add("doctor", run_json(project, "doctor"))
            add("map", run_json(project, "map", "--focus", PROMPT, "--tokens", "256"))
            add("context", run_json(project, "context", "--prompt", PROMPT))
            fixed = run_json(project, "fix", "--prompt", PROMPT)
            add("fix", fixed)
            replies.wrong = True
            add("fix", run_json(project, "fix", "--prompt", PROMPT + " (again)"))
            replies.wrong = False
            add("runs", run_json(project, "runs"))
            add("runs flaky", run_json(project, "runs", "flaky"))
            add("runs show", run_json(project, "runs", "show", fixed["run_id"]))
            add(
                "runs show --context",
                run_json(project, "runs", "show", fixed["run_id"], "--context"),
            )
            add("stats", run_json(project, "stats"))
            add("brief", run_json(project, "brief"))
            db = Path(scratch) / "eval.db"
            evaluated = run_json(
                project,
                "eval",
                "--from-history",
                "--limit",
                "1",
                "--strategies",
                "weak",
                "--db",
                str(db),
            )
            add("eval", evaluated)
            add(
                "eval --dry-run",
                run_json(
                    project,
                    "eval",
                    "--from-history",
                    "--limit",
                    "1",
                    "--strategies",
                    "cascade",
                    "--db",
                    str(db),
                    "--dry-run",
                ),
            )
            task_id = evaluated["runs"][0]["task_id"]
            add("eval show", run_json(project, "eval", "show", task_id, "--db", str(db)))
            add(
                "eval merge",
                run_json(
                    project, "eval", "merge", str(db), "--into", str(Path(scratch) / "merged.db")
                ),
            )
            add("runs flaky --clear", run_json(project, "runs", "flaky", "--clear"))
            add("trust --revoke", run_json(project, "trust", "--revoke"))
    return docs


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


@dataclass
class Shape:
    """The JSON types seen at one place of a document, and what objects and lists held."""

    types: set[str] = field(default_factory=set)
    keys: dict[str, Shape] = field(default_factory=dict)
    items: Shape | None = None

    def add(self, value: Any, where: tuple[str, ...]) -> None:
        kind = json_type(value)
        if kind == "integer" and "number" in self.types:
            kind = "number"
        if kind == "number":
            self.types.discard("integer")
        self.types.add(kind)
        if isinstance(value, dict):
            if where in MAPS:  # every entry joins one shape, named for what the keys are
                name = f"<{MAPS[where]}>"
                for item in value.values():
                    self.keys.setdefault(name, Shape()).add(item, (*where, name))
                return
            for key, item in value.items():
                self.keys.setdefault(key, Shape()).add(item, (*where, key))
        elif isinstance(value, list):
            self.items = self.items or Shape()
            for item in value:
                self.items.add(item, where)

    def lines(self, indent: str = "") -> list[str]:
        out = []
        for key in self.keys:
            child = self.keys[key]
            out.append(f"{indent}{key}: {child.describe()}")
            out += child.nested(indent + "  ")
        return out

    def nested(self, indent: str) -> list[str]:
        if self.keys:
            return self.lines(indent)
        if self.items is not None and self.items.keys:
            return self.items.lines(indent + "  ")
        return []

    def describe(self) -> str:
        names = []
        for kind in ("object", "list", "string", "number", "integer", "boolean", "null"):
            if kind not in self.types:
                continue
            if kind == "list":
                inner = self.items.describe() if self.items and self.items.types else "empty"
                names.append(f"list of {inner}")
            else:
                names.append(kind)
        return " | ".join(names) or "empty"


def shape_of(command: str, documents: list[Any]) -> str:
    shape = Shape()
    for document in documents:
        shape.add(document, (command,))
    body = [f"(top level): {shape.describe()}", *shape.nested("")]
    if shape.items is not None and shape.items.keys:
        body = [f"(top level): {shape.describe()}", *shape.items.lines("  ")]
    return "\n".join(body)


def json_shapes() -> str:
    documents = collect_documents()
    parts = []
    for command in sorted(documents):
        runs = len(documents[command])
        seen = "one run" if runs == 1 else f"{runs} runs joined"
        parts.append(
            f"## `swc {command} --json`\n\n<!-- {seen} -->\n```text\n"
            f"{shape_of(command, documents[command])}\n```\n"
        )
    return "\n".join(parts)


BLOCKS = {"cli-help": cli_help, "json-shapes": json_shapes}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return generator_main(
        argv, description=__doc__.splitlines()[0], files=FILES, blocks=BLOCKS, command=COMMAND
    )


if __name__ == "__main__":
    sys.exit(main())
