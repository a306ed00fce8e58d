"""A hostile test run, scripted the way an attacker who knows the machine would write it.

It runs in a real swc worktree of a repository whose ``.git/config`` holds a token (as
``actions/checkout`` leaves it), with API keys in swc's environment, a ``$HOME`` holding
credentials and an untracked ``.env`` in the checkout. It tries to read every one of
them (also through ``/proc/*/environ``), to write the checkout, ``.git``, its hooks and
``$HOME``, to leave processes behind (setsid, double fork) and to reach host services
over TCP, UDP, a Unix socket and an abstract Unix socket. Everything it reads is printed
hex-encoded, so the output masking cannot hide a leak from these assertions.
"""

from __future__ import annotations

import binascii
import os
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from swcollab.gitrepo import check_worktree_link
from swcollab.sandbox import TestCommand, Worktree, run_tests

from .helpers import (
    HostServices,
    git,
    marked_processes,
    tree_hash,
    wait_until_gone,
    wait_until_marked,
    write,
)

SECRETS = {
    "OPENAI_API_KEY": "sk-hostile-openai-0001",
    "ANTHROPIC_API_KEY": "sk-ant-hostile-0002",
    "GITHUB_TOKEN": "ghs_hostileGithubToken0003",
    "AWS_SECRET_ACCESS_KEY": "hostile-aws-secret-0004",
}
AWS_FILE_SECRET = "aws-file-secret-0005"
SSH_KEY_SECRET = "ssh-private-key-0006"
DOTENV_SECRET = "dotenv-secret-0007"
CHECKOUT_TOKEN = "checkout-extraheader-0008"
NETRC_SECRET = "netrc-password-0009"
ALL_SECRETS = [
    *SECRETS.values(),
    AWS_FILE_SECRET,
    SSH_KEY_SECRET,
    DOTENV_SECRET,
    CHECKOUT_TOKEN,
    NETRC_SECRET,
]


HOSTILE = textwrap.dedent("""
    import binascii, glob, json, os, socket, subprocess, sys, time

    def show(label, data):
        if isinstance(data, str):
            data = data.encode()
        print("READ", label, binascii.hexlify(data).decode(), flush=True)

    show("env", json.dumps(dict(os.environ)))
    for path in glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline"):
        try:
            show(path, open(path, "rb").read())
        except OSError as exc:
            print("DENIED", path, exc.errno)
    for path in READ_TARGETS + [os.path.expanduser("~/.aws/credentials")]:
        try:
            show(path, open(path, "rb").read())
        except OSError as exc:
            print("DENIED", path, exc.errno)
    budget = 2000  # files read while walking (the control run walks the real host)
    for top in ("/tmp", os.path.expanduser("~"), "/home", "/root", "/run"):
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in (".pyenv", ".rustup", ".cargo", ".cache")]
            for name in files[:50]:
                budget -= 1
                try:
                    with open(os.path.join(folder, name), "rb") as fh:
                        show(os.path.join(folder, name), fh.read(4096))
                except OSError:
                    pass
            if budget <= 0:
                break
    git_dir = subprocess.run(["git", "rev-parse", "--git-common-dir"], capture_output=True,
                             text=True).stdout.strip()
    config = subprocess.run(["git", "config", "--list", "--show-origin"], capture_output=True,
                            text=True).stdout
    show("git-config", config)
    for path in WRITE_TARGETS + [os.path.join(git_dir, "hooks", "post-checkout")]:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as fh:
                fh.write("#!/bin/sh\\necho pwned\\n")
            print("WROTE", path)
        except OSError as exc:
            print("REFUSED", path, exc.errno)
    # processes that try to outlive the run
    subprocess.Popen(["setsid", sys.executable, "-c", "import time; time.sleep(600)", MARKER])
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)",
                                       MARKER])
        os._exit(0)
    # host services
    for family, address in ((socket.AF_INET, ("127.0.0.1", TCP_PORT)),
                            (socket.AF_UNIX, UNIX_PATH), (socket.AF_UNIX, "\\0" + ABSTRACT)):
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(2)
            s.connect(address)
            print("CONNECTED", address)
        except OSError as exc:
            print("NO CONNECTION", address, exc.errno)
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", UDP_PORT))
    except OSError as exc:
        print("NO DATAGRAM", exc.errno)
    time.sleep(1)
    print("HOSTILE DONE")
""")


