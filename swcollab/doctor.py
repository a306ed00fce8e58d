"""``swc doctor``: what this machine gives swc, gathered as plain data (the CLI renders it).

Each check is a ``Fact``: a name, what was found, and, when it stops ``swc fix`` from
running, the problem and how to fix it.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .config import Settings

if TYPE_CHECKING:
    from .sandbox import TestCommand


@dataclass(frozen=True)
class Fact:
    name: str
    value: str
    ok: bool = True
    blocking: bool = False  # swc fix cannot run until it is fixed
    hint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    facts: list[Fact]

    @property
    def ready(self) -> bool:
        return not any(f.blocking for f in self.facts)

    def as_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "facts": [asdict(f) for f in self.facts]}


def _swc() -> Fact:
    return Fact("swc", f"{__version__} on Python {platform.python_version()} ({sys.executable})")


def _git() -> Fact:
    from .gitrepo import git_version

    version = git_version()
    if version is None:
        return Fact(
            "git", "not found", ok=False, blocking=True, hint="Install git (e.g. apt install git)."
        )
    return Fact("git", version, details={"version": version})


def _repository(root: Path | None) -> Fact:
    if root is None:
        return Fact(
            "repository",
            "not inside a git repository",
            ok=False,
            hint="Run swc doctor in your project, or pass --repo PATH.",
        )
    return Fact("repository", str(root))


def _repo_config(root: Path | None, settings: Settings) -> Fact | None:
    """Whether the repository's configuration file is trusted (``swc trust``)."""
    from .config import config_files, read_repo_config
    from .trust import TRUST_VAR

    held = settings.untrusted
    if held is not None:
        return Fact(
            "repository config",
            f"{held.origin}: UNTRUSTED{' (changed since trusted)' if held.changed else ''}; "
            f"not applied: {', '.join(held.values)}",
            ok=False,
            blocking=True,
            hint=f"Check those keys, then run `swc trust` (CI: {TRUST_VAR}=1).",
            details={"file": held.origin, "trusted": False, "keys": list(held.values)},
        )
    repo = read_repo_config(config_files(root)) if root is not None else None
    if repo is None:
        return None
    return Fact(
        "repository config",
        f"{repo.origin}: trusted, or sets no key that needs trust",
        details={"file": repo.origin, "trusted": True, "keys": []},
    )


def sandbox_fact(settings: Settings) -> Fact:
    """Which sandbox model-written code gets here, and why not when it gets none."""
    from .sandbox import Isolation, probe_sandbox

    isolation = Isolation.from_settings(settings)
    info = probe_sandbox()
    details = {
        **info.as_dict(),
        "setting": settings.sandbox,
        "network_isolated": not isolation.network,
    }
    network = (
        "network isolated"
        if not isolation.network
        else "host network shared (network_isolation = false)"
    )
    if not isolation.sandbox:
        where = settings.sources.get("sandbox", "config")
        return Fact(
            "sandbox",
            f'OFF (sandbox = "off", from {where}): model-written tests run '
            f"with your rights; this machine offers: {info.describe()}",
            ok=False,
            hint='Remove sandbox = "off" to run them in the sandbox again.',
            details=details,
        )
    if not info.available:
        return Fact(
            "sandbox", info.describe(), ok=False, blocking=True, hint=info.fix, details=details
        )
    return Fact("sandbox", f"{info.describe()}; {network}", details=details)


def limits_fact(settings: Settings) -> Fact:
    """The resource limits of a sandboxed test run here, and how each is held."""
    from .sandbox import Isolation, probe_sandbox
    from .sandbox.limits import limits_overview

    isolation = Isolation.from_settings(settings)
    info = probe_sandbox()
    if not isolation.sandbox or not info.available:
        return Fact("limits", "none: no sandbox (only test_timeout bounds a test run)", ok=False)
    line, details, held = limits_overview(isolation.limits, info.kind, info.program)
    hint = None
    if not held:
        hint = (
            'Run swc where it may make a cgroup (docs/guide/sandbox.md, "Resource limits"): '
            "e.g. under `systemd-run --user --scope swc ...`, or as a user other than root."
        )
    return Fact("limits", f"{details['mechanism']}: {line}", ok=held, hint=hint, details=details)


