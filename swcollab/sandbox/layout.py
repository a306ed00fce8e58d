"""What a sandboxed test run may see and write, worked out once per run.

The rule: the host is visible read-only, except what holds the user's data, which is
hidden behind empty directories: every home (``/home``, ``/root``, ``$HOME``), the temp
directories, ``/run`` (sockets of the session, docker, ssh-agent), the user's checkout
(untracked ``.env`` files and the like) and swc's own state in ``.git/swc``. Only the
worktree and swc's private output directory are writable.

What tests need from those hidden places is bound back read-only, and nothing else:

- toolchains that live under ``$HOME`` by convention, as each ecosystem names them
  (``swcollab/ecosystems``: pyenv, rustup, cargo's binaries and registry, Go's module
  cache, nvm, Maven's repository, uv's Pythons, conda, user site-packages...), the
  virtualenvs and prefixes of the Python running swc and of the test command, and the
  ``PATH``/``PYTHONPATH`` entries in hidden places. A directory that holds a known
  credential file (``.ssh``, ``.aws``, ``.netrc``, ``.config/gh``, ``.docker``, cargo's
  ``credentials.toml``...) is never bound back, nor ``$HOME`` itself;
- the repository's git directory, so git works in the worktree, with a sanitised copy of
  its ``config`` in place of the real one (``gitconfig.py``).

Root-readable secrets of the host (``/etc/shadow``, ssh host keys) and every listening
Unix socket still visible are covered too: a Unix socket is reachable from any network
namespace, so hiding it is the only way to keep a host service out of reach.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..gitrepo import common_dir_of

# Directories that hold the user's (and other users') data: hidden.
HIDDEN_ROOTS = ("/tmp", "/var/tmp", "/run", "/var/run", "/home", "/root")
# Never hidden (a tmpfs over one of these would take the system away).
_SYSTEM_DIRS = frozenset(
    {
        "/",
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/etc",
        "/var",
        "/opt",
        "/proc",
        "/sys",
        "/dev",
        "/nix",
        "/snap",
        "/boot",
        "/srv",
        "/mnt",
        "/media",
        "/usr/local",
        "/var/lib",
        "/System",
        "/Library",
        "/Applications",
        "/private",
    }
)
# Credentials a directory bound back must not contain (relative to it).
CREDENTIAL_NAMES = (
    ".ssh",
    ".aws",
    ".gnupg",
    ".netrc",
    ".git-credentials",
    ".config/gh",
    ".config/gcloud",
    ".docker",
    ".kube",
    ".npmrc",
    ".pypirc",
    ".azure",
    "credentials.toml",
    "credentials",
    ".config/git/credentials",
    ".password-store",
)
# Root-readable secrets of the host.
_HOST_SECRET_FILES = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-")
_HOST_SECRET_GLOBS = (("/etc/ssh", "ssh_host_*_key"),)
_HOST_SECRET_DIRS = ("/etc/ssl/private",)
_MAX_SOCKETS = 500


@dataclass(frozen=True)
class Layout:
    """The paths of one sandboxed run (absolute, resolved)."""

    workdir: Path  # writable: the worktree
    scratch: Path  # writable: swc's own output (JUnit report) of this run
    run_dir: Path  # swc's private directory of this run, never visible inside
    home: Path  # $HOME inside: empty and writable
    hidden: tuple[Path, ...] = ()  # shown as empty directories (read-only but scratch ones)
    scratch_dirs: tuple[Path, ...] = ()  # hidden ones that stay writable: temp dirs, $HOME
    readable: tuple[Path, ...] = ()  # bound back read-only inside hidden ones
    blocked: tuple[Path, ...] = ()  # files shown as empty (secrets, sockets)
    git_config: tuple[Path, Path] | None = None  # (sanitised copy, the real config)
    protected: tuple[Path, ...] = ()  # read-only inside the worktree: its .git link
    network: bool = False  # share the host's network (network_isolation = false)
    cwd: Path | None = None  # where the command starts (None: the worktree)
    caches: tuple[Path, ...] = ()  # writable: the run's caches, shared by its attempts

    def mounts(self) -> list[tuple[str, Path]]:
        """("hide" | "read", path) in mount order: a deeper path after the one it is in,
        so a directory bound back shows through the empty one over its parent, and
        ``.git/swc`` is hidden again inside the git directory bound back."""
        ops = [("hide", p) for p in self.hidden] + [("read", p) for p in self.readable]
        return sorted(ops, key=lambda op: len(op[1].parts))


def _resolved(path: str | Path | None) -> Path | None:
    if not path:
        return None
    try:
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            return None
        return candidate.resolve()
    except (OSError, RuntimeError):
        return None


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _hideable(path: Path | None) -> bool:
    """A real directory that may be replaced by an empty one (never a system directory)."""
    return path is not None and str(path) not in _SYSTEM_DIRS and _is_dir(path)


def _is_dir(path: Path) -> bool:
    """``path.is_dir()``, False where this user may not look (another user's home)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _holds_credentials(path: Path) -> bool:
    return any(os.path.lexists(path / name) for name in CREDENTIAL_NAMES)


def checkout_for(workdir: Path) -> Path | None:
    """The user's checkout a worktree was made from (None: not known)."""
    workdir = Path(workdir).resolve()
    return checkout_of(workdir, common_dir_of(workdir))


def checkout_of(workdir: Path, common: Path | None) -> Path | None:
    """The user's checkout a swc worktree was made from (its holder's marker says), or the
    top of the repository whose git directory is ``common``."""
    marker = workdir.parent / "owner.json"
    if marker.is_file():
        try:
            repo = json.loads(marker.read_text(encoding="utf-8")).get("repo")
        except (OSError, ValueError, AttributeError):
            repo = None
        if isinstance(repo, str) and repo:
            return _resolved(repo)
    if common is not None and common.name == ".git" and common.parent != workdir:
        return common.parent
    return None


def _interpreter_dirs(argv0: str, env: Mapping[str, str]) -> list[Path]:
    """Prefixes of swc's Python and of the command's program (venv and base install)."""
    import shutil

    found: list[Path] = []
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        found.append(Path(prefix))
    program = shutil.which(argv0, path=env.get("PATH")) if argv0 else None
    for candidate in (program, os.path.realpath(program) if program else None):
        if candidate:
            bin_dir = Path(candidate).parent
            found.append(bin_dir.parent if bin_dir.name in ("bin", "Scripts") else bin_dir)
    return found


def _wanted_readable(
    env: Mapping[str, str], home: Path | None, checkout: Path | None, argv0: str
) -> list[Path]:
    from ..ecosystems import checkout_envs, toolchain_dirs

    wanted = toolchain_dirs(env, home)
    wanted += _interpreter_dirs(argv0, env)
    for var in ("PATH", "PYTHONPATH"):
        wanted += [
            p for p in (_resolved(e) for e in env.get(var, "").split(os.pathsep)) if p is not None
        ]
    if checkout is not None:
        wanted += [checkout / name for name in checkout_envs()]
    return wanted


def _bind_back(
    wanted: Iterable[Path], hidden: Sequence[Path], never: Sequence[Path]
) -> tuple[Path, ...]:
    """The wanted paths that exist, lie in a hidden directory and hold no credential."""
    chosen: list[Path] = []
    for path in dict.fromkeys(wanted):
        if not os.path.exists(path) or not any(_under(path, h) for h in hidden):
            continue
        if any(_under(h, path) for h in hidden):
            continue  # a hidden directory itself (say /tmp on PATH), or a parent of one
        if any(_under(n, path) for n in never) or _holds_credentials(path):
            continue  # $HOME, the checkout, or a folder with a key in it
        if any(part in (".ssh", ".aws", ".gnupg", ".docker", ".kube") for part in path.parts):
            continue
        chosen.append(path)
    # a path inside one already chosen adds nothing
    return tuple(p for p in chosen if not any(o != p and _under(p, o) for o in chosen))


def _host_secrets() -> tuple[list[Path], list[Path]]:
    """(files, directories) of root-only secrets this process can read."""
    files = [Path(p) for p in _HOST_SECRET_FILES if os.access(p, os.R_OK)]
    for folder, pattern in _HOST_SECRET_GLOBS:
        files += [p for p in Path(folder).glob(pattern) if os.access(p, os.R_OK)]
    dirs = [Path(p) for p in _HOST_SECRET_DIRS if os.access(p, os.R_OK | os.X_OK)]
    return files, dirs


def listening_sockets(proc_net_unix: Path = Path("/proc/net/unix")) -> list[Path]:
    """Paths of the Unix sockets bound on this host (Linux), at most a few hundred."""
    try:
        lines = proc_net_unix.read_text(errors="replace").splitlines()[1:]
    except OSError:
        return []
    paths = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 8 and fields[7].startswith("/"):
            paths.append(Path(fields[7]))
        if len(paths) >= _MAX_SOCKETS:
            break
    return list(dict.fromkeys(paths))


def _visible(path: Path, hidden: Sequence[Path], readable: Sequence[Path]) -> bool:
    return not any(_under(path, h) for h in hidden) or any(_under(path, r) for r in readable)


def build_layout(
    workdir: Path,
    run_dir: Path,
    env: Mapping[str, str],
    *,
    argv0: str = "",
    network: bool = False,
    checkout: Path | None = None,
    sockets: Sequence[Path] | None = None,
    readable: Sequence[Path] = (),
    cwd: Path | None = None,
    caches: Sequence[Path] = (),
) -> Layout:
    """The layout of a run of ``argv0`` in ``workdir`` (started in ``cwd``); ``run_dir``
    is swc's private directory of the run (its ``out/`` becomes the writable scratch
    directory); ``caches`` are writable directories the run's attempts share."""
    workdir, run_dir = workdir.resolve(), run_dir.resolve()
    scratch = run_dir / "out"
    scratch.mkdir(exist_ok=True)
    home = _resolved(env.get("HOME"))
    common = common_dir_of(workdir)
    checkout = _resolved(checkout) or checkout_of(workdir, common)
    caches = [Path(c).resolve() for c in caches if Path(c).is_dir()]
    keep = [workdir, scratch, *caches]
    candidates = [
        *(Path(p) for p in HIDDEN_ROOTS),
        _resolved(tempfile.gettempdir()),
        home,
        checkout,
    ]
    secret_files, secret_dirs = _host_secrets()
    hidden = list(dict.fromkeys([*(p.resolve() for p in candidates if _hideable(p)), *secret_dirs]))
    never = [p for p in (home, checkout) if p is not None]
    # ``readable``: what the project's environment imports from elsewhere (its .pth files)
    wanted = [*_wanted_readable(env, home, checkout, argv0), *readable]
    if common is not None:
        wanted.append(common)
    readable = tuple(
        p for p in _bind_back(wanted, hidden, never) if not any(_under(p, k) for k in keep)
    )  # those are bound writable
    if common is not None and _hideable(common / "swc"):
        hidden.append(common / "swc")  # swc's own state, inside the git dir bound back
    inside_home = home if home is not None and home in hidden else Path("/tmp/home")
    scratch_dirs = {
        Path("/tmp"),
        Path("/var/tmp"),
        inside_home,
        _resolved(tempfile.gettempdir()) or Path("/tmp"),
    }
    socket_paths = listening_sockets() if sockets is None else sockets
    blocked = [*secret_files]
    for sock in socket_paths:
        if _visible(sock, hidden, readable) and not any(_under(sock, k) for k in keep):
            blocked.append(sock)
    return Layout(
        workdir=workdir,
        scratch=scratch,
        run_dir=run_dir,
        home=inside_home,
        hidden=tuple(sorted(hidden, key=lambda p: len(p.parts))),
        readable=readable,
        scratch_dirs=tuple(p for p in hidden if p in scratch_dirs),
        blocked=tuple(dict.fromkeys(p for p in blocked if os.path.lexists(p))),
        git_config=_git_config(common, run_dir),
        # swc runs git in the worktree after the tests: a .git they replaced could point
        # that git at a config of theirs (a filter is a command), so it stays as it is
        protected=tuple(p for p in (workdir / ".git",) if p.exists() and not p.is_symlink()),
        network=network,
        cwd=Path(cwd).resolve() if cwd is not None else None,
        caches=tuple(caches),
    )


def _git_config(common: Path | None, run_dir: Path) -> tuple[Path, Path] | None:
    """(a sanitised copy of the repository's git config, the real one) or None."""
    from .gitconfig import write_sanitised

    if common is None or not (common / "config").is_file():
        return None
    return write_sanitised(common / "config", run_dir / "gitconfig"), common / "config"


# Variables pointing at host services or per-user directories that are gone inside.
HOST_POINTER_VARS = (
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "DBUS_SESSION_BUS_ADDRESS",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XAUTHORITY",
    "DOCKER_HOST",
    "SSH_AGENT_PID",
    "PULSE_SERVER",
    "OLDPWD",
    "KRB5CCNAME",
    "GNUPGHOME",
)


def inside_env(env: Mapping[str, str], workdir: Path, home: Path, tmp: Path) -> dict[str, str]:
    """The environment of the command inside: HOME and TMPDIR private, host pointers gone."""
    result = {k: v for k, v in env.items() if k not in HOST_POINTER_VARS}
    result.update({"HOME": str(home), "TMPDIR": str(tmp), "PWD": str(workdir)})
    # ~/.gitconfig is out of sight: tests that commit in repositories of their own still
    # need an identity
    for role in ("AUTHOR", "COMMITTER"):
        result.setdefault(f"GIT_{role}_NAME", "swc sandbox")
        result.setdefault(f"GIT_{role}_EMAIL", "sandbox@swc.invalid")
    return result
