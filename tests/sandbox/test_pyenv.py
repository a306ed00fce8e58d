"""The project's own Python: found in the checkout, used for its tests, said why."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from swcollab.ecosystems import detect_test_command
from swcollab.ecosystems.python_env import editable_paths, find_python_env
from swcollab.sandbox import Isolation, TestCommand, run_tests
from tests.fakes.venv import VERSION, make_venv, site_packages

from .helpers import git, write


def project(root: Path, **extra: str) -> Path:
    write(
        root,
        {
            "tests/test_it.py": "def test_it():\n    assert True\n",
            "pyproject.toml": '[project]\nname = "p"\nversion = "0"\n',
            **extra,
        },
    )
    return root


def tool(bin_dir: Path, name: str, script: str) -> None:
    """A stand-in for an environment manager's CLI (poetry, hatch): prints what it would."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_dot_venv_at_the_checkout_root(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    python = make_venv(root / ".venv")
    found = find_python_env(root, {})
    assert found.python == str(python) and found.prefix == str(root / ".venv")
    assert found.reason == "found .venv/ at the checkout root" and not found.fallback
    command = detect_test_command(root, environ={})
    assert command is not None and command.argv == (str(python), "-m", "pytest")
    assert command.interpreter.endswith("(found .venv/ at the checkout root)")


