"""What the cascade costs against strong-only, as a user comparing strategies measures it.

``swc eval`` runs the cascade and strong-only on real fixes mined from the histories of
jinja and requests (``swc eval --from-history``, judged by the fix's own tests), with the
models answered by the loopback OpenAI-compatible server (tests/fakes/openai_server.py)
and priced at litellm's real prices. The server answers as OpenAI does: ``n`` samples of
one prompt for the prompt once, and the prompt tokens a request shares at its start with
an earlier request of the same model reported as cached (``prompt_tokens_details.
cached_tokens``, in steps of 128 from 1,024 on), tokens counted with tiktoken.

What the models answer is scripted from each fix, never from the prompt's wording about
the task: the strong model always right (the fix's source hunks as search/replace blocks),
the weak model right on every other task (``--weak half``) or never (``--weak wrong``: an
edit that applies but changes nothing); reproduction tests are the fix's failing tests,
cut from its test files. So both strategies fix the same tasks and only the cost differs.

    python benchmarks/cascade_cost.py [--tasks 4] [--weak half,wrong]
        [--pairs gpt-4.1-mini,gpt-4.1-nano] [--strong gpt-4o] [--keep]

Each repository is cloned from ../shared/repos (``SWC_BUNDLES``) into benchmarks/.cache
with a virtual environment of its test dependencies (from PyPI, once). Needs bubblewrap.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.openai_server import FakeOpenAI, tiktoken_count  # noqa: E402

BUNDLES = Path(os.environ.get("SWC_BUNDLES", ROOT.parent / "shared" / "repos"))
CACHE = ROOT / "benchmarks" / ".cache" / "cascade"
# What each repository's tests need, installed into its own .venv (swc finds it there).
DEPENDENCIES = {
    "jinja": ["-e", ".", "pytest", "trio"],
    "requests": ["-e", ".[socks]", "pytest", "pytest-httpbin==2.1.0", "httpbin", "trustme"],
}
_TASK = re.compile(r"<task>\n(.*?)\n</task>", re.S)
_TEST_PATH = re.compile(r"complete file in one fenced code block:\n\n(\S+)\n```")


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def prepare(name: str, cache: Path) -> Path:
    """The repository cloned from its bundle, with a .venv of its test dependencies."""
    root = cache / name
    if not (root / ".git").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        run(["git", "clone", "-q", str(BUNDLES / f"{name}.bundle"), str(root)], cache)
    venv = root / ".venv"
    if not (venv / "bin" / "pytest").exists():
        run([sys.executable, "-m", "venv", str(venv)], root)
        run([str(venv / "bin" / "pip"), "install", "-q", *DEPENDENCIES[name]], root)
    return root


def mine(root: Path, count: int, env: dict[str, str]) -> list[dict[str, Any]]:
    """The repository's newest ``count`` real fixes (mining results are cached by swc)."""
    saved = root.parent / f"{root.name}-tasks.jsonl"
    args = ["eval", "--from-history", "--limit", str(count), "--save", str(saved)]
    run([sys.executable, "-m", "swcollab", *args, "--dry-run", "--json"], root, env)
    return [json.loads(line) for line in saved.read_text().splitlines() if line.strip()]


# -- the scripted answers ----------------------------------------------------------------


def search_replace(patch: str) -> list[str]:
    """The fix's hunks in Python source files as search/replace blocks."""
    blocks: list[str] = []
    for file_diff in re.split(r"(?m)^diff --git ", patch)[1:]:
        target = re.search(r"(?m)^\+\+\+ b/(\S+)", file_diff)
        if target is None or not target.group(1).endswith(".py"):
            continue
        for hunk in re.split(r"(?m)^@@[^\n]*@@[^\n]*\n", file_diff)[1:]:
            old, new = [], []
            for line in hunk.splitlines():
                if line.startswith("\\"):
                    continue
                tag, text = line[:1], line[1:]
                if tag in (" ", "-"):
                    old.append(text)
                if tag in (" ", "+"):
                    new.append(text)
            blocks.append(_block(target.group(1), old, new))
    return blocks


