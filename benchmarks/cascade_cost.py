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
        [--pairs gpt-4.1-mini,gpt-4.1-nano] [--strong gpt-4o] [--baseline OTHER_CHECKOUT]

Costs are what the provider bills (the loopback server's usage, cached tokens at the cache
price, litellm's prices); the last column checks that swc's ledger says the same
("= billed"). ``--baseline`` measures another checkout of swc first, in the same run.

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
from dataclasses import dataclass
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
    if done.returncode not in (0, 1) or (done.returncode and not done.stdout.strip()):
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
    """The repository's newest ``count`` real fixes whose test changes only add tests
    (mining results are cached by swc). A fix that also rewrites an existing test changes
    behaviour the base's tests guard: a scripted answer would have to change that test
    too, which the weak tier may not, so the two strategies would not fix the same tasks."""
    mined = root.parent / f"{root.name}-mined.jsonl"
    args = ["eval", "--from-history", "--limit", str(count * 3), "--save", str(mined)]
    run([sys.executable, "-m", "swcollab", *args, "--dry-run", "--json"], root, env)
    tasks = [json.loads(line) for line in mined.read_text().splitlines() if line.strip()]
    kept = [t for t in tasks if not _rewrites_tests(t["test_patch"])][:count]
    saved = root.parent / f"{root.name}-tasks.jsonl"
    saved.write_text("".join(json.dumps(t) + "\n" for t in kept))
    return kept


def _rewrites_tests(test_patch: str) -> bool:
    return any(
        line.startswith("-") and not line.startswith("---") for line in test_patch.splitlines()
    )


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


@dataclass
class Tally:
    """One strategy and model pair over the tasks: what swc's ledger says it cost, what the
    provider billed (the loopback server's usage at litellm's prices), fixes."""

    ledger: float = 0.0
    billed: float = 0.0
    fixed: int = 0
    tasks: int = 0


def bill(usages: list[tuple[str, int, int, int]]) -> float:
    """What OpenAI bills for these answers: cached prompt tokens at the cache price."""
    import litellm

    total = 0.0
    for model, prompt, cached, completion in usages:
        info = litellm.model_cost[model]
        read = info.get("cache_read_input_token_cost") or info["input_cost_per_token"]
        total += (prompt - cached) * info["input_cost_per_token"] + cached * read
        total += completion * info["output_cost_per_token"]
    return total


def evaluate(
    root: Path, fake: FakeOpenAI, args: argparse.Namespace, weak_right: str, swc: Swc
) -> dict[tuple[str, str], Tally]:
    """Strong-only, then the cascade with each weak model: one ``swc eval`` each, the
    provider's cache emptied before each (a run must not find the prompts of another
    strategy's run of the same task cached)."""
    tasks = root.parent / f"{root.name}-tasks.jsonl"
    pairs = [f"weak=openai/{w},strong=openai/{args.strong}" for w in args.pairs.split(",")]
    combos = [("strong", "-", pairs[0])]
    combos += [("cascade", w, pair) for w, pair in zip(args.pairs.split(","), pairs, strict=True)]
    tallies: dict[tuple[str, str], Tally] = {}
    for strategy, weak, pair in combos:
        fake.forget_cache()
        first = len(fake.usages)
        db = root.parent / f"{root.name}-{weak_right}-{swc.label}.db"
        command = [*swc.command, "eval", "--tasks", str(tasks), "--strategies", strategy]
        command += ["--pairs", pair, "--db", str(db), "--rerun", "--json"]
        doc = json.loads(run(command, root, swc.env))
        for failed in [r for r in doc["runs"] if r["verdict"] == "error"]:
            print(f"  {failed['task_id']} {strategy}: {failed['note'][:300]}", flush=True)
        [row] = doc["table"]
        tally = Tally(row["cost_usd"], bill(fake.usages[first:]), row["resolved"], row["tasks"])
        tallies[(strategy, weak)] = tally
        print(
            f"  {swc.label}, weak {weak_right}: {strategy:8} {weak:14} {tally.fixed}/"
            f"{tally.tasks} fixed, billed ${tally.billed:.4f} (ledger ${tally.ledger:.4f})",
            flush=True,
        )
    return tallies


@dataclass
class Swc:
    """A version of swc to measure: this checkout, or another (``--baseline``)."""

    label: str
    command: list[str]
    env: dict[str, str]


def config_env(home: Path, base_url: str, args: argparse.Namespace) -> dict[str, str]:
    (home / "swc").mkdir(parents=True, exist_ok=True)
    models = {"weak": args.pairs.split(",")[0], "strong": args.strong}
    tiers = "".join(
        f'[{t}]\nmodel = "openai/{m}"\napi_base = "{base_url}"\n' for t, m in models.items()
    )
    (home / "swc" / "config.toml").write_text(f"budget = 5.0\n{tiers}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWC_")}
    env.update(XDG_CONFIG_HOME=str(home), LITELLM_LOCAL_MODEL_COST_MAP="True")
    env.pop("PYTHONPATH", None)
    return env