def test_venv_and_uv_and_poetry_in_project(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    make_venv(root / "venv")
    assert find_python_env(root, {}).reason == "found venv/ at the checkout root"
    (root / "uv.lock").write_text("")
    make_venv(root / ".venv")
    found = find_python_env(root, {})
    assert found.kind == "uv" and found.reason == "found .venv/ at the checkout root (uv project)"
    custom = make_venv(tmp_path / "elsewhere")
    assert find_python_env(
        root, {"UV_PROJECT_ENVIRONMENT": str(tmp_path / "elsewhere")}
    ).python == str(custom)


def test_a_broken_venv_is_skipped_with_a_note(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    make_venv(root / ".venv")
    (root / ".venv" / "bin" / "python").unlink()
    (root / ".venv" / "bin" / "python").symlink_to(tmp_path / "gone")
    found = find_python_env(root, {})
    assert found.fallback and found.python == sys.executable
    assert any(".venv/ at the checkout root has no working python" in n for n in found.notes)


def test_active_virtualenv_inside_and_outside_the_checkout(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    inside = make_venv(root / "envs" / "dev")
    outside = make_venv(tmp_path / "wrapper" / "proj")
    make_venv(root / ".venv")
    # activated and inside the checkout: the user's choice, first
    assert find_python_env(root, {"VIRTUAL_ENV": str(root / "envs" / "dev")}).python == str(inside)
    # activated elsewhere: the checkout's own .venv is more specific
    assert find_python_env(root, {"VIRTUAL_ENV": str(outside.parent.parent)}).python == str(
        root / ".venv" / "bin" / "python"
    )
    (root / ".venv" / "bin" / "python").unlink()
    (root / ".venv" / "bin" / "python3").unlink()
    found = find_python_env(root, {"VIRTUAL_ENV": str(outside.parent.parent)})
    assert found.python == str(outside) and "VIRTUAL_ENV" in found.reason


def test_poetry_and_hatch_environments_through_their_tools(tmp_path: Path, monkeypatch) -> None:
    bin_dir = tmp_path / "bin"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    poetry_env = tmp_path / "cache" / "pypoetry" / "virtualenvs" / "p-abc-py3"
    make_venv(poetry_env)
    # poetry is asked without plugins (a project's requires-plugins would run), and sees
    # none of our keys
    tool(
        bin_dir,
        "poetry",
        f'[ -z "$OPENAI_API_KEY" ] && [ "$*" = "--no-plugins env info -p" ] && echo {poetry_env}'
        " && exit 0\nexit 1\n",
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-users-key")
    root = project(tmp_path / "p", **{"pyproject.toml": "[tool.poetry]\nname = 'p'\n"})
    found = find_python_env(root, {})
    assert found.kind == "poetry" and found.prefix == str(poetry_env)

    hatch_env = tmp_path / "hatch" / "env" / "virtual" / "p" / "hatch-test.py3"
    make_venv(hatch_env)
    tool(
        bin_dir,
        "hatch",
        # a matrix: one path per Python, only some of them created
        f'[ "$*" = "env find hatch-test" ] && echo {hatch_env}13 && echo {hatch_env} '
        "&& exit 0\nexit 1\n",
    )
    other = project(
        tmp_path / "h", **{"pyproject.toml": "[build-system]\nrequires = ['hatchling']\n"}
    )
    found = find_python_env(other, {})
    assert found.kind == "hatch" and found.prefix == str(hatch_env)
    assert "hatch-test" in found.reason
    # a hatch project naming environment plugins: hatch would install and run them
    plugged = project(
        tmp_path / "hp",
        **{"pyproject.toml": "[tool.hatch.env]\nrequires = ['hatch-evil']\n"},
    )
    found = find_python_env(plugged, {})
    assert found.kind != "hatch" and any("environment plugins" in n for n in found.notes)
    # a tool that knows no environment: a note that says how to make one
    tool(bin_dir, "poetry", "exit 1\n")
    found = find_python_env(root, {})
    assert found.fallback
    assert any("poetry install" in note for note in found.notes)


def test_pdm_tox_and_nox(tmp_path: Path) -> None:
    pdm = project(tmp_path / "pdm")
    python = make_venv(tmp_path / "pdm-venvs" / "p-1")
    (pdm / ".pdm-python").write_text(str(python) + "\n")
    found = find_python_env(pdm, {})
    assert found.kind == "pdm" and found.python == str(python)

    pep582 = project(tmp_path / "pep582")
    (pep582 / "__pypackages__" / VERSION / "lib").mkdir(parents=True)
    found = find_python_env(pep582, {})
    assert found.kind == "pdm" and found.extra_paths == (
        str(pep582 / "__pypackages__" / VERSION / "lib"),
    )

    tox = project(tmp_path / "tox", **{"tox.ini": "[tox]\nenvlist = py3, lint\n"})
    make_venv(tox / ".tox" / "py3")
    make_venv(tox / ".tox" / "lint")
    newer = (tox / ".tox" / "py3").stat().st_mtime + 60
    os.utime(tox / ".tox" / "lint", (newer, newer))  # newer, but not a test environment
    found = find_python_env(tox, {})
    assert found.kind == "tox" and found.reason == "tox environment .tox/py3"

    nox = project(tmp_path / "nox", **{"noxfile.py": "import nox\n"})
    make_venv(nox / ".nox" / "tests")
    assert find_python_env(nox, {}).reason == "nox environment .nox/tests"


def test_conda_and_the_fallback(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    conda = make_venv(tmp_path / "miniconda3" / "envs" / "p")
    found = find_python_env(root, {"CONDA_PREFIX": str(conda.parent.parent)})
    assert found.kind == "conda" and found.python == str(conda)
    found = find_python_env(root, {})
    assert found.fallback and found.python == sys.executable and found.kind == "swc"
    assert "no environment of the project was found" in found.reason


def test_relative_program_in_test_cmd_resolves_against_the_checkout(tmp_path: Path) -> None:
    checkout = project(tmp_path / "checkout", **{"run-tests.sh": "#!/bin/sh\n"})
    worktree = project(tmp_path / "worktree", **{"run-tests.sh": "#!/bin/sh\n"})
    python = make_venv(checkout / ".venv")
    command = detect_test_command(
        worktree, ".venv/bin/python -m pytest -q", checkout=checkout, environ={}
    )
    assert command is not None
    assert command.argv == (str(python), "-m", "pytest", "-q")
    assert command.python_env is not None and command.python_env.reason == "named in test_cmd"
    # a tracked script is the worktree's own (the patched copy)
    command = detect_test_command(worktree, "./run-tests.sh", checkout=checkout, environ={})
    assert command is not None and command.argv == ("./run-tests.sh",)
    # a bare name: the project's environment goes first on PATH, as if activated
    command = detect_test_command(worktree, "pytest -q", checkout=checkout, environ={})
    assert command is not None and command.python_env is not None
    assert command.python_env.prefix == str(checkout / ".venv")


def test_the_run_uses_the_projects_venv_and_its_packages(tmp_path: Path) -> None:
    """A test needing a module only the project's .venv has passes with no test_cmd."""
    checkout = project(
        tmp_path / "p",
        **{
            "tests/test_it.py": "import sys\nimport projdep\n\n\ndef test_it():\n"
            "    assert projdep.VALUE == 42\n    print('PREFIX', sys.prefix)\n"
        },
    )
    git(checkout, "init", "-q")
    make_venv(checkout / ".venv", modules={"projdep.py": "VALUE = 42\n"})
    command = detect_test_command(checkout, environ={})
    assert command is not None
    for isolation in (Isolation(), Isolation(sandbox=False)):
        run = run_tests(checkout, command, timeout=120, isolation=isolation)
        assert run.status_of("tests/test_it.py::test_it") == "passed", run.output
    without = TestCommand((sys.executable, "-m", "pytest"), "flag")
    run = run_tests(checkout, without, timeout=120)
    assert run.status_of("tests/test_it.py") == "error"  # swc's own python lacks projdep


LIB_LAYOUT = {
    "lib/calc/__init__.py": "",
    "lib/calc/ops.py": "def add(a, b):\n    return a - b\n",
    "setup.py": "from setuptools import setup\nsetup(name='calc', version='0', "
    "packages=['calc'], package_dir={'': 'lib'})\n",
    "tests/test_ops.py": "import calc\nfrom calc.ops import add\n\n\ndef test_add():\n"
    "    print('IMPORTED', calc.__file__)\n    assert add(2, 3) == 5\n",
}


@pytest.mark.slow
def test_a_real_editable_install_does_not_shadow_the_worktree(tmp_path: Path) -> None:
    """pip install -e of the checkout into its .venv (a layout PYTHONPATH alone does not
    cover): the worktree's patched code is what its tests import, sandbox on and off."""
    checkout = tmp_path / "checkout"
    write(checkout, LIB_LAYOUT)
    git(checkout, "init", "-q")
    base = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(base), "-m", "venv", str(checkout / ".venv")], check=True)
    venv_python = checkout / ".venv" / "bin" / "python"
    pip = [
        str(venv_python),
        "-m",
        "pip",
        "install",
        "-q",
        "--no-index",
        "--no-deps",
        "--no-build-isolation",
        "-e",
        str(checkout),
    ]
    installed = subprocess.run(pip, capture_output=True, text=True)
    if installed.returncode != 0:  # PEP 660 needs `wheel` with older setuptools: offline,
        # setuptools' own develop mode is the editable install there is
        installed = subprocess.run(
            [str(venv_python), "setup.py", "-q", "develop"],
            cwd=checkout,
            capture_output=True,
            text=True,
        )
    if installed.returncode != 0:
        pytest.skip(f"no offline editable install here: {installed.stderr[-300:]}")
    (site_packages(checkout / ".venv") / "zz.pth").write_text(
        "\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n"
    )
    assert "lib" in editable_paths(checkout / ".venv", checkout)
    worktree = tmp_path / "worktree"
    write(worktree, {**LIB_LAYOUT, "lib/calc/ops.py": "def add(a, b):\n    return a + b\n"})
    git(worktree, "init", "-q")
    command = detect_test_command(worktree, checkout=checkout, environ={})
    assert command is not None and command.argv[0] == str(venv_python)
    for isolation in (Isolation(), Isolation(sandbox=False)):
        run = run_tests(
            worktree, command, timeout=120, isolation=isolation, selection=["tests/test_ops.py"]
        )
        assert run.status_of("tests/test_ops.py::test_add") == "passed", run.output
    # and the same environment in the checkout itself imports the checkout (unpatched)
    run = run_tests(
        checkout,
        detect_test_command(checkout, environ={}),
        timeout=120,
        isolation=Isolation(sandbox=False),
    )
    assert run.status_of("tests/test_ops.py::test_add") == "failed"


def test_editable_finders_and_pth_files_are_read(tmp_path: Path) -> None:
    checkout = tmp_path / "co"
    prefix = tmp_path / "env"
    make_venv(prefix, with_pytest=False)
    site = site_packages(prefix)
    (site / "__editable__.a-0.pth").write_text(
        "import __editable___a_0_finder; __editable___a_0_finder.install()\n"
    )
    (site / "__editable___a_0_finder.py").write_text(
        f"MAPPING: dict[str, str] = {{'a': '{checkout}/python/a', "
        f"'ns.b': '{checkout}/other/ns/b'}}\nNAMESPACES = {{}}\n"
    )
    (site / "plain.pth").write_text(f"{checkout}/src\n/usr/lib/elsewhere\n")
    (site / "_c.pth").write_text("import _c\n")
    (site / "_c.py").write_text(f"F.map_module('c', '{checkout}/cdir/c/__init__.py')\n")
    assert editable_paths(prefix, checkout) == ("python", "other", "cdir", "src")


def test_a_sibling_project_installed_in_editable_mode_is_visible_in_the_sandbox(
    tmp_path: Path,
) -> None:
    """The environment's .pth names a directory elsewhere (here under /tmp, which the
    sandbox hides): it is shown read-only, so the tests import it as they do outside."""
    sibling = tmp_path / "code" / "otherlib" / "src"
    write(sibling, {"otherlib.py": "ANSWER = 42\n"})
    checkout = project(
        tmp_path / "p",
        **{
            "tests/test_it.py": "import otherlib\n\n\ndef test_it():\n"
            "    assert otherlib.ANSWER == 42\n"
        },
    )
    git(checkout, "init", "-q")
    make_venv(checkout / ".venv", modules={"__editable__.otherlib-0.pth": f"{sibling}\n"})
    command = detect_test_command(checkout, environ={})
    assert command is not None and command.python_env is not None
    assert str(sibling) in command.python_env.site_paths
    run = run_tests(checkout, command, timeout=120)
    assert run.status_of("tests/test_it.py::test_it") == "passed", run.output


def test_test_ids_do_not_carry_the_worktree_path(tmp_path: Path) -> None:
    """A parametrized id made of a path (tmp_path, __file__) is the same in every worktree."""
    ids = []
    for name in ("one", "two"):
        root = project(
            tmp_path / name,
            **{
                "tests/test_it.py": "import pytest, pathlib\n\n\n"
                "@pytest.mark.parametrize('p', [str(pathlib.Path(__file__))])\n"
                "def test_it(p):\n    assert pathlib.Path(p).exists()\n"
            },
        )
        git(root, "init", "-q")
        run = run_tests(root, TestCommand((sys.executable, "-m", "pytest"), "flag"), timeout=120)
        ids.append([r.test_id for r in run.results])
    assert ids[0] == ids[1] == ["tests/test_it.py::test_it[<worktree>/tests/test_it.py]"]
