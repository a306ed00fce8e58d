"""Every input has a clear error: bad config bytes, numbers out of range, fuzzed text.

A traceback is a bug; every exit code is one of the documented ones.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.conftest import git
from swcollab.cli import cli
from tests.fakes.github_server import FakeGitHub, fake_github  # noqa: F401  (fixture)

DOCUMENTED = {0, 1, 2, 3, 4, 130}


def swc(project: Path, *args: str, input: bytes | None = None, env: dict | None = None):
    result = CliRunner().invoke(cli, ["--repo", str(project), *args], input=input, env=env)
    output = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{output}"
    )
    assert "Traceback" not in output, output
    return result.exit_code, result.stdout, result.stderr


def test_config_that_is_not_utf8_names_the_file(project, models):
    models()
    config = project / ".swc.toml"
    config.write_bytes(b'strategy = "cascade"\n# caf\xe9 au lait\nbudget = 0.5\n')
    for command in (["fix", "--prompt", "x"], ["config", "show"]):
        code, _out, err = swc(project, *command)
        assert code == 2, err
        assert str(config) in err and "not UTF-8" in err
        assert err.count("\n") == 1 and err.startswith("error: ")  # one line, no traceback


@pytest.mark.parametrize(
    ("where", "value", "key"),
    [
        ("file", "budget = inf", "budget"),
        ("file", "k", "weak.candidates"),  # [weak] candidates = 1e9 (as an integer)
        ("file", "map_tokens = 1000000000000000000000000", "map_tokens"),
        ("file", "map_tokens = 1e24", "map_tokens"),
        ("file", "test_timeout = nan", "test_timeout"),
        ("env", ("SWC_BUDGET", "inf"), "budget"),
        ("env", ("SWC_REQUEST_TIMEOUT", "1e400"), "request_timeout"),
        ("env", ("SWC_WEAK_MAX_TOKENS", "99999999999"), "weak.max_tokens"),
        ("env", ("SWC_STRONG_MODEL", "gpt\udcff"), "strong.model"),
        ("flag", ("--test-timeout", "inf"), "test_timeout"),
        ("flag", ("--budget", "1e9"), "budget"),
        ("flag", ("--map-tokens", "1000000000000000000000000"), "map_tokens"),
    ],
)
def test_every_numeric_setting_is_bounded(project, models, where, value, key):
    models()  # were a bound missing, the run would reach the loopback models, not a real one
    args, env = ["fix", "--prompt", "add is wrong"], None
    if where == "file":
        text = "[weak]\ncandidates = 1000000000\n" if value == "k" else value + "\n"
        (project / ".swc.toml").write_text(text)
    elif where == "env":
        env = {value[0]: value[1]}
    else:
        args += list(value)
    code, _out, err = swc(project, *args, env=env)
    assert code == 2, err
    assert f"key '{key}'" in err


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "--budget", "inf"],
        ["eval", "--budget", "nan"],
        ["eval", "--task-budget", "inf"],
        ["brief", "--budget", "inf"],
        ["map", "--tokens", "1000000000000"],
    ],
)
def test_other_commands_refuse_unbounded_numbers(project, models, args):
    models()
    code, _out, err = swc(project, *args, "--json")
    assert code == 2, err


# -- fuzz ---------------------------------------------------------------------------------

FUZZ_SEEDS = range(4)


def random_bytes(rng: random.Random, size: int) -> bytes:
    """Bytes that look a little like text: printable runs, NULs, controls, broken UTF-8."""
    pieces = [
        b"add(2, 3) returns -1 instead of 5",
        b"\x00",
        b"\xff\xfe",
        b"\xc3\x28",
        b"\x1b[2J",
        b"\r\n",
        b"\xe2\x80\xae",
        b"[weak]",
        b"budget = ",
        b'"',
        b"=",
        bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))),
    ]
    out = b""
    while len(out) < size:
        out += rng.choice(pieces)
    return out[:size]


def _fuzz_models(models) -> None:
    models()


@pytest.mark.parametrize("seed", FUZZ_SEEDS)
def test_fuzz_prompt_file_stdin_and_argument(project, models, tmp_path, seed):
    _fuzz_models(models)
    rng = random.Random(seed)
    data = random_bytes(rng, rng.randint(0, 3000))
    prompt_file = tmp_path / "prompt.md"
    prompt_file.write_bytes(data)
    code, out, _ = swc(project, "fix", "--json", "--prompt-file", str(prompt_file))
    assert code in DOCUMENTED
    code, out, _ = swc(project, "fix", "--json", "--prompt-file", "-", input=data)
    assert code in DOCUMENTED
    if code in (0, 1):
        json.loads(out)
    # argv cannot hold NUL; other bytes arrive as surrogates (PEP 383), as a shell gives them
    argument = os.fsdecode(data.replace(b"\x00", b"")) or "x"
    code, out, _ = swc(project, "fix", "--json", "--prompt", argument)
    assert code in DOCUMENTED


@pytest.mark.parametrize("seed", range(12))
def test_fuzz_config_file(project, models, seed):
    _fuzz_models(models)
    rng = random.Random(seed)
    (project / ".swc.toml").write_bytes(random_bytes(rng, rng.randint(0, 400)))
    code, _out, err = swc(project, "config", "show", "--json")
    assert code in (0, 2), err
    if code == 2:
        assert ".swc.toml" in err


@pytest.mark.parametrize("seed", FUZZ_SEEDS)
def test_fuzz_issue_text_through_the_fake_github(
    project,
    models,
    fake_github,  # noqa: F811
    seed,
):
    _fuzz_models(models)
    rng = random.Random(100 + seed)
    # JSON carries what a hostile issue can hold: NUL, controls, lone surrogates
    title = os.fsdecode(random_bytes(rng, rng.randint(0, 120)))
    body = os.fsdecode(random_bytes(rng, rng.randint(0, 4000)))
    fake_github.add_issue(
        "octo",
        "calc",
        7,
        title=title,
        body=body,
        comments=[("someone", os.fsdecode(random_bytes(rng, 300)))],
        labels=(os.fsdecode(random_bytes(rng, 20)),),
    )
    git(project, "remote", "add", "origin", "https://github.com/octo/calc.git")
    code, out, err = swc(project, "fix", "--json", "--issue", "7")
    assert code in DOCUMENTED, err
    if code in (0, 1):
        doc = json.loads(out)
        assert "\x00" not in doc["task"]["title"]
        if doc["branch"]:
            log = subprocess.run(
                ["git", "log", "-1", "--format=%B", doc["branch"]], cwd=project, capture_output=True
            ).stdout
            assert b"\x00" not in log
            log.decode("utf-8")  # valid UTF-8


def test_a_test_name_that_is_not_utf8_is_a_usage_error(project, models):
    models()
    code, _out, err = swc(
        project,
        "fix",
        "--json",
        "--prompt",
        "add is wrong",
        "--tests",
        os.fsdecode(b"tests/t\xff.py"),
    )
    assert code == 2
    assert "--tests" in err and "not UTF-8" in err
