"""Regenerate the shell completion scripts from the current CLI.

    python completions/generate.py          # rewrite swc.bash, swc.zsh, swc.fish
    python completions/generate.py --check  # exit 1 if any file is stale

The scripts come from click's own completion support: what ``_SWC_COMPLETE=<shell>_source
swc`` prints. They are produced by running the CLI in a subprocess (``python -m
swcollab``), exactly as a user's shell would, rather than by importing click internals.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

SHELLS = ("bash", "zsh", "fish")
HERE = Path(__file__).resolve().parent
COMPLETE_VAR = "_SWC_COMPLETE"


def generate(shell: str) -> str:
    """The completion script click emits for ``shell``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("_SWC_")}
    env[COMPLETE_VAR] = f"{shell}_source"
    proc = subprocess.run(
        [sys.executable, "-m", "swcollab"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SystemExit(f"{shell}: swc printed no completion script: {proc.stderr.strip()}")
    return proc.stdout


def path_for(shell: str, directory: Path = HERE) -> Path:
    return directory / f"swc.{shell}"


def stale(directory: Path = HERE) -> list[str]:
    """Shells whose file is missing or differs from what the CLI generates now."""
    out = []
    for shell in SHELLS:
        path = path_for(shell, directory)
        if not path.is_file() or path.read_text() != generate(shell):
            out.append(shell)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument("--dir", type=Path, default=HERE, help="where the files live")
    args = parser.parse_args(argv)
    if args.check:
        names = stale(args.dir)
        for shell in names:
            print(f"{path_for(shell, args.dir)} is stale: run python completions/generate.py")
        return 1 if names else 0
    for shell in SHELLS:
        path_for(shell, args.dir).write_text(generate(shell))
        print(f"wrote {path_for(shell, args.dir)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
