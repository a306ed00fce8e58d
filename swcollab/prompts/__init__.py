"""Prompt templates are data: one Jinja file per purpose, rendered with StrictUndefined.

A repository may point ``prompts_dir`` at its own copies; a template missing there falls
back to the packaged one.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError

PACKAGE_DIR = Path(__file__).parent


@lru_cache(maxsize=8)
def _environment(prompts_dir: str | None) -> Any:
    import jinja2

    search = [str(PACKAGE_DIR)]
    if prompts_dir:
        if not Path(prompts_dir).is_dir():
            raise ConfigError(f"prompts_dir {prompts_dir}: not a directory")
        search.insert(0, prompts_dir)
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def chat(
    name: str, *, prompts_dir: str | None = None, small: bool = False, **variables: Any
) -> list[dict[str, str]]:
    """The messages of one request: the system prompt, then ``<name>.j2`` as the user's."""
    return [
        {"role": "system", "content": render("system", prompts_dir=prompts_dir, small=small)},
        {
            "role": "user",
            "content": render(name, prompts_dir=prompts_dir, small=small, **variables),
        },
    ]


def render(name: str, *, prompts_dir: str | None = None, **variables: Any) -> str:
    """Render ``<name>.j2``; a variable the template uses but nobody passed is an error."""
    import jinja2

    try:
        return _environment(prompts_dir).get_template(f"{name}.j2").render(**variables)
    except jinja2.TemplateNotFound:
        raise ConfigError(f"prompt template {name}.j2 not found") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"prompt template {name}.j2: {exc}") from None
