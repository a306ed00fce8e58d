"""Ctrl-C at random moments of real ``swc fix`` runs on a real repository's history.

A clone of itsdangerous (``/work/shared/repos/itsdangerous.bundle`` or ``--bundle``) gets
a bug in ``bytes_to_int``; a loopback model writes a reproduction test and the fix. Each
trial starts ``swc fix`` and sends SIGINT after a random delay within one run's length.
Every outcome must be one of: interrupted before the branch (exit 130, no branch, no
worktree, no holder directory), interrupted after it (exit 130 naming the branch, which
holds the fix), or finished (exit 0 with the branch). Anything else is a violation.

    python benchmarks/interrupts.py [--trials 30] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fakes.openai_server import FakeOpenAI, request_text  # noqa: E402

BUG = (
    '    return _bytes_to_int(bytestr.rjust(8, b"\\x00"))[0]',
    '    return _bytes_to_int(bytestr.ljust(8, b"\\x00"))[0]',
)
PROMPT = "bytes_to_int(int_to_bytes(300)) is not 300: timestamps decode wrong"
TEST = """tests/test_swc_int_bytes.py
```python
from itsdangerous.encoding import bytes_to_int, int_to_bytes


def test_int_round_trip():
    for n in (1, 255, 300, 2**40 + 7):
        assert bytes_to_int(int_to_bytes(n)) == n
```
"""
PATCH = f"""src/itsdangerous/encoding.py
```python
<<<<<<< SEARCH
{BUG[1]}
=======
{BUG[0]}
>>>>>>> REPLACE
```
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def make_repo(bundle: Path, root: Path) -> None:
    subprocess.run(["git", "clone", "-q", str(bundle), str(root)], check=True)
    source = root / "src" / "itsdangerous" / "encoding.py"
    source.write_text(source.read_text().replace(BUG[0], BUG[1]))
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "break padding")


def configure(home: Path, base_url: str) -> None:
    tiers = "".join(
        f'''
[{tier}]
model = "openai/{tier}-model"
api_base = "{base_url}"
input_cost_per_mtok = 1
output_cost_per_mtok = 2
candidates = 1
tests = 1
'''
        for tier in ("weak", "strong")
    )
    (home / "swc").mkdir(parents=True)
    (home / "swc" / "config.toml").write_text(
        f'test_cmd = "env PYTHONPATH=src {sys.executable} -m pytest -q -p no:cacheprovider"\n'
        + tiers
    )


def answer(body: dict) -> str:
    return TEST if "reproduce the problem" in request_text(body) else PATCH


def start(root: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "swcollab", "--repo", str(root), "fix", "--prompt", PROMPT],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def outcome(root: Path, temp: Path, code: int, out: str, err: str) -> str:
    made = [
        b for b in git(root, "branch", "--format=%(refname:short)").split() if b.startswith("swc")
    ]
    trees = git(root, "worktree", "list", "--porcelain").count("worktree ")
    holders = [p for p in temp.iterdir() if p.name.startswith("swc-")]
    if trees != 1 or holders:
        return "VIOLATION: worktree or holder left"
    for branch in made:
        if BUG[0] not in git(root, "show", f"{branch}:src/itsdangerous/encoding.py"):
            return "VIOLATION: branch without the fix"
        git(root, "branch", "-qD", branch)
    if code == 0 and len(made) == 1:
        return "finished, branch made"
    if code == -signal.SIGINT and len(made) == 1 and f"branch: {made[0]}" in out:
        return "finished and reported the branch; the signal came while Python exited"
    if code == 130 and not made and "no branch was made" in err:
        return "interrupted before the branch: nothing left"
    if code in (130, -signal.SIGINT) and not made and err.strip().endswith("error: interrupted"):
        return "interrupted before the run started: nothing left"
    if code == 130 and len(made) == 1 and made[0] in err:
        return "interrupted after the branch: branch reported"
    return f"VIOLATION: exit {code}, branches {made}, {err.strip()[-200:]!r}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--bundle", type=Path, default=Path("/work/shared/repos/itsdangerous.bundle")
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        fake.set_handler(answer)
        work = Path(tmp)
        root, temp, home = work / "itsdangerous", work / "tmp", work / "xdg"
        temp.mkdir()
        make_repo(args.bundle, root)
        configure(home, fake.base_url)
        env = {
            **os.environ,
            "XDG_CONFIG_HOME": str(home),
            "TMPDIR": str(temp),
            "PYTHONPATH": str(ROOT),
        }
        for run in ("first", "second"):  # the second, with warm caches, sets the window
            started = time.monotonic()
            proc = start(root, env)
            out, err = proc.communicate(timeout=300)
            length = time.monotonic() - started
            print(
                f"{run} uninterrupted run: {length:.1f} s, "
                f"{outcome(root, temp, proc.returncode, out, err)}"
            )
        counts: dict[str, int] = {}
        for _ in range(args.trials):
            delay = rng.uniform(0.0, length * 1.05)
            proc = start(root, env)
            time.sleep(delay)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=300)
            result = outcome(root, temp, proc.returncode, out, err)
            counts[result] = counts.get(result, 0) + 1
        for result, count in sorted(counts.items()):
            print(f"{count:>4}  {result}")


if __name__ == "__main__":
    main()
