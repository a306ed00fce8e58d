"""The one way swc runs git: every git command of the package goes through ``run_git``.

Whatever the caller, a git command started here

- runs no hook and no fsmonitor (``core.hooksPath=/dev/null``, ``core.fsmonitor=false``):
  a ``post-checkout``, ``pre-push`` or ``reference-transaction`` hook of the user's (or
  one a test planted) never fires for swc's worktrees, refs and pushes;
- takes no optional locks (``GIT_OPTIONAL_LOCKS=0``): ``git status`` does not rewrite the
  user's index to refresh it;
- never prompts (``GIT_TERMINAL_PROMPT=0``, stdin from ``/dev/null`` unless input is
  given): a missing credential is an error, not a hang;
- ignores git's location variables (``GIT_DIR``, ``GIT_WORK_TREE``, ...): it acts on the
  repository of ``cwd``, not on one an outer git (a hook that started swc) pointed at.

Plain ``git`` subprocesses: every operation is one command, and the light commands
(``swc config``, ``swc doctor``) must start fast. ``tests/test_git_module.py`` keeps other
modules from starting git themselves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import EnvironmentProblem, NotAGitRepository

STATE_DIR_NAME = "swc"
FALLBACK_NAME = "swc"
FALLBACK_EMAIL = "swc@localhost"

# Options of every git command (see the module docstring). core.autocrlf off: swc's
# worktrees and patches hold each file's bytes as committed, line endings included (a
# user's autocrlf=input would turn a CRLF file's every line into a change).
SAFE_OPTIONS = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.autocrlf=false",
)

# Repository-location variables git honours: swc's git acts on the repository it names.
GIT_LOCATION_VARS = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_COMMON_DIR",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
        "GIT_CEILING_DIRECTORIES",
        "GIT_QUARANTINE_PATH",
    }
)

# Files a test run leaves that must never count as a change of the patch.
JUNK_PATHSPECS = (
    ":(exclude,glob)**/__pycache__/**",
    ":(exclude,glob)**/*.pyc",
    ":(exclude,glob)**/.pytest_cache/**",
)


@dataclass(frozen=True)
class RepoPaths:
    root: Path  # top of the working tree
    common_dir: Path  # the .git directory shared by all worktrees

    @property
    def state_dir(self) -> Path:
        """``.git/swc``: caches, ledger, reports, logs; shared by every worktree."""
        return self.common_dir / STATE_DIR_NAME


# -- running git -------------------------------------------------------------------------


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in GIT_LOCATION_VARS}
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.update(extra or {})
    return env


def run_git(
    args: Sequence[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    input: str | bytes | None = None,
    binary: bool = False,
    timeout: float | None = None,
    _hooks_path: str | None = "/dev/null",
) -> subprocess.CompletedProcess[Any]:
    """``git <safe options> args`` in ``cwd``; raises ``EnvironmentProblem`` on failure
    when ``check``. Output is UTF-8 text, invalid bytes replaced, unless ``binary``; line
    ends are kept as git wrote them (a CRLF line of a diff stays CRLF: Python's text mode
    would make it LF, and the patch would no longer apply to the file)."""
    options = SAFE_OPTIONS if _hooks_path is not None else SAFE_OPTIONS[2:]
    cmd = ["git", *options, *args]
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=git_env(env),
            capture_output=True,
            timeout=timeout,
            input=input.encode("utf-8") if isinstance(input, str) else input,
            stdin=subprocess.DEVNULL if input is None else None,
        )
    except FileNotFoundError:
        raise EnvironmentProblem(
            "git is not installed or not on PATH", hint="Install git (e.g. apt install git)."
        ) from None
    if not binary:
        proc.stdout = proc.stdout.decode("utf-8", "replace")
        proc.stderr = proc.stderr.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        stderr = (
            proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode("utf-8", "replace")
        )
        raise EnvironmentProblem(f"git {' '.join(args)} failed: {stderr.strip()}")
    return proc


def start_git(args: Sequence[str], cwd: Path) -> subprocess.Popen[bytes]:
    """A git command left running (its output read later), with the same options."""
    try:
        return subprocess.Popen(
            ["git", *SAFE_OPTIONS, *args],
            cwd=cwd,
            env=git_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        raise EnvironmentProblem("git is not installed or not on PATH") from None


def git(args: list[str], cwd: Path, *, check: bool = True) -> str:
    """The stdout of a git command, as is."""
    return run_git(args, cwd, check=check).stdout


def git_out(args: Sequence[str], cwd: Path, *, env: Mapping[str, str] | None = None) -> str:
    return run_git(args, cwd, env=env).stdout.strip()


def user_hooks_dir(repo_root: Path) -> Path:
    """The directory git runs the user's hooks from (``core.hooksPath`` when set, else
    ``.git/hooks``): the one read that must not see swc's own ``core.hooksPath``."""
    proc = run_git(["rev-parse", "--git-path", "hooks"], repo_root, _hooks_path=None)
    found = Path(proc.stdout.strip())
    return found if found.is_absolute() else (repo_root / found).resolve()


