"""Where a model may write: inside the worktree, never through ``..``, an absolute path,
a symlink leading out, or into ``.git``; and not into CI or tool configuration unless
the user allows it."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePosixPath

_DRIVE_RE = re.compile(r"^[A-Za-z]:[\\/]")
# Characters some file systems ignore in names (HFS+ drops these when comparing), so
# ".g\u200cit" is ".git" there; git itself refuses such names (core.protectHFS).
_IGNORABLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufeff]")

# CI and tool configuration: a change there runs code elsewhere (a workflow with the
# repository's secrets, a hook on every developer's machine) or changes what reviewers
# see (.gitattributes can hide a diff). Refused unless ``allow_config_edits``.
CONFIG_DIRS = (
    ".github",
    ".gitlab",
    ".circleci",
    ".buildkite",
    ".woodpecker",
    ".husky",
    ".githooks",
    ".devcontainer",
    ".vscode",
    ".azure-pipelines",
    ".teamcity",
    ".drone",
)
CONFIG_FILES = (
    ".gitlab-ci.yml",
    "jenkinsfile",
    "azure-pipelines.yml",
    "azure-pipelines.yaml",
    ".travis.yml",
    "bitbucket-pipelines.yml",
    ".drone.yml",
    "appveyor.yml",
    ".appveyor.yml",
    ".woodpecker.yml",
    ".cirrus.yml",
    "cloudbuild.yaml",
    "cloudbuild.yml",
    ".swc.toml",
    ".gitmodules",
    ".pre-commit-config.yaml",
    ".pre-commit-hooks.yaml",
    "lefthook.yml",
    ".lefthook.yml",
    ".envrc",
)
# Names refused at any depth of the tree.
CONFIG_FILES_ANY_DEPTH = (".gitattributes", ".gitmodules", ".envrc")


def is_git_name(part: str) -> bool:
    """Whether a path component names git's directory on some file system: any letter
    case (case-insensitive file systems), trailing dots or spaces (Windows drops them),
    ignorable Unicode (HFS+), or the 8.3 short name ``GIT~1``."""
    name = unicodedata.normalize("NFC", _IGNORABLE.sub("", part)).rstrip(". ").lower()
    return name == ".git" or name == "git~1"


def config_reason(rel: str) -> str | None:
    """Why ``rel`` (repository-relative, ``/``-separated) is CI or tool configuration."""
    parts = [p.lower() for p in PurePosixPath(rel).parts]
    if not parts:
        return None
    if parts[0] in CONFIG_DIRS:
        return f"{rel} is in {parts[0]}/ (CI or tool configuration)"
    if len(parts) == 1 and parts[0] in CONFIG_FILES:
        return f"{rel} is CI or tool configuration"
    if parts[-1] in CONFIG_FILES_ANY_DEPTH:
        return f"{rel} is git or tool configuration"
    return None


def check_path(root: Path, rel: str) -> tuple[Path | None, str]:
    """(absolute path, "") for a safe relative path, or (None, why it is refused)."""
    text = rel.strip().replace("\\", "/")
    if not text:
        return None, "the path is empty"
    if "\0" in text:
        return None, "the path holds a NUL character"
    if text.startswith(("/", "~")) or _DRIVE_RE.match(rel):
        return None, f"{rel} is an absolute path; paths must be relative to the repository root"
    parts = PurePosixPath(text).parts
    if ".." in parts:
        return None, f"{rel} leads outside the repository (it contains ..)"
    if any(is_git_name(part) for part in parts):
        return None, f"{rel} is inside .git, which edits may not touch"
    base = root.resolve()
    try:
        target = (base / text).resolve()
    except (OSError, RuntimeError):
        return None, f"{rel} cannot be resolved (a symbolic link loop?)"
    if target != base and base not in target.parents:
        return None, f"{rel} leads outside the repository through a symbolic link"
    inside = target.relative_to(base).parts if target != base else ()
    if any(is_git_name(part) for part in inside):
        return None, f"{rel} leads into .git through a symbolic link"
    if target == base:
        return None, f"{rel} is the repository root, not a file"
    return target, ""


def check_write(root: Path, rel: str, *, allow_config: bool) -> tuple[Path | None, str]:
    """``check_path``, and CI or tool configuration refused unless ``allow_config``."""
    target, why = check_path(root, rel)
    if target is None or allow_config:
        return target, why
    clean = target.relative_to(root.resolve()).as_posix()
    reason = config_reason(clean) or config_reason(rel.strip().replace("\\", "/"))
    if reason:
        return None, (
            f"{reason}: swc does not let a model change it (set "
            "allow_config_edits = true in .swc.toml to allow it)"
        )
    return target, ""