def _block(path: str, old: list[str], new: list[str]) -> str:
    search = "\n".join(old) + ("\n" if old else "")
    return (
        f"{path}\n```\n<<<<<<< SEARCH\n{search}=======\n"
        + "\n".join(new)
        + "\n>>>>>>> REPLACE\n```"
    )


def wrong_edit(patch: str) -> str:
    """An edit that applies to the fix's first hunk and changes nothing it tests."""
    first = search_replace(patch)[0]
    head, _, _rest = first.partition("=======\n")
    search = head.split("<<<<<<< SEARCH\n", 1)[1]
    return (
        "I think the problem is elsewhere; this keeps the logic as it is.\n\n"
        + head
        + "=======\n"
        + search
        + "# (reviewed)\n>>>>>>> REPLACE\n```"
    )


def failing_tests(root: Path, task: dict[str, Any]) -> str:
    """The fix's failing tests, cut from its test files: their imports, module-level
    helpers, and each failing test (a class keeps only its failing methods)."""
    wanted: dict[str, set[str]] = {}
    for test_id in task["FAIL_TO_PASS"]:
        file, _, name = test_id.partition("::")
        wanted.setdefault(file, set()).add(name.split("[")[0])
    parts: list[str] = []
    for file, names in wanted.items():
        source = run(["git", "show", f"{task['fix_commit']}:{file}"], root)
        parts.append(ast.unparse(_cut(ast.parse(source), names)))
    return "\n\n\n".join(parts) + "\n"


def _cut(module: ast.Module, names: set[str]) -> ast.Module:
    body: list[ast.stmt] = []
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not node.name.startswith("test") or node.name in names:
                body.append(node)
        elif isinstance(node, ast.ClassDef):
            methods = {f"{node.name}::{n.name}" for n in node.body if hasattr(n, "name")}
            if methods & names:
                node.body = [
                    n
                    for n in node.body
                    if not getattr(n, "name", "").startswith("test")
                    or f"{node.name}::{n.name}" in names
                ]
                body.append(node)
            elif not node.name.startswith("Test"):
                body.append(node)
        else:
            body.append(node)
    return ast.Module(body=body, type_ignores=[])


class Scripted:
    """The loopback server's answers: by the request's model, purpose and task."""

    def __init__(self, root: Path, tasks: list[dict[str, Any]], strong: str, weak_right: str):
        self.root = root
        self.strong = strong
        self.by_text = {t["problem_statement"].strip(): t for t in tasks}
        ids = sorted(t["instance_id"] for t in tasks)
        self.weak_right = {i for n, i in enumerate(ids) if weak_right == "half" and n % 2 == 0}

    def __call__(self, body: dict) -> str:
        text = "\n".join(str(m.get("content") or "") for m in body["messages"])
        found = _TASK.findall(text)
        task = self.by_text.get(found[-1].strip()) if found else None
        if task is None:
            return "I cannot tell which task this is."
        if "reproduce the problem described in the task" in text:
            path = _TEST_PATH.search(text)
            test = failing_tests(self.root, task)
            return f"{path.group(1) if path else 'tests/test_repro.py'}\n```python\n{test}```\n"
        strong = str(body.get("model", "")).split("/")[-1] == self.strong
        if strong or task["instance_id"] in self.weak_right:
            blocks = "\n\n".join(search_replace(task["patch"]))
            return "This fixes it.\n\n" + blocks + "\n"
        return wrong_edit(task["patch"])


# -- the eval ----------------------------------------------------------------------------


