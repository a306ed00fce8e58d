"""Run in a subprocess by test_local.py: a ModelClient whose local server is a stand-in.

The stand-in is the loopback fake server started as ``python openai_server.py``, so the
start / wait / route / stop machinery of local models runs without llama.cpp.
Usage: standin_client.py GGUF_PATH MODE, MODE being "sigint" (wait to be interrupted)
or "exit" (leave without closing the client: the atexit hook must stop the server). It
ends through ``run_to_exit``, as ``swc`` does.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from swcollab.config import Settings, TierSettings
from swcollab.interrupts import run_to_exit
from swcollab.models import Budget, ModelClient, local, specs

FAKE_SERVER = Path(__file__).resolve().parents[1] / "fakes" / "openai_server.py"


def standin_command(gguf: Path, port: int, alias: str) -> list[str]:
    return [sys.executable, str(FAKE_SERVER), "--port", str(port), "--reply", f"hi from {alias}"]


def main() -> None:
    gguf, mode = sys.argv[1], sys.argv[2]
    specs.SERVER_MODULES = ()  # the stand-in needs no llama_cpp
    local.llama_server_command = standin_command
    model = f"local/{gguf}"
    settings = Settings(
        weak=TierSettings("weak", model=model), strong=TierSettings("strong", model=model)
    )
    client = ModelClient(settings, budget=Budget(0.0))
    reply = client.complete("weak", [{"role": "user", "content": "hello"}], purpose="test")
    client.complete("strong", [{"role": "user", "content": "hello"}], purpose="test")
    print(f"reply {reply.text!r} cost {reply.cost_usd}", flush=True)
    print("pids " + " ".join(map(str, client.local_server_pids())), flush=True)
    if mode == "exit":
        sys.exit(0)
    with client:
        time.sleep(600)


if __name__ == "__main__":
    run_to_exit(main)  # ends as the swc command does
