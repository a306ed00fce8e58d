"""Virtualenvs for tests, made in a fraction of a second: the layout ``python -m venv``
writes (``pyvenv.cfg``, ``bin/python`` linked to the base interpreter, an empty
site-packages), optionally seeing this interpreter's packages (pytest) and holding
modules of its own, which swc's own interpreter does not have."""

from __future__ import annotations

import sys
from pathlib import Path

VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"


def base_python() -> Path:
    return Path(getattr(sys, "_base_executable", sys.executable)).resolve()


def site_packages(prefix: Path) -> Path:
    return prefix / "lib" / f"python{VERSION}" / "site-packages"


def make_venv(
    prefix: Path, *, with_pytest: bool = True, modules: dict[str, str] | None = None
) -> Path:
    """A virtualenv at ``prefix``; returns its python. ``with_pytest``: it sees the
    packages of the interpreter running the tests (pytest among them) through a .pth."""
    base = base_python()
    (prefix / "bin").mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_text(
        f"home = {base.parent}\ninclude-system-site-packages = false\n"
        f"version = {sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}\n"
    )
    python = prefix / "bin" / "python"
    python.symlink_to(base)
    (prefix / "bin" / "python3").symlink_to("python")
    site = site_packages(prefix)
    site.mkdir(parents=True)
    if with_pytest:
        ours = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
        (site / "zz_test_packages.pth").write_text("\n".join(ours) + "\n")
    for name, text in (modules or {}).items():
        (site / name).write_text(text)
    return python
