"""Pieces shared by the command modules: the app object, option bundles, repository lookup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from ..config import Settings, load_settings, require_trust
from ..gitrepo import RepoPaths, find_repo, require_repo

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class AppContext:
    debug: bool = False
    repo_path: str | None = None
    trust_repo_config: bool = False  # --trust-repo-config: CI trusts the repository's file
    _repo: RepoPaths | None = field(default=None, repr=False)

    def start(self) -> Path | None:
        return Path(self.repo_path) if self.repo_path else None

    def repo(self) -> RepoPaths:
        """The repository to work on; raises exit 3 outside a git repository."""
        if self._repo is None:
            self._repo = require_repo(self.start())
        return self._repo

    def maybe_repo(self) -> RepoPaths | None:
        """The repository, or None outside one; an explicit ``--repo`` must be one (exit 3)."""
        if self.repo_path:
            return self.repo()
        if self._repo is None:
            self._repo = find_repo(self.start())
        return self._repo

    def settings(
        self,
        flags: dict[str, Any] | None = None,
        *,
        need_repo: bool = True,
        check_trust: bool = True,
    ) -> Settings:
        """The effective settings. Unless ``check_trust`` is false (commands that only show
        or map), a repository file setting keys it was not trusted with stops the command
        here, before any model call or test run (exit 2, one line naming them)."""
        repo = self.repo() if need_repo else self.maybe_repo()
        settings = load_settings(
            repo.root if repo else None, flags, trust_repo=self.trust_repo_config
        )
        if check_trust:
            require_trust(settings)
        return settings


pass_app = click.make_pass_decorator(AppContext, ensure=True)


class FiniteFloat(click.ParamType):
    """A number within ``[low, high]``: ``inf`` and ``nan`` are refused (exit 2)."""

    name = "number"

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not self.low <= number <= self.high:  # also false for nan
            self.fail(
                f"{value!r} must be a finite number from {self.low:g} to {self.high:g}", param, ctx
            )
        return number


def json_option(func: F) -> F:
    return click.option(
        "--json", "json_", is_flag=True, help="Print one JSON document on stdout, nothing else."
    )(func)
