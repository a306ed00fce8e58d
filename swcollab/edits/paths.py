"""Where a model may write: inside the worktree, never through ``..``, an absolute path,
a symlink leading out, or into ``.git``; not a path holding a control or invisible
character; and not into CI or tool configuration, nor into the files Python runs by
itself (``setup.py``, ``sitecustomize.py``, ``*.pth``), unless the user allows it.

Each part of a path is compared by its *skeleton*: letter case, trailing dots and spaces
(Windows drops them), characters file systems ignore, and look-alikes (fullwidth
letters, Cyrillic and Greek letters shaped like Latin ones, dots that are not ``.``) all
fold away, so ``.ＧｉｔＨｕｂ/`` and ``.gіthub/`` (a Cyrillic ``і``) are ``.github/``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePosixPath

_DRIVE_RE = re.compile(r"^[A-Za-z]:[\\/]")
# Characters some file systems ignore in names (HFS+ drops these when comparing), so
# ".g\u200cit" is ".git" there; git itself refuses such names (core.protectHFS).
_IGNORABLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufeff]")
# Letters and dots that look like ASCII ones and that NFKC does not fold: Cyrillic,
# Greek and a few others (after NFKC, which already folds fullwidth forms).
_LOOKALIKE_PAIRS = {
    "a": "аαАΑ",
    "b": "ВΒ",
    "c": "сС",
    "d": "ԁ",
    "e": "еЕΕ",
    "g": "ɡ",
    "h": "һНΗհ",
    "i": "іІιΙı",
    "j": "јЈȷ",
    "k": "КκΚ",
    "l": "ӏ",
    "m": "МΜ",
    "n": "Ν",
    "o": "оОοΟօ",
    "p": "рРρΡ",
    "q": "ԛ",
    "s": "ѕЅ",
    "t": "ТΤ",
    "u": "υս",
    "v": "ν",
    "w": "ԝ",
    "x": "хХΧ",
    "y": "уҮΥ",
    "z": "Ζ",
    ".": "\u3002\u06d4\u0701\u0702\ua4f8\ua60e",
}
_LOOKALIKES = str.maketrans(
    {char: ascii_char for ascii_char, chars in _LOOKALIKE_PAIRS.items() for char in chars}
)


class Refused(str):
    """A reason that is a refusal (where a model may not write), not a malformed block:
    the block is left out and named to the model, and the rest of the answer is judged."""


def shown_path(path: str) -> str:
    """``path`` for a message: escaped (``shop\\ncart.py``) when it holds a control or
    invisible character, as it is otherwise."""
    return ascii(path)[1:-1] if unsafe_character(path) else path


def skeleton(part: str) -> str:
    """What one part of a path names on some file system, or looks like to a reader."""
    name = unicodedata.normalize("NFKC", _IGNORABLE.sub("", part))
    return name.translate(_LOOKALIKES).rstrip(". ").casefold()


def unsafe_character(text: str) -> str | None:
    """The first control, format (bidi, zero-width) or line/paragraph separator character
    of ``text`` (as ``U+XXXX``), or None."""
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            return f"U+{ord(char):04X}"
    return None


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


# Files Python runs by itself: setup.py when the package is installed, sitecustomize.py,
# usercustomize.py and any *.pth in site-packages at every interpreter start. Refused
# unless ``allow_code_hook_edits``.
CODE_HOOK_FILES = ("setup.py", "sitecustomize.py", "usercustomize.py")


def is_git_name(part: str) -> bool:
    """Whether a path component names git's directory on some file system: any letter
    case (case-insensitive file systems), trailing dots or spaces (Windows drops them),
    ignorable Unicode (HFS+), a look-alike, or the 8.3 short name ``GIT~1``."""
    name = skeleton(part)
    return name == ".git" or name == "git~1"


def code_hook_reason(rel: str) -> str | None:
    """Why ``rel`` is a file Python runs by itself (see ``CODE_HOOK_FILES``)."""
    parts = [skeleton(p) for p in PurePosixPath(rel).parts]
    if not parts:
        return None
    if parts[-1] in CODE_HOOK_FILES:
        when = "when the package is installed" if parts[-1] == "setup.py" else "at start-up"
        return f"{rel} is code Python runs by itself ({when})"
    if parts[-1].endswith(".pth"):
        return f"{rel} is a .pth file (its import lines run at every Python start-up)"
    return None


def config_reason(rel: str) -> str | None:
    """Why ``rel`` (repository-relative, ``/``-separated) is CI or tool configuration."""
    parts = [skeleton(p) for p in PurePosixPath(rel).parts]
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
    shown = ascii(rel)[1:-1]  # the reason reaches the model, reports and terminals
    if not text:
        return None, Refused("the path is empty")
    if "\0" in text:
        return None, Refused(f"{shown} holds a NUL character")
    if text.startswith(("/", "~")) or _DRIVE_RE.match(rel):
        return None, Refused(
            f"{shown} is an absolute path; paths must be relative to the repository root"
        )
    parts = PurePosixPath(text).parts
    if ".." in parts:
        return None, Refused(f"{shown} leads outside the repository (it contains ..)")
    if any(is_git_name(part) for part in parts):
        return None, Refused(f"{shown} is inside .git, which edits may not touch")
    odd = unsafe_character(text)
    if odd:
        return None, Refused(
            f"{shown} holds a control or invisible character ({odd}); a path may not"
        )
    return _resolved(root, text, shown)


def _resolved(root: Path, text: str, shown: str) -> tuple[Path | None, str]:
    base = root.resolve()
    try:
        target = (base / text).resolve()
    except (OSError, RuntimeError):
        return None, Refused(f"{shown} cannot be resolved (a symbolic link loop?)")
    if target != base and base not in target.parents:
        return None, Refused(f"{shown} leads outside the repository through a symbolic link")
    inside = target.relative_to(base).parts if target != base else ()
    if any(is_git_name(part) for part in inside):
        return None, Refused(f"{shown} leads into .git through a symbolic link")
    if target == base:
        return None, Refused(f"{shown} is the repository root, not a file")
    return target, ""


def check_write(
    root: Path, rel: str, *, allow_config: bool, allow_code_hooks: bool = False
) -> tuple[Path | None, str]:
    """``check_path``, and CI or tool configuration refused unless ``allow_config``, the
    files Python runs by itself unless ``allow_code_hooks``."""
    target, why = check_path(root, rel)
    if target is None:
        return target, why
    names = (target.relative_to(root.resolve()).as_posix(), rel.strip().replace("\\", "/"))
    if not allow_config:
        reason = config_reason(names[0]) or config_reason(names[1])
        if reason:
            return None, Refused(
                f"{reason}: swc does not let a model change it (set "
                "allow_config_edits = true in .swc.toml to allow it)"
            )
    if not allow_code_hooks:
        reason = code_hook_reason(names[0]) or code_hook_reason(names[1])
        if reason:
            return None, Refused(
                f"{reason}: swc does not let a model change it (set "
                "allow_code_hook_edits = true in .swc.toml to allow it)"
            )
    return target, ""
