"""Prompt templates are data: one Jinja file per purpose, rendered with StrictUndefined.

A repository may point ``prompts_dir`` at its own copies (a key that needs the user's
trust, resolved inside the repository or the user's config directory by ``config``); a
template missing there falls back to the packaged one. Templates render in Jinja's
sandboxed environment: one reaching ``os.system`` through ``''.__class__...`` is an
error, not a command run. A template file that is a symlink out of its directory is
refused.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError

PACKAGE_DIR = Path(__file__).parent


@lru_cache(maxsize=8)
def _environment(prompts_dir: str | None) -> Any:
    import jinja2.sandbox

    search = [str(PACKAGE_DIR)]
    if prompts_dir:
        if not Path(prompts_dir).is_dir():
            raise ConfigError(f"prompts_dir {prompts_dir}: not a directory")
        search.insert(0, prompts_dir)
    return jinja2.sandbox.SandboxedEnvironment(
        loader=_contained_loader(search),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


# A user message may carry this key: how many of its first characters are the part every
# request of the run repeats (``_shared.j2``: brief, map, code). Providers that cache only
# marked prefixes (Anthropic) get a cache mark there; the key never reaches a provider.
SHARED_PREFIX = "swc_shared_prefix"


def _contained_loader(search: list[str]) -> Any:
    """A file loader that reads a template only from inside its search directory: a
    template that is (or sits under) a symlink leading out of it is refused."""
    import jinja2
    from jinja2.loaders import split_template_path

    class ContainedLoader(jinja2.FileSystemLoader):
        def get_source(self, environment: Any, template: str) -> Any:
            for top in self.searchpath:
                candidate = Path(top, *split_template_path(template))
                if candidate.is_file():
                    root = Path(top).resolve()
                    if root not in candidate.resolve().parents:
                        raise ConfigError(
                            f"prompt template {template} in {top} links outside it "
                            f"(to {candidate.resolve()}): refused"
                        )
                    break
            return super().get_source(environment, template)

    return ContainedLoader(search)


def chat(
    name: str, *, prompts_dir: str | None = None, small: bool = False, **variables: Any
) -> list[dict[str, Any]]:
    """The messages of one request: the system prompt, then ``<name>.j2`` as the user's.

    When the user message starts with the run's shared part (``_shared.j2`` rendered with
    the same variables), its length is kept under ``SHARED_PREFIX``."""
    content = render(name, prompts_dir=prompts_dir, small=small, **variables)
    user: dict[str, Any] = {"role": "user", "content": content}
    if "files" in variables:
        shared = render("_shared", prompts_dir=prompts_dir, small=small, **variables)
        if shared.strip() and content.startswith(shared):
            user[SHARED_PREFIX] = len(shared)
    return [
        {"role": "system", "content": render("system", prompts_dir=prompts_dir, small=small)},
        user,
    ]


def plain(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The messages as a provider (or a person) reads them: role and content only."""
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def render(name: str, *, prompts_dir: str | None = None, **variables: Any) -> str:
    """Render ``<name>.j2``; a variable the template uses but nobody passed is an error."""
    import jinja2

    try:
        return _environment(prompts_dir).get_template(f"{name}.j2").render(**variables)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"prompt template {name}.j2 not found") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"prompt template {name}.j2: {exc}") from None