def git_version() -> str | None:
    try:
        out = run_git(["--version"], Path.cwd() if Path.cwd().is_dir() else Path("/")).stdout
    except EnvironmentProblem:
        return None
    return out.strip().removeprefix("git version ").strip() or None


# -- the repository ----------------------------------------------------------------------


def commit_sha(root: Path, rev: str) -> str | None:
    """The full SHA of the commit ``rev`` names, or None when it names no commit."""
    if not rev:
        return None
    proc = run_git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root, check=False)
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def is_ancestor(root: Path, commit: str, descendant: str) -> bool:
    """Whether ``commit`` is in the history of ``descendant`` (itself included)."""
    if not commit:
        return False
    return (
        run_git(["merge-base", "--is-ancestor", commit, descendant], root, check=False).returncode
        == 0
    )


def find_repo(start: Path | None = None) -> RepoPaths | None:
    """The repository containing ``start`` (default: the current directory), or None."""
    cwd = (start or Path.cwd()).resolve()
    if not cwd.is_dir():
        cwd = cwd.parent
    if not cwd.is_dir():
        return None
    proc = run_git(["rev-parse", "--show-toplevel", "--git-common-dir"], cwd, check=False)
    if proc.returncode != 0:
        return None
    lines = proc.stdout.splitlines()
    if len(lines) < 2:
        return None  # a bare repository has no working tree
    root = Path(lines[0]).resolve()
    common = Path(lines[1])
    if not common.is_absolute():
        common = (cwd / common).resolve()
    return RepoPaths(root=root, common_dir=common)


def require_repo(start: Path | None = None) -> RepoPaths:
    repo = find_repo(start)
    if repo is None:
        where = (start or Path.cwd()).resolve()
        raise NotAGitRepository(
            f"{where} is not inside a git repository",
            hint="Run swc from a clone of your project, or pass --repo PATH.",
        )
    return repo


def ensure_state_dir(repo: RepoPaths) -> Path:
    path = repo.state_dir
    path.mkdir(parents=True, exist_ok=True)
    return path


def git_path(cwd: Path, name: str) -> Path:
    """``git rev-parse --git-path name`` as an absolute path (per-worktree aware)."""
    raw = Path(git_out(["rev-parse", "--git-path", name], cwd))
    return raw if raw.is_absolute() else (cwd / raw).resolve()