@pytest.fixture
def victim(make_repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """A repository, a home and an environment full of secrets; host services listening."""
    repo = make_repo({"app.py": "X = 1\n", "tests/test_app.py": "def test_x():\n    pass\n"})
    git(
        repo,
        "config",
        "http.https://github.com/.extraheader",
        f"AUTHORIZATION: basic {CHECKOUT_TOKEN}",
    )
    git(repo, "remote", "add", "origin", f"https://x-access-token:{CHECKOUT_TOKEN}@github.com/o/r")
    write(repo, {".env": f"API_KEY={DOTENV_SECRET}\n"})
    home = tmp_path / "home"
    write(
        home,
        {
            ".aws/credentials": f"[default]\naws_secret_access_key={AWS_FILE_SECRET}\n",
            ".ssh/id_ed25519": SSH_KEY_SECRET,
            ".netrc": f"password {NETRC_SECRET}\n",
            ".config/gh/hosts.yml": f"oauth_token: {SSH_KEY_SECRET}\n",
        },
    )
    monkeypatch.setenv("HOME", str(home))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    services = HostServices(repo / ".git" / "service.sock")
    try:
        yield {"repo": repo, "home": home, "services": services}
    finally:
        services.close()


def test_a_hostile_test_reads_no_secret_writes_nothing_and_leaves_nothing(victim, wt_tmp):
    repo, home, services = victim["repo"], victim["home"], victim["services"]
    marker = f"swc-hostile-proc-{os.getpid()}-{time.monotonic_ns()}"
    before = {"checkout": tree_hash(repo), "home": tree_hash(home)}
    with Worktree(repo, temp_dir=wt_tmp) as wt:
        holder = wt.path.parent
        reads = [
            str(home / ".aws/credentials"),
            str(home / ".ssh/id_ed25519"),
            str(home / ".netrc"),
            str(repo / ".env"),
            str(repo / ".git/config"),
            str(holder / "owner.json"),
        ]
        writes = [
            str(repo / "app.py"),
            str(repo / "new.py"),
            str(repo / ".git/hooks/pre-commit"),
            str(repo / ".git/config"),
            str(home / ".bashrc"),
            str(holder / "owner.json"),
            str(wt_tmp / "escaped.txt"),
            str(wt.path / ".git"),
        ]
        script = (
            f"READ_TARGETS = {reads!r}\nWRITE_TARGETS = {writes!r}\nMARKER = {marker!r}\n"
            f"TCP_PORT = {services.tcp_port}\nUDP_PORT = {services.udp_port}\n"
            f"UNIX_PATH = {str(services.unix_path)!r}\n"
            f"ABSTRACT = {services.abstract_name!r}\n" + HOSTILE
        )
        (wt.path / "hostile.py").write_text(script)
        run = run_tests(wt.path, TestCommand((sys.executable, "hostile.py"), "flag"), timeout=120)
        assert run.sandboxed and "HOSTILE DONE" in run.output, run.output[-3000:]
        marker_file = (holder / "owner.json").read_text()
        assert "pwned" not in marker_file
        # the worktree's link to its git directory is as git wrote it (swc runs git there)
        check_worktree_link(wt.path)
    # no secret was readable: neither plain nor hex-encoded anywhere in the output
    for secret in ALL_SECRETS:
        assert secret not in run.output
        assert binascii.hexlify(secret.encode()).decode() not in run.output, secret
    # the tests saw the sandbox's own process tree only, and a sanitised git config
    assert "READ /proc/1/environ" in run.output and "git-config" in run.output
    # nothing of the user's changed, nothing outside the worktree was written
    after = {"checkout": tree_hash(repo), "home": tree_hash(home)}
    assert after == before
    assert not (wt_tmp / "escaped.txt").exists()
    # no process of the run is alive after it (setsid and double fork included)
    assert wait_until_gone(marker), f"still running: {marked_processes(marker)}"
    # no connection reached a host service: TCP, UDP, Unix socket, abstract socket
    assert services.settle() == []
    assert run.output.count("NO CONNECTION") == 3


def test_the_same_hostile_script_without_the_sandbox_does_reach_them(victim, wt_tmp):
    """The control: what the assertions above catch is real (sandbox off)."""
    from swcollab.sandbox import UNSANDBOXED

    repo, home, services = victim["repo"], victim["home"], victim["services"]
    marker = f"swc-hostile-control-{os.getpid()}-{time.monotonic_ns()}"
    with Worktree(repo, temp_dir=wt_tmp) as wt:
        script = (
            f"READ_TARGETS = {[str(home / '.aws/credentials')]!r}\n"
            f"WRITE_TARGETS = {[str(wt_tmp / 'escaped.txt')]!r}\nMARKER = {marker!r}\n"
            f"TCP_PORT = {services.tcp_port}\nUDP_PORT = {services.udp_port}\n"
            f"UNIX_PATH = {str(services.unix_path)!r}\n"
            f"ABSTRACT = {services.abstract_name!r}\n" + HOSTILE
        )
        (wt.path / "hostile.py").write_text(script)
        run = run_tests(
            wt.path,
            TestCommand((sys.executable, "hostile.py"), "flag"),
            timeout=120,
            isolation=UNSANDBOXED,
        )
    try:
        assert binascii.hexlify(AWS_FILE_SECRET.encode()).decode() in run.output
        assert (wt_tmp / "escaped.txt").exists()
        assert services.wait_for_hits({"tcp", "unix", "abstract", "udp"}) >= {
            "tcp",
            "unix",
            "abstract",
            "udp",
        }
        assert wait_until_marked(marker)  # the double fork escaped the process group
    finally:
        for pid in marked_processes(marker):
            os.kill(pid, 9)
        assert wait_until_gone(marker)
