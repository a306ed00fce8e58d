"""``swc --help``, ``--version`` and shell completion import nothing slow.

Like click's own test_light_imports: run the CLI in a fresh interpreter and look at
``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Heavy libraries only the commands that do real work may import, inside their functions
# (rich too: it is only needed once something is printed through it, errors or progress).
# benchmarks/startup.py reports the same list.
FORBIDDEN = (
    "litellm",
    "tree_sitter",
    "tree_sitter_language_pack",
    "git",
    "networkx",
    "scipy",
    "numpy",
    "httpx",
    "openai",
    "pydantic",
    "jinja2",
    "llama_cpp",
    "rich",
)

# swc ends the process itself once the command is done, after the exit handlers
PROBE = """
import atexit, json, sys
import swcollab.cli
sys.argv = ["swc", *json.loads(sys.argv[1])]
atexit.register(lambda: sys.stderr.write(
    "\\nMODULES " + json.dumps(sorted({m.split(".")[0] for m in sys.modules}))))
swcollab.cli.main()
"""


def loaded_modules(args: list[str], **env: str) -> set[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("_SWC_")}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        env={**clean, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    marker = "\nMODULES "
    return set(json.loads(proc.stderr[proc.stderr.rindex(marker) + len(marker) :]))


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--help"], {}),
        (["--version"], {}),
        (["config", "--help"], {}),
        ([], {"_SWC_COMPLETE": "bash_complete", "COMP_WORDS": "swc ", "COMP_CWORD": "1"}),
        ([], {"_SWC_COMPLETE": "zsh_source"}),
    ],
    ids=["help", "version", "config-help", "complete", "completion-source"],
)
def test_light_imports(args: list[str], env: dict[str, str]) -> None:
    modules = loaded_modules(args, **env)
    assert "click" in modules and "swcollab" in modules  # the probe really ran the CLI
    assert sorted(modules & set(FORBIDDEN)) == []
