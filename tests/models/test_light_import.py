"""Importing the models layer (as the CLI does) must not import litellm or llama.cpp."""

from __future__ import annotations

import subprocess
import sys


def test_models_layer_imports_nothing_heavy():
    code = (
        "import sys\n"
        "import swcollab.cli, swcollab.models, swcollab.cli.runs_cmd\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'litellm', 'openai', 'httpx', 'llama_cpp', 'tiktoken'})\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