def evaluate(
    root: Path, fake: FakeOpenAI, args: argparse.Namespace, weak_right: str, env: dict
) -> list[dict[str, Any]]:
    """Strong-only, then the cascade with each weak model: one ``swc eval`` each, the
    provider's cache emptied before each (a run must not find the prompts of another
    strategy's run of the same task cached)."""
    tasks = root.parent / f"{root.name}-tasks.jsonl"
    combos = [("strong", f"weak=openai/{args.pairs.split(',')[0]},strong=openai/{args.strong}")]
    combos += [
        ("cascade", f"weak=openai/{w},strong=openai/{args.strong}") for w in args.pairs.split(",")
    ]
    rows: list[dict[str, Any]] = []
    for strategy, pair in combos:
        fake.forget_cache()
        db = root.parent / f"{root.name}-{weak_right}.db"
        command = [sys.executable, "-m", "swcollab", "eval", "--tasks", str(tasks)]
        command += ["--strategies", strategy, "--pairs", pair, "--db", str(db), "--rerun", "--json"]
        doc = json.loads(run(command, root, env))
        for failed in [r for r in doc["runs"] if r["verdict"] == "error"]:
            print(f"  {failed['task_id']} {strategy}: {failed['note'][:300]}", flush=True)
        rows += doc["table"]
    return rows


def config_env(home: Path, base_url: str, args: argparse.Namespace) -> dict[str, str]:
    (home / "swc").mkdir(parents=True, exist_ok=True)
    models = {"weak": args.pairs.split(",")[0], "strong": args.strong}
    tiers = "".join(
        f'[{t}]\nmodel = "openai/{m}"\napi_base = "{base_url}"\n' for t, m in models.items()
    )
    (home / "swc" / "config.toml").write_text(f"budget = 5.0\n{tiers}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWC_")}
    env.update(XDG_CONFIG_HOME=str(home), LITELLM_LOCAL_MODEL_COST_MAP="True")
    env["PYTHONPATH"] = str(ROOT)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", default="jinja,requests")
    parser.add_argument("--tasks", type=int, default=4, help="real fixes per repository")
    parser.add_argument("--weak", default="half,wrong", help="half, wrong or both")
    parser.add_argument("--pairs", default="gpt-4.1-mini,gpt-4.1-nano", help="weak models")
    parser.add_argument("--strong", default="gpt-4o")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the clones live")
    args = parser.parse_args()
    totals: dict[tuple[str, str, str], list[float]] = {}
    with (
        tempfile.TemporaryDirectory() as home,
        FakeOpenAI(prefix_cache=True, count_tokens=tiktoken_count) as fake,
    ):
        env = config_env(Path(home), fake.base_url, args)
        for name in args.repos.split(","):
            root = prepare(name, args.cache)
            tasks = mine(root, args.tasks, env)
            print(f"{name}: {len(tasks)} real fixes", flush=True)
            for weak_right in args.weak.split(","):
                fake.set_handler(Scripted(root, tasks, args.strong, weak_right))
                for row in evaluate(root, fake, args, weak_right, env):
                    weak = row["weak_model"].split("/")[-1] if row["strategy"] != "strong" else "-"
                    key = (weak_right, row["strategy"], weak)
                    cost, resolved, count = totals.get(key, [0.0, 0, 0])
                    totals[key] = [
                        cost + row["cost_usd"],
                        resolved + row["resolved"],
                        count + row["tasks"],
                    ]
                    print(
                        f"  weak {weak_right}: {row['strategy']:8} {weak:14} "
                        f"{row['resolved']}/{row['tasks']} fixed ${row['cost_usd']:.4f}",
                        flush=True,
                    )
    report(totals, args)


def report(totals: dict[tuple[str, str, str], list[float]], args: argparse.Namespace) -> None:
    print("\nweak      pair                 cascade     strong-only  share   fixed")
    for weak_right in args.weak.split(","):
        strong = totals.get((weak_right, "strong", "-"))
        if not strong:
            continue
        for weak in args.pairs.split(","):
            cascade = totals.get((weak_right, "cascade", weak))
            if not cascade:
                continue
            share = cascade[0] / strong[0] if strong[0] else float("nan")
            print(
                f"{weak_right:9} {weak + '/' + args.strong:20} ${cascade[0]:<10.4f} "
                f"${strong[0]:<11.4f} {share:6.1%}  {cascade[1]:.0f}/{cascade[2]:.0f} vs "
                f"{strong[1]:.0f}/{strong[2]:.0f}"
            )


if __name__ == "__main__":
    main()
