"""Every git command of the package goes through ``swcollab/gitrepo.py`` (hooks off, no
optional locks, no prompts, git's location variables removed): no other module may start
``git`` itself, nor import GitPython."""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

from swcollab.gitrepo import git_env, run_git

PACKAGE = Path(__file__).resolve().parents[1] / "swcollab"
THE_GIT_MODULE = PACKAGE / "gitrepo.py"
_PROCESS_CALLS = {
    "run",
    "Popen",
    "call",
    "check_call",
    "check_output",
    "system",
    "popen",
    "execvp",
    "execv",
    "execlp",
    "spawnlp",
    "create_subprocess_exec",
}


def _starts_git(node: ast.AST) -> bool:
    """A list or tuple literal whose first item is "git", or a string starting "git "."""
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
        first = node.elts[0]
        return isinstance(first, ast.Constant) and first.value == "git"
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("git ")
    )


def git_starts(path: Path) -> list[str]:
    """Where ``path`` starts git (a git argv literal anywhere, or handed to a process call)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Tuple)) and _starts_git(node):
            found.append(f"{path.name}:{node.lineno}")
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in _PROCESS_CALLS and node.args and _starts_git(node.args[0]):
                found.append(f"{path.name}:{node.lineno}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n == "git" or n.startswith("git.") for n in names) and not getattr(
                node, "level", 0
            ):
                found.append(f"{path.name}:{node.lineno} imports GitPython")
    return sorted(set(found))


def test_no_module_but_the_git_module_starts_git() -> None:
    offenders = {
        str(p.relative_to(PACKAGE)): git_starts(p)
        for p in PACKAGE.rglob("*.py")
        if p != THE_GIT_MODULE
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_check_finds_a_direct_git_call(tmp_path: Path) -> None:
    """The control: the check above would see the call sites it is meant to keep out."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import subprocess\nimport git\n"
        "subprocess.run(['git', 'checkout', 'HEAD', '--', 'x'])\n"
        "argv = ('git', 'apply', '-')\nos.system('git push')\n"
    )
    assert len(git_starts(sample)) == 4


def test_the_git_module_runs_no_hook_and_never_prompts(tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=env)
    ran = tmp_path / "ran"
    for hook in ("pre-commit", "post-commit", "reference-transaction", "post-checkout"):
        script = repo / ".git" / "hooks" / hook
        script.write_text(f"#!/bin/sh\necho {hook} >> {ran}\n")
        script.chmod(0o755)
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))  # must be ignored
    ident = ["-c", "user.name=t", "-c", "user.email=t@t"]
    (repo / "a.txt").write_text("a\n")
    run_git(["add", "a.txt"], repo)
    run_git([*ident, "commit", "-qm", "one"], repo)
    run_git(["checkout", "-q", "-b", "other"], repo)
    assert not ran.exists()
    env = git_env()
    assert env["GIT_OPTIONAL_LOCKS"] == "0" and env["GIT_TERMINAL_PROMPT"] == "0"
    assert "GIT_DIR" not in env


def test_a_replaced_worktree_link_stops_swc_from_running_git_there(tmp_path: Path) -> None:
    from swcollab.errors import EnvironmentProblem
    from swcollab.gitrepo import check_worktree_link, reset_worktree
    from swcollab.sandbox import Worktree

    repo = tmp_path / "repo"
    repo.mkdir()
    ident = ["-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "a.txt").write_text("a\n")
    subprocess.run(["git", *ident, "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", *ident, "commit", "-qm", "a"], cwd=repo, check=True)
    with Worktree(repo, temp_dir=tmp_path) as wt:
        check_worktree_link(wt.path)
        (wt.path / ".git").write_text(f"gitdir: {repo / '.git'}\n")  # the user's own
        try:
            reset_worktree(wt.path)
        except EnvironmentProblem as exc:
            assert "changed by a test run" in exc.message
        else:
            raise AssertionError("git ran in a worktree whose .git was replaced")
