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
    every connection or datagram they get."""

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
        self._threads = [
            threading.Thread(target=self._serve, args=(s, kind), daemon=True)
            for s, kind in ((self.tcp, "tcp"), (self.unix, "unix"), (self.abstract, "abstract"))
        ]
        self._threads.append(threading.Thread(target=self._receive, daemon=True))
        for thread in self._threads:
            thread.start()

    def _serve(self, server: socket.socket, kind: str) -> None:
        server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            self.hits.append(kind)
            conn.close()

    def _receive(self) -> None:
        self.udp.settimeout(0.2)
        while not self._stop.is_set():
            try:
                self.udp.recvfrom(100)
            except OSError:
                continue
            self.hits.append("udp")

    @property
    def tcp_port(self) -> int:
        return self.tcp.getsockname()[1]

    @property
    def udp_port(self) -> int:
        return self.udp.getsockname()[1]

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        for sock in (self.tcp, self.udp, self.unix, self.abstract):
            sock.close()
        self.unix_path.unlink(missing_ok=True)