def _tests(root: Path | None, settings: Settings) -> Fact:
    """The test command ``swc fix`` would run, and whether it can start here: without one
    that can, no patch can be judged (blocking, naming what to set in the project's terms)."""
    from .ecosystems import default_test_command, detect_test_command, project_ecosystem
    from .errors import SwcError

    if root is None:
        return Fact("tests", "no repository", ok=False)
    try:
        command = detect_test_command(
            root,
            settings.test_cmd,
            source=settings.sources.get("test_cmd", "config"),
            checkout=root,
        ) or default_test_command(root, root)
    except SwcError as exc:
        return Fact("tests", exc.message, ok=False, blocking=True, hint=exc.hint)
    if command is None:
        ecosystem = project_ecosystem(root)
        return Fact(
            "tests",
            "no test command found",
            ok=False,
            blocking=True,
            hint=_sentence(ecosystem.set_test_cmd() + "."),
        )
    problem = _cannot_start(root, command)
    if problem is not None:
        return problem
    python_env = command.python_env
    if python_env is not None:
        return Fact(
            "tests",
            f"{command.display}; interpreter: {command.interpreter}",
            ok=not python_env.fallback,
            hint="Create the project's environment (.venv/ at the checkout root) or "
            "set test_cmd to a command using it."
            if python_env.fallback
            else None,
            details=python_env.as_dict(),
        )
    return Fact("tests", _shown(command))


def _cannot_start(root: Path, command: TestCommand) -> Fact | None:
    """A blocking fact when the command cannot start here (its program, or what its
    ecosystem needs, is missing), with the fix in the project's terms."""
    from .ecosystems import ecosystem_of
    from .sandbox.runner import run_env

    ecosystem = ecosystem_of(command)
    path = run_env(root, command).get("PATH", "")
    why = ecosystem.cannot_start(root, command, path)
    if why is None:
        return None
    setup = f"{ecosystem.setup_hint}, or " if ecosystem.setup_hint else "install it, or "
    return Fact(
        "tests",
        f"{command.display}: cannot start: {why}",
        ok=False,
        blocking=True,
        hint=_sentence(f"{setup}{ecosystem.set_test_cmd()}."),
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _shown(command: TestCommand) -> str:
    """The command, and the runner swc starts in its place when it does."""
    return f"{command.display}; runs {command.runner}" if command.runner else command.display


def _models(settings: Settings) -> list[Fact]:
    facts = []
    local = importlib.util.find_spec("llama_cpp") is not None
    for tier in settings.tiers:
        if tier.model is None:
            value = (
                "embedded local model (SmolLM2)"
                if local
                else "not configured (and the local extra is not installed)"
            )
            facts.append(
                Fact(
                    f"{tier.name} model",
                    value,
                    ok=local,
                    hint=None
                    if local
                    else f"Set {tier.name}.model in .swc.toml, or install swcollab[local].",
                )
            )
            continue
        missing = tier.api_key_env and not os.environ.get(tier.api_key_env)
        facts.append(
            Fact(
                f"{tier.name} model",
                tier.model,
                ok=not missing,
                hint=f"{tier.api_key_env} is not set" if missing else None,
            )
        )
    return facts


def gather(root: Path | None, settings: Settings) -> Report:
    trust = _repo_config(root, settings)
    facts = [
        _swc(),
        _git(),
        _repository(root),
        *([trust] if trust is not None else []),
        sandbox_fact(settings),
        limits_fact(settings),
        _tests(root, settings),
        *_models(settings),
    ]
    return Report(facts)