def versions(args: argparse.Namespace, env: dict[str, str]) -> list[Swc]:
    # this checkout's swc, whatever the environment has installed
    found = [Swc("this", [sys.executable, "-m", "swcollab"], {**env, "PYTHONPATH": str(ROOT)})]
    if args.baseline:
        other = {**env, "PYTHONPATH": str(args.baseline.resolve())}
        found.insert(0, Swc("baseline", [sys.executable, "-m", "swcollab"], other))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", default="jinja,requests")
    parser.add_argument("--tasks", type=int, default=4, help="real fixes per repository")
    parser.add_argument("--weak", default="half,wrong", help="half, wrong or both")
    parser.add_argument("--pairs", default="gpt-4.1-mini,gpt-4.1-nano", help="weak models")
    parser.add_argument("--strong", default="gpt-4o")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the clones live")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout of swc, measured first, for comparison"
    )
    args = parser.parse_args()
    totals: dict[tuple[str, str, str, str], Tally] = {}
    with (
        tempfile.TemporaryDirectory() as home,
        FakeOpenAI(prefix_cache=True, count_tokens=tiktoken_count) as fake,
    ):
        env = config_env(Path(home), fake.base_url, args)
        for name in args.repos.split(","):
            root = prepare(name, args.cache)
            tasks = mine(root, args.tasks, env)
            print(f"{name}: {len(tasks)} real fixes", flush=True)
            for swc in versions(args, env):
                for weak_right in args.weak.split(","):
                    fake.set_handler(Scripted(root, tasks, args.strong, weak_right))
                    found = evaluate(root, fake, args, weak_right, swc)
                    for (strategy, weak), tally in found.items():
                        total = totals.setdefault((swc.label, weak_right, strategy, weak), Tally())
                        total.ledger += tally.ledger
                        total.billed += tally.billed
                        total.fixed += tally.fixed
                        total.tasks += tally.tasks
    report(totals, args)


def report(totals: dict[tuple[str, str, str, str], Tally], args: argparse.Namespace) -> None:
    print(
        "\nswc       weak   pair                  cascade    strong-only  share   fixed    ledger"
    )
    for label in ("baseline", "this"):
        for weak_right in args.weak.split(","):
            strong = totals.get((label, weak_right, "strong", "-"))
            for weak in args.pairs.split(","):
                cascade = totals.get((label, weak_right, "cascade", weak))
                if not cascade or not strong:
                    continue
                share = cascade.billed / strong.billed if strong.billed else float("nan")
                agrees = all(
                    abs(t.ledger - t.billed) <= 1e-6 * max(1, t.tasks) for t in (cascade, strong)
                )
                print(
                    f"{label:9} {weak_right:6} {weak + '/' + args.strong:21} "
                    f"${cascade.billed:<9.4f} ${strong.billed:<11.4f} {share:6.1%}  "
                    f"{cascade.fixed}/{cascade.tasks} vs {strong.fixed}/{strong.tasks}  "
                    + ("= billed" if agrees else f"${cascade.ledger:.4f} / ${strong.ledger:.4f}")
                )


if __name__ == "__main__":
    main()
