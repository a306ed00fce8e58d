"""Helpers for the sandbox tests: git in a test repository, snapshots of its state."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import threading
import time
from pathlib import Path


def git(cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def file_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` except inside ``.git``, untracked ones included."""
    hashes = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git" or not path.is_file():
            continue
        hashes[rel.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def repo_state(root: Path) -> dict[str, object]:
    """Everything swc promises never to change in the user's repository."""
    index = root / ".git" / "index"
    refs = [
        line
        for line in git(root, "for-each-ref", "--format=%(refname) %(objectname)").splitlines()
        if not line.startswith("refs/heads/swc/")
    ]
    return {
        "status": git(
            root,
            "--no-optional-locks",
            "status",
            "--porcelain=v1",
            "--untracked-files=all",
            "--ignored",
        ),
        "ls_files": git(root, "ls-files", "-s"),
        "index_sha256": hashlib.sha256(index.read_bytes()).hexdigest(),
        "index_mtime": index.stat().st_mtime_ns,
        "head": git(root, "rev-parse", "HEAD"),
        "branch": git(root, "symbolic-ref", "HEAD"),
        "stash": git(root, "stash", "list", "--format=%H %s"),
        "refs": refs,
        "worktrees": git(root, "worktree", "list", "--porcelain"),
        "files": file_hashes(root),
    }


def marked_processes(marker: str) -> list[int]:
    """Pids of the live processes (zombies excepted) whose command line holds ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state not in ("Z", "X"):
            found.append(int(proc.name))
    return found


def wait_until_gone(marker: str, timeout: float = 30.0) -> bool:
    """Whether every process marked ``marker`` is gone (the kernel may take a moment)."""
    deadline = time.monotonic() + timeout
    while marked_processes(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def wait_until_marked(marker: str, timeout: float = 30.0) -> list[int]:
    """The live processes marked ``marker``, once there is one (or at the deadline): a
    process that has just forked takes a moment to exec with its marked command line."""
    deadline = time.monotonic() + timeout
    while not (found := marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def tree_hash(root: Path) -> dict[str, str]:
    """sha256 of every file (and the target of every symlink) under ``root``."""
    hashes = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            hashes[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            hashes[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            hashes[rel] = "dir"
    return hashes


class HostServices:
    """A TCP, a UDP, a Unix-socket and an abstract-socket server on the host, counting
    every connection or datagram they get (``hits``), but the test's own (``settle``)."""

    KINDS = ("tcp", "udp", "unix", "abstract")

    def __init__(self, unix_path: Path) -> None:
        self.hits: list[str] = []
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix_path = unix_path
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(str(unix_path))
        self.unix.listen(8)
        self.abstract_name = f"swc-hostile-{os.getpid()}-{time.monotonic_ns()}"
        self.abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.abstract.bind("\0" + self.abstract_name)
        self.abstract.listen(8)
        self._stop = threading.Event()
        # the test's own connections, told apart by the address they come from
        self._sentinels: dict[str, object] = {}
        self._settled = {kind: threading.Event() for kind in self.KINDS}
        self._threads = [
            threading.Thread(target=self._serve, args=(s, kind), daemon=True)
            for s, kind in ((self.tcp, "tcp"), (self.unix, "unix"), (self.abstract, "abstract"))
        ]
        self._threads.append(threading.Thread(target=self._receive, daemon=True))
        for thread in self._threads:
            thread.start()

    def _record(self, kind: str, peer: object) -> None:
        if kind in self._sentinels and peer == self._sentinels[kind]:
            self._settled[kind].set()
        else:
            self.hits.append(kind)

    def _serve(self, server: socket.socket, kind: str) -> None:
        server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, peer = server.accept()
            except OSError:
                continue
            self._record(kind, peer)
            conn.close()

    def _receive(self) -> None:
        self.udp.settimeout(0.2)
        while not self._stop.is_set():
            try:
                _data, peer = self.udp.recvfrom(100)
            except OSError:
                continue
            self._record("udp", peer)

    @property
    def tcp_port(self) -> int:
        return self.tcp.getsockname()[1]

    @property
    def udp_port(self) -> int:
        return self.udp.getsockname()[1]

    def wait_for_hits(self, kinds: set[str], timeout: float = 30.0) -> set[str]:
        """The kinds of hit seen, once all of ``kinds`` were (or at the deadline)."""
        deadline = time.monotonic() + timeout
        while not kinds <= set(self.hits) and time.monotonic() < deadline:
            time.sleep(0.05)
        return set(self.hits)

    def settle(self, timeout: float = 30.0) -> list[str]:
        """``hits`` once every connection made before now has been counted.

        Each server takes its connections (and datagrams) in the order they came: the
        test connects to each once more, from an address of its own, and waits until
        that one is seen, so any earlier hit is in ``hits`` by then (no sleep, no guess
        at how long the server threads may lag under load)."""
        tag = f"swc-sentinel-{os.getpid()}-{time.monotonic_ns()}"
        for seen in self._settled.values():
            seen.clear()
        clients = []
        for kind, family, address in (
            ("tcp", socket.AF_INET, ("127.0.0.1", self.tcp_port)),
            ("unix", socket.AF_UNIX, str(self.unix_path)),
            ("abstract", socket.AF_UNIX, "\0" + self.abstract_name),
        ):
            client = socket.socket(family, socket.SOCK_STREAM)
            client.bind(("127.0.0.1", 0) if family == socket.AF_INET else f"\0{tag}-{kind}")
            self._sentinels[kind] = _peer_name(client)
            client.connect(address)
            clients.append(client)
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.bind(("127.0.0.1", 0))
        self._sentinels["udp"] = sender.getsockname()
        sender.sendto(b"s", ("127.0.0.1", self.udp_port))
        clients.append(sender)
        deadline = time.monotonic() + timeout
        try:
            for kind, seen in self._settled.items():
                if not seen.wait(max(deadline - time.monotonic(), 0)):
                    raise AssertionError(f"the {kind} server never saw the test's own connection")
        finally:
            for client in clients:
                client.close()
        return list(self.hits)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        for sock in (self.tcp, self.udp, self.unix, self.abstract):
            sock.close()
        self.unix_path.unlink(missing_ok=True)


def _peer_name(client: socket.socket) -> object:
    """The address a server sees a connection from ``client`` come from."""
    name = client.getsockname()
    # abstract names come back as bytes with their leading NUL from accept()
    return name.encode() if isinstance(name, str) else name
