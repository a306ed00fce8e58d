"""The project's own test environment on real histories (issue #15), with scripted models.

    python benchmarks/testenv.py [--repos /work/shared/repos]

Needs the bundles of jinja and requests (``git clone X.bundle``). Each trial runs the
real ``swc fix --json`` in a clone, against a loopback model server that answers like a
model would (the upstream patch, a reproduction test), and prints what a user sees:

1. jinja before it needed trio (1655128~1), with a ``.venv/`` that has pytest but not
   markupsafe: exit 3 naming ``markupsafe``, and how many model calls were made (0);
2. the same commit with a ``.venv/`` that has the dependencies and no ``test_cmd``: fixed;
3. requests fd628095 ("Preserve leading slashes in request path_url"), whose upstream fix
   rewrites ``test_request_url_trims_leading_path_separators``: the weak tier's code-only
   patch breaks that test; the strong tier answers with the upstream patch, declares the
   test change, and the fix is accepted with the change listed;
4. the cost of the parts: finding the environment, and the collection probe on jinja.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.openai_server import FakeOpenAI, request_text  # noqa: E402
from tests.fakes.venv import make_venv, site_packages  # noqa: E402

JINJA_REV = "1655128~1"
REQUESTS_FIX = "fd628095"
REQUESTS_TASK = (
    "HTTPAdapter.request_url trims leading slashes from the path: a request to "
    "http://127.0.0.1:10000//v:h is sent to /v:h instead of //v:h. The path must be kept "
    "as given, leading slashes included."
)
REQUESTS_REPRO = """```python
import requests
import requests.adapters


def test_request_url_keeps_double_leading_slash():
    adapter = requests.adapters.HTTPAdapter()
    prepared = requests.Request(method="GET", url="http://127.0.0.1:10000//v:h").prepare()
    assert adapter.request_url(prepared, {}) == "//v:h"
```
"""
REQUESTS_CODE_ONLY = """src/requests/adapters.py
```python
<<<<<<< SEARCH
        url = request.path_url
        if url.startswith("//"):  # Don't confuse urllib3
            url = f"/{url.lstrip('/')}"

=======
        url = request.path_url

>>>>>>> REPLACE
```
"""
JINJA_REPRO = """```python
from jinja2.utils import LRUCache


def test_lru_cache_repr_names_it():
    assert repr(LRUCache(2)).startswith("<SwcLRU")
```
"""
JINJA_PATCH = """src/jinja2/utils.py
```python
<<<<<<< SEARCH
        return f"<{type(self).__name__} {self._mapping!r}>"
=======
        return f"<SwcLRU {self._mapping!r}>"
>>>>>>> REPLACE
```
"""


def clone(bundles: Path, name: str, rev: str, into: Path) -> Path:
    dest = into / name
    subprocess.run(["git", "clone", "-q", str(bundles / f"{name}.bundle"), str(dest)], check=True)
    subprocess.run(["git", "checkout", "-q", "-b", "trial", rev], cwd=dest, check=True)
    (dest / ".git" / "info" / "exclude").write_text(".venv/\n")
    return dest


def pytest_only(into: Path) -> Path:
    """This interpreter's pytest (and what pytest imports), nothing else."""
    target = into / "pytest-only"
    target.mkdir()
    ours = Path(next(p for p in sys.path if p.endswith("site-packages")))
    for name in ("pytest", "_pytest", "pluggy", "iniconfig", "packaging", "py.py", "pygments"):
        if (ours / name).exists():
            (target / name).symlink_to(ours / name)
    return target


def swc_fix(repo: Path, answer, prompt: str, home: Path) -> tuple[int, dict, int, float, str]:
    """``swc fix --json`` with both tiers on a loopback server answering with ``answer``."""
    fake = FakeOpenAI().start()
    fake.set_handler(answer)
    config = "budget = 1.0\ntest_timeout = 300\n"
    for tier, prices in (("weak", (1.0, 2.0)), ("strong", (10.0, 40.0))):
        config += (
            f'\n[{tier}]\nmodel = "openai/{tier}-model"\napi_base = "{fake.base_url}"\n'
            f'api_key_env = "SWC_FAKE_KEY"\ninput_cost_per_mtok = {prices[0]}\n'
            f"output_cost_per_mtok = {prices[1]}\ncandidates = 1\ntests = 1\n"
        )
    (home / "swc").mkdir(parents=True, exist_ok=True)
    (home / "swc" / "config.toml").write_text(config)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    env.update(
        {
            "XDG_CONFIG_HOME": str(home),
            "SWC_FAKE_KEY": "sk-bench",
            "PYTHONPATH": str(ROOT),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
    )
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "swcollab",
                "--repo",
                str(repo),
                "fix",
                "--prompt",
                prompt,
                "--json",
            ],
            capture_output=True,
            text=True,
            env=env,
        )
    finally:
        fake.stop()
    took = time.monotonic() - started
    doc = json.loads(proc.stdout) if proc.stdout.strip() else {}
    error = next((line for line in proc.stderr.splitlines() if line.startswith("error:")), "")
    return proc.returncode, doc, len(fake.requests), took, error


