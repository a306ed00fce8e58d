"""The project's own Python: the interpreter its tests need, found rather than assumed.

swc itself may run under pipx or in a virtualenv of its own, without the project's test
dependencies; the tests must run with the project's environment. It is looked for in the
user's checkout (environments are untracked, so never in a worktree), first match wins:

1. an activated virtualenv (``VIRTUAL_ENV``) inside the checkout;
2. ``.venv/`` or ``venv/`` at the checkout root (uv's, poetry's in-project, anyone's;
   ``UV_PROJECT_ENVIRONMENT`` when set);
3. an activated virtualenv elsewhere (virtualenvwrapper, ``poetry shell``), not swc's own;
4. the environment of the project's tool, where the tool is there: poetry (``poetry env
   info -p``), hatch (``hatch env find``), pdm (``.pdm-python``, ``__pypackages__``),
   tox (``.tox/<env>``), nox (``.nox/<session>``);
5. an activated conda environment (``CONDA_PREFIX``);
6. swc's own interpreter, and the run says so.

An editable install in that environment points at the checkout, not at the worktree a
candidate is tested in: the checkout paths it names are mapped to the worktree and put
first on ``PYTHONPATH`` (``editable_paths``), so the patched code is what gets imported.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# An environment manager's command must answer within this (it only prints a path).
TOOL_TIMEOUT = 20.0
_TOX_NOT_FOR_TESTS = re.compile(
    r"^(lint|docs?|type|typing|mypy|style|format|fmt|pre-commit|"
    r"build|release|dev|coverage|cov|clean|spell)",
    re.I,
)


@dataclass(frozen=True)
class PythonEnv:
    """The interpreter a project's tests run with, and why that one.

    ``prefix`` is the environment's directory when it is a virtualenv or conda env (its
    ``bin/`` goes first on ``PATH``); ``fallback`` is True when nothing of the project's
    was found and swc's own interpreter is used. ``editable_paths`` are checkout-relative
    directories an editable install puts on ``sys.path``; ``extra_paths`` are absolute
    ones (``__pypackages__``) that go on ``PYTHONPATH`` after the worktree.
    """

    python: str
    kind: str
    reason: str
    prefix: str | None = None
    fallback: bool = False
    editable_paths: tuple[str, ...] = ()
    extra_paths: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # what the environment's .pth files put on sys.path outside it and the checkout (a
    # sibling project installed in editable mode): the sandbox shows them, read-only
    site_paths: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.python} ({self.reason})"

    def as_dict(self) -> dict[str, object]:
        return {
            "python": self.python,
            "kind": self.kind,
            "reason": self.reason,
            "prefix": self.prefix,
            "fallback": self.fallback,
            "editable_paths": list(self.editable_paths),
            "notes": list(self.notes),
        }


def find_python_env(checkout: Path, environ: Mapping[str, str] | None = None) -> PythonEnv:
    """The project's environment for the checkout ``checkout`` (see the module's doc)."""
    env = os.environ if environ is None else environ
    checkout = Path(checkout).resolve()
    notes: list[str] = []
    active = _active_venv(env)
    own = _own_prefix()
    finders = (
        lambda: (
            _venv(active, "virtualenv", "the active virtualenv (VIRTUAL_ENV)")
            if active is not None and _inside(active, checkout)
            else None
        ),
        lambda: _checkout_venv(checkout, env, notes),
        lambda: (
            _venv(active, "virtualenv", f"the active virtualenv (VIRTUAL_ENV={active})")
            if active is not None and active != own
            else None
        ),
        lambda: _poetry(checkout, notes),
        lambda: _hatch(checkout, notes),
        lambda: _pdm(checkout, notes),
        lambda: _session_env(checkout, ".tox", ("tox.ini", "tox.toml"), "tox", notes),
        lambda: _session_env(checkout, ".nox", ("noxfile.py",), "nox", notes),
        lambda: _conda(env, own),
    )
    for finder in finders:
        found = finder()
        if found is not None:
            return _with_editables(found, checkout, tuple(notes))
    if active is not None and active == own:
        found = PythonEnv(
            sys.executable,
            "virtualenv",
            "the active virtualenv, the one swc runs in",
            prefix=str(active),
        )
        return _with_editables(found, checkout, tuple(notes))
    return PythonEnv(
        sys.executable,
        "swc",
        "no environment of the project was found (no active "
        "virtualenv, no .venv/ or venv/ at the checkout root, no poetry, hatch, pdm, tox or "
        "nox environment): swc's own interpreter",
        fallback=True,
        notes=tuple(notes),
    )


def _own_prefix() -> Path | None:
    return Path(sys.prefix).resolve() if sys.prefix != sys.base_prefix else None


def _active_venv(env: Mapping[str, str]) -> Path | None:
    value = env.get("VIRTUAL_ENV", "").strip()
    if not value or not Path(value).is_absolute():
        return None
    return Path(value).resolve()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def env_python(prefix: Path) -> Path | None:
    """The interpreter of an environment directory, if it has a working one."""
    for rel in ("bin/python", "bin/python3", "Scripts/python.exe"):
        candidate = prefix / rel
        if candidate.exists() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _venv(prefix: Path | None, kind: str, reason: str) -> PythonEnv | None:
    if prefix is None:
        return None
    python = env_python(prefix)
    if python is None:
        return None
    return PythonEnv(str(python), kind, reason, prefix=str(prefix))


def _checkout_venv(checkout: Path, env: Mapping[str, str], notes: list[str]) -> PythonEnv | None:
    names = [".venv", "venv"]
    custom = env.get("UV_PROJECT_ENVIRONMENT", "").strip()
    if custom:
        names.insert(0, custom)
    for name in names:
        prefix = (checkout / name).resolve() if not Path(name).is_absolute() else Path(name)
        if not prefix.is_dir():
            continue
        python = env_python(prefix)
        if python is None:
            notes.append(
                f"{name}/ at the checkout root has no working python (a broken "
                "environment? recreate it): skipped"
            )
            continue
        tool = _checkout_tool(checkout)
        shown = f"{name}/" if not Path(name).is_absolute() else name
        reason = f"found {shown} at the checkout root" + (f" ({tool} project)" if tool else "")
        return PythonEnv(str(python), tool or "venv", reason, prefix=str(prefix))
    if (checkout / "uv.lock").is_file():
        notes.append("uv.lock found but no .venv/: `uv sync` creates the environment")
    return None


def _checkout_tool(checkout: Path) -> str | None:
    if (checkout / "uv.lock").is_file():
        return "uv"
    if (checkout / "poetry.lock").is_file():
        return "poetry"
    if (checkout / "pdm.lock").is_file():
        return "pdm"
    return None


def _pyproject_text(checkout: Path) -> str:
    try:
        return (checkout / "pyproject.toml").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


# What an environment manager asked where its environment is may see of ours: where
# things are, never a key (it runs outside the sandbox, and a plugin may run with it).
_TOOL_VARIABLES = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR")
_TOOL_PREFIXES = ("XDG_", "POETRY_", "HATCH_", "PYENV_")


def _tool_environment() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name in _TOOL_VARIABLES or name.startswith(_TOOL_PREFIXES)
    }
    return {**env, "NO_COLOR": "1"}


def _tool_output(argv: list[str], cwd: Path) -> list[str]:
    """The lines an environment manager prints (paths), none when it fails."""
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT,
            stdin=subprocess.DEVNULL,
            env=_tool_environment(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if proc.returncode != 0:
        return []
    return [line.strip() for line in proc.stdout.splitlines() if line.strip()]


def _poetry(checkout: Path, notes: list[str]) -> PythonEnv | None:
    uses = (checkout / "poetry.lock").is_file() or "[tool.poetry" in _pyproject_text(checkout)
    poetry = shutil.which("poetry") if uses else None
    if poetry is None:
        return None
    # --no-plugins: a project's `requires-plugins` would be installed and run
    asked = [poetry, "--no-plugins", "env", "info", "-p"]
    paths = [p for p in _tool_output(asked, checkout) if Path(p).is_absolute()]
    found = (
        _venv(Path(paths[0]), "poetry", "poetry's environment (`poetry env info -p`)")
        if paths
        else None
    )
    if found is None:
        notes.append("a poetry project without an environment: `poetry install` creates it")
    return found


def _hatch(checkout: Path, notes: list[str]) -> PythonEnv | None:
    text = _pyproject_text(checkout)
    uses = (checkout / "hatch.toml").is_file() or "[tool.hatch" in text or "hatchling" in text
    hatch = shutil.which("hatch") if uses else None
    if hatch is None:
        return None
    if _hatch_plugins(checkout, text):
        notes.append(
            "hatch was not asked for the project's environment: its configuration names "
            "environment plugins (env.requires), which hatch would install and run; set "
            "test_cmd in your own config"
        )
        return None
    # hatch's own test environment first (`hatch test`; a matrix prints one path per
    # Python, the first that exists wins), then the conventional ones
    for name in ("hatch-test", "test", "default"):
        for path in _tool_output([hatch, "env", "find", name], checkout):
            found = _venv(Path(path), "hatch", f"hatch's {name} environment (`hatch env find`)")
            if found is not None and Path(path).is_absolute():
                return found
    notes.append("a hatch project without an environment: `hatch env create` creates it")
    return None


def _hatch_plugins(checkout: Path, pyproject: str) -> bool:
    """Whether the project's hatch configuration asks for environment plugins
    (``[tool.hatch.env] requires`` or ``hatch.toml``'s ``[env] requires``)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    try:
        tables = [tomllib.loads(pyproject).get("tool", {}).get("hatch", {})]
        own = checkout / "hatch.toml"
        if own.is_file():
            tables.append(tomllib.loads(own.read_text(encoding="utf-8", errors="replace")))
    except (tomllib.TOMLDecodeError, OSError):
        return True  # unreadable: do not guess that hatch would run nothing
    return any(isinstance(t.get("env"), dict) and t["env"].get("requires") for t in tables)


def _pdm(checkout: Path, notes: list[str]) -> PythonEnv | None:
    marker = checkout / ".pdm-python"
    if marker.is_file():
        try:
            named = marker.read_text(encoding="utf-8").strip()
        except OSError:
            named = ""
        python = Path(named) if named else None
        if python is not None and python.is_absolute() and python.exists():
            prefix = python.parent.parent if python.parent.name in ("bin", "Scripts") else None
            is_env = prefix is not None and (prefix / "pyvenv.cfg").is_file()
            return PythonEnv(
                str(python),
                "pdm",
                "the interpreter pdm chose (.pdm-python)",
                prefix=str(prefix) if is_env else None,
            )
        notes.append(f".pdm-python names {named or 'nothing'}, which does not exist: skipped")
    return _pep582(checkout)


def _pep582(checkout: Path) -> PythonEnv | None:
    """pdm's PEP 582 mode: packages in ``__pypackages__/X.Y/lib`` beside any python X.Y."""
    root = checkout / "__pypackages__"
    if not root.is_dir():
        return None
    versions = sorted(
        (p for p in root.iterdir() if re.fullmatch(r"\d+\.\d+", p.name) and (p / "lib").is_dir()),
        key=lambda p: tuple(map(int, p.name.split("."))),
    )
    for folder in reversed(versions):
        mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
        python = sys.executable if folder.name == mine else shutil.which(f"python{folder.name}")
        if python:
            return PythonEnv(
                python,
                "pdm",
                f"__pypackages__/{folder.name} (PEP 582) with python{folder.name}",
                extra_paths=(str(folder / "lib"),),
            )
    return None


def _session_env(
    checkout: Path, folder: str, configs: tuple[str, ...], tool: str, notes: list[str]
) -> PythonEnv | None:
    """A tox or nox environment: a test one (``py312``, ``tests``) before the others, the
    most recently used first."""
    top = checkout / folder
    configured = any((checkout / c).is_file() for c in configs) or (
        tool == "tox" and ("[tool.tox" in _pyproject_text(checkout) or _setup_cfg_has_tox(checkout))
    )
    if not configured or not top.is_dir():
        return None
    envs = []
    for prefix in top.iterdir():
        python = env_python(prefix) if prefix.is_dir() and not prefix.name.startswith(".") else None
        if python is not None:
            testish = not _TOX_NOT_FOR_TESTS.match(prefix.name)
            envs.append((testish, _mtime(prefix), prefix, python))
    if not envs:
        notes.append(f"{folder}/ holds no environment with a python: skipped")
        return None
    _testish, _when, prefix, python = max(envs, key=lambda e: (e[0], e[1]))
    return PythonEnv(
        str(python), tool, f"{tool} environment {folder}/{prefix.name}", prefix=str(prefix)
    )


def _setup_cfg_has_tox(checkout: Path) -> bool:
    try:
        return "[tox:tox]" in (checkout / "setup.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _conda(env: Mapping[str, str], own: Path | None) -> PythonEnv | None:
    value = env.get("CONDA_PREFIX", "").strip()
    if not value or not Path(value).is_absolute():
        return None
    prefix = Path(value).resolve()
    if prefix == own:
        return None
    found = _venv(prefix, "conda", f"the active conda environment ({prefix})")
    return found


# ---------------------------------------------------------------- editable installs


def _with_editables(found: PythonEnv, checkout: Path, notes: tuple[str, ...]) -> PythonEnv:
    prefix = Path(found.prefix) if found.prefix else None
    paths = editable_paths(prefix, checkout) if prefix is not None else ()
    outside = pth_targets(prefix, checkout) if prefix is not None else ()
    return PythonEnv(
        found.python,
        found.kind,
        found.reason,
        found.prefix,
        found.fallback,
        paths,
        found.extra_paths,
        notes,
        outside,
    )


def pth_targets(prefix: Path, checkout: Path) -> tuple[str, ...]:
    """Directories the ``.pth`` files of ``prefix`` name outside it and the checkout."""
    found = []
    for site in _site_packages(prefix):
        for pth in sorted(site.glob("*.pth")):
            found += _pth_paths(pth, site)
    prefix, checkout = prefix.resolve(), checkout.resolve()
    kept = []
    for raw in found:
        path = Path(os.path.normpath(raw))
        inside = _inside(path, prefix) or _inside(path, checkout) or _inside(checkout, path)
        if path.is_absolute() and path.is_dir() and not inside:
            kept.append(str(path))
    return tuple(dict.fromkeys(kept))


_MAPPING = re.compile(r"^MAPPING\s*(?::[^=\n]*)?=\s*(\{.*?\})\s*$", re.M | re.S)
_MAP_MODULE = re.compile(r"map_module\(\s*['\"][\w.]+['\"]\s*,\s*['\"]([^'\"]+)['\"]")


def editable_paths(prefix: Path, checkout: Path) -> tuple[str, ...]:
    """Checkout-relative directories that editable installs in ``prefix`` put on
    ``sys.path``: plain ``.pth`` lines, setuptools' ``__editable__`` finders (their
    ``MAPPING`` of package to directory) and the ``editables`` redirector."""
    found: list[str] = []
    for site in _site_packages(prefix):
        for pth in sorted(site.glob("*.pth")):
            found += _pth_paths(pth, site)
    checkout = checkout.resolve()
    rels = []
    for raw in found:
        path = Path(raw)
        if not path.is_absolute():
            continue
        path = Path(os.path.normpath(path))
        if _inside(path, checkout) and path != checkout:
            rels.append(path.relative_to(checkout).as_posix())
        elif path == checkout:
            rels.append(".")
    return tuple(dict.fromkeys(rels))


def _site_packages(prefix: Path) -> list[Path]:
    found = [p for p in prefix.glob("lib*/python*/site-packages") if p.is_dir()]
    windows = prefix / "Lib" / "site-packages"
    return found + ([windows] if windows.is_dir() else [])


def _pth_paths(pth: Path, site: Path) -> list[str]:
    try:
        lines = pth.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    paths: list[str] = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("import ", "import\t")):
            for module in re.findall(r"import\s+([\w.]+)", line):
                paths += _finder_paths(site / (module.split(".")[0] + ".py"))
            continue
        paths.append(line if Path(line).is_absolute() else str(site / line))
    return paths


def _finder_paths(module: Path) -> list[str]:
    """The ``sys.path`` entries an editable finder module stands for."""
    try:
        text = module.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    paths: list[str] = []
    match = _MAPPING.search(text)
    if match:
        try:
            mapping = ast.literal_eval(match.group(1))
        except (ValueError, SyntaxError):
            mapping = {}
        for name, where in dict(mapping).items():
            # MAPPING names a package's directory (or a module's file): its parent, minus
            # the package's own dotted depth, is the entry on sys.path
            depth = str(name).count(".") + 1
            paths.append(str(Path(str(where)).parents[depth - 1]))
    for where in _MAP_MODULE.findall(text):
        file = Path(where)
        paths.append(str(file.parent.parent if file.name == "__init__.py" else file.parent))
    return paths