def common_dir_of(cwd: Path) -> Path | None:
    """The git common directory of the worktree ``cwd``, or None outside a repository."""
    proc = run_git(["rev-parse", "--git-common-dir"], cwd, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    path = Path(proc.stdout.strip())
    return (path if path.is_absolute() else cwd / path).resolve()


def tracked_files(root: Path) -> list[str]:
    out = run_git(["-c", "core.quotepath=off", "ls-files", "-z"], root).stdout
    return [p for p in out.split("\0") if p]


# -- building commits without touching a working tree ------------------------------------


def identity_env(cwd: Path) -> dict[str, str]:
    """Author/committer variables for what the repository's config lacks.

    The configured user wins; variables already set in the environment win too; only
    what is missing gets the fallback identity, so commits work on CI machines with no
    git identity at all.
    """
    extra: dict[str, str] = {}
    for key, fallback, suffixes in (
        ("user.name", FALLBACK_NAME, ("AUTHOR_NAME", "COMMITTER_NAME")),
        ("user.email", FALLBACK_EMAIL, ("AUTHOR_EMAIL", "COMMITTER_EMAIL")),
    ):
        configured = run_git(["config", "--get", key], cwd, check=False).stdout.strip()
        if configured:
            continue
        for suffix in suffixes:
            if not os.environ.get("GIT_" + suffix):
                extra["GIT_" + suffix] = fallback
    return extra


def stage_tree(
    workdir: Path, paths: Sequence[str] | None = None, exclude: Sequence[str] = ()
) -> str:
    """The tree object of ``workdir`` as it is on disk, ignored files left out.

    Staged in a copy of the worktree's index (its stat data keeps this fast), so no real
    index changes. With ``paths``, only those paths are taken from disk; the rest stays as
    in the index.
    """
    index = git_path(workdir, "index")
    with tempfile.TemporaryDirectory(prefix="swcidx-") as tmp:
        tmp_index = Path(tmp) / "index"
        env = {"GIT_INDEX_FILE": str(tmp_index)}
        if index.is_file():
            # copy2 keeps the mtime: git's racy-entry check compares file mtimes against
            # the index's own, and a fresh mtime would make it trust stale stat data
            # (a same-size edit made within the same second would go unseen).
            shutil.copy2(index, tmp_index)
        else:
            run_git(["read-tree", "HEAD"], workdir, env=env)
        specs = [f":(literal){p}" for p in paths] if paths is not None else [":/"]
        if specs:
            excluded = [f":(top,exclude,literal){p}" for p in exclude]
            run_git(["add", "--all", "--", *specs, *JUNK_PATHSPECS, *excluded], workdir, env=env)
        return git_out(["write-tree"], workdir, env=env)


def tree_with_patch(
    repo_root: Path,
    base: str,
    patch: str,
    files: Mapping[str, str],
    appends: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The tree of ``base`` with ``patch`` applied, ``files`` (path -> text) added, and
    ``appends`` (path -> lines) added at the end of files (those already there but not).

    Built in a temporary index from the base's tree: no working tree takes part, so
    nothing a test run left anywhere can slip in. Raises ``EnvironmentProblem`` when the
    patch does not apply.
    """
    with tempfile.TemporaryDirectory(prefix="swcidx-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        run_git(["read-tree", base], repo_root, env=env)
        if patch.strip():
            proc = run_git(
                ["apply", "--cached", "--whitespace=nowarn", "-"],
                repo_root,
                env=env,
                input=patch,
                check=False,
            )
            if proc.returncode != 0:
                raise EnvironmentProblem(
                    f"the accepted patch does not apply to {base[:12]}: {proc.stderr.strip()}"
                )
        for path, text in files.items():
            parts = PurePosixPath(path).parts
            if (
                not parts
                or PurePosixPath(path).is_absolute()
                or ".." in parts
                or any(p.lower().rstrip(". ") == ".git" for p in parts)
            ):
                raise EnvironmentProblem(f"refusing to commit a file at {path!r}")
            # --stdin without --path: the text is stored as given, no filter runs
            blob = run_git(["hash-object", "-w", "--stdin"], repo_root, input=text).stdout.strip()
            run_git(
                ["update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"],
                repo_root,
                env=env,
            )
        for path, lines in (appends or {}).items():
            _append_in_index(repo_root, env, path, lines)
        return git_out(["write-tree"], repo_root, env=env)


def _append_in_index(
    repo_root: Path, env: Mapping[str, str], path: str, lines: Sequence[str]
) -> None:
    """``lines`` missing from the end of ``path`` as the index ``env`` names holds it."""
    entry = git_out(["ls-files", "-s", "--", path], repo_root, env=env).split()
    if len(entry) < 4:
        raise EnvironmentProblem(f"cannot add a line to {path!r}: not in the commit")
    mode, blob = entry[0], entry[1]
    text = run_git(["cat-file", "blob", blob], repo_root).stdout
    missing = [line for line in lines if line not in text.splitlines()]
    if not missing:
        return
    text += ("" if not text or text.endswith("\n") else "\n") + "".join(f"{x}\n" for x in missing)
    new = run_git(["hash-object", "-w", "--stdin"], repo_root, input=text).stdout.strip()
    run_git(["update-index", "--cacheinfo", f"{mode},{new},{path}"], repo_root, env=env)


def commit_tree(cwd: Path, tree: str, parent: str, message: str) -> str:
    env = identity_env(cwd)
    return git_out(["commit-tree", tree, "-p", parent, "-m", message], cwd, env=env)


def diff_commits(cwd: Path, old: str, new: str) -> str:
    """What ``git diff old new`` prints with git's default settings (binary-safe)."""
    return run_git(
        [
            "diff",
            "--binary",
            "--no-color",
            "--no-ext-diff",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            old,
            new,
        ],
        cwd,
    ).stdout


# -- changing a worktree of swc's own ------------------------------------------------------


def apply_patch(root: Path, patch: str) -> str | None:
    """Apply a unified diff in the worktree ``root``; the error text when it does not apply."""
    if not patch.strip():
        return None
    proc = run_git(["apply", "--whitespace=nowarn", "-"], root, input=patch, check=False)
    if proc.returncode != 0:
        return proc.stderr.strip() or "git apply failed"
    return None


def restore_paths(root: Path, rev: str, paths: Sequence[str]) -> None:
    """Put ``paths`` back as they are at ``rev`` (removing those ``rev`` does not have)."""
    for rel in paths:
        proc = run_git(["checkout", rev, "--", rel], root, check=False)
        if proc.returncode != 0:
            target = root / rel
            if target.is_symlink() or target.is_file():
                target.unlink()


def check_worktree_link(root: Path) -> None:
    """Raise unless ``root/.git`` is still the link ``git worktree add`` wrote (a file
    naming an admin directory that names it back), or a plain git directory.

    Run before swc's own git acts in a worktree where tests ran: a ``.git`` they replaced
    could lead that git to a config of theirs, and a filter there is a command.
    """
    link = root / ".git"
    if link.is_dir() and not link.is_symlink():
        return
    try:
        if link.is_symlink() or not link.is_file():
            raise OSError
        admin = Path(link.read_text(encoding="utf-8").removeprefix("gitdir:").strip())
        admin = admin if admin.is_absolute() else (root / admin)
        back = Path((admin / "gitdir").read_text(encoding="utf-8").strip())
        intact = back.resolve() == link.resolve()
    except (OSError, ValueError):
        intact = False
    if not intact:
        raise EnvironmentProblem(
            f"{root}/.git was changed by a test run; swc does not run git there again"
        )


def reset_worktree(root: Path) -> None:
    """Back to its HEAD: changes discarded, untracked and ignored files removed."""
    check_worktree_link(root)
    run_git(["reset", "--hard", "--quiet", "HEAD"], root)
    run_git(["clean", "-ffdxq"], root)