def is_tests_request(body: dict) -> bool:
    return "reproduce the problem" in request_text(body)


def upstream_patch(repo: Path, sha: str, reason: str) -> str:
    """The upstream commit's diff, a TEST CHANGE line before each test file's part."""
    diff = subprocess.run(
        ["git", "show", "--format=", sha], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
    parts = []
    for part in diff.split("diff --git ")[1:]:
        if " b/tests/" in part.splitlines()[0]:
            parts.append(f"TEST CHANGE: {reason}\n")
        parts.append("diff --git " + part)
    return "```diff\n" + "".join(parts) + "```\n"


def trial_missing_dependency(bundles: Path, work: Path) -> Path:
    repo = clone(bundles, "jinja", JINJA_REV, work)
    make_venv(repo / ".venv", with_pytest=False)
    (site_packages(repo / ".venv") / "pytest_only.pth").write_text(f"{pytest_only(work)}\n")
    code, _doc, calls, took, error = swc_fix(
        repo, lambda body: "unused", "LRUCache's repr should start with <SwcLRU", work / "xdg1"
    )
    print(
        f"1. jinja {JINJA_REV}, .venv without markupsafe: exit {code} in {took:.1f} s, "
        f"{calls} model call(s)\n   {error[:300]}"
    )
    return repo


def trial_venv_fix(repo: Path, work: Path) -> None:
    shutil.rmtree(repo / ".venv")
    make_venv(repo / ".venv")  # sees this interpreter's packages: pytest, markupsafe

    def answer(body: dict) -> str:
        return JINJA_REPRO if is_tests_request(body) else JINJA_PATCH

    code, doc, calls, took, _error = swc_fix(
        repo, answer, "LRUCache's repr should start with <SwcLRU", work / "xdg2"
    )
    interpreter = (doc.get("tests") or {}).get("interpreter") or {}
    print(
        f"2. jinja {JINJA_REV}, .venv with the dependencies, no test_cmd: exit {code} "
        f"({doc.get('verdict')}) in {took:.1f} s, {calls} model call(s); interpreter "
        f"{interpreter.get('python')} ({interpreter.get('reason')})"
    )


def trial_test_change(bundles: Path, work: Path) -> None:
    repo = clone(bundles, "requests", f"{REQUESTS_FIX}~1", work)
    make_venv(repo / ".venv")
    strong = upstream_patch(
        repo,
        REQUESTS_FIX,
        "leading slashes of the path are now kept, "
        "as the task asks; the old test asserted they were trimmed",
    )

    def answer(body: dict) -> str:
        if is_tests_request(body):
            return REQUESTS_REPRO
        return strong if "strong" in body["model"] else REQUESTS_CODE_ONLY

    code, doc, calls, took, _error = swc_fix(repo, answer, REQUESTS_TASK, work / "xdg3")
    attempts = "; ".join(
        f"{a['tier']}: {a['passed']}/{a['required']} {'accepted' if a['accepted'] else 'rejected'}"
        for a in doc.get("attempts", [])
    )
    print(
        f"3. requests {REQUESTS_FIX}: exit {code} ({doc.get('verdict')}) in {took:.1f} s, "
        f"{calls} model call(s); {attempts}"
    )
    for change in doc.get("test_changes", []):
        print(
            f"   changed: {change['test']} ({change['kind']}"
            + (f" from {change['renamed_from']}" if change["renamed_from"] else "")
            + ")"
        )
        print(f"     old: {change['old']}\n     new: {change['new']}")


def timings(repo: Path) -> None:
    from swcollab.ecosystems.python import PYTHON, collected_count
    from swcollab.ecosystems.python_env import find_python_env
    from swcollab.sandbox import TestCommand, Worktree, run_tests

    started = time.perf_counter()
    for _ in range(20):
        python_env = find_python_env(repo, {})
    finding = (time.perf_counter() - started) / 20
    command = TestCommand((python_env.python, "-m", "pytest"), "bench", python_env)
    with Worktree(repo, "HEAD") as tree:
        probe = PYTHON.probe(command) or command
        started = time.perf_counter()
        run = run_tests(tree.path, probe, timeout=300)
        took = time.perf_counter() - started
    print(
        f"4. finding the environment: {finding * 1000:.1f} ms; the collection probe on "
        f"jinja ({collected_count(run.output)} tests): {took:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=Path, default=Path("/work/shared/repos"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="testenv-bench-") as tmp:
        work = Path(tmp)
        jinja = trial_missing_dependency(args.repos, work)
        trial_venv_fix(jinja, work)
        trial_test_change(args.repos, work)
        timings(jinja)


if __name__ == "__main__":
    main()
