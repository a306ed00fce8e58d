"""The engine through its seam, in-process: a ``FakeModel`` in the providers' place and
an in-process test runner in the sandbox's place, on a real git repository.

``InProcessRunner`` runs a Python test file's ``test_*`` functions in this process. It
is for tests of the engine's logic only, on the small trusted project of
``tests/engine/conftest.py``: model-written code never runs outside the sandbox in swc
itself (the sandbox has its own tests).
"""

from __future__ import annotations

import ast
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from swcollab.config import Settings, TierSettings
from swcollab.engine import FixRequest, RunResult
from swcollab.engine.fix import run_fix
from swcollab.gitrepo import RepoPaths
from swcollab.models.fake import FakeModel
from swcollab.sandbox import Isolation, TestCommand, TestResult, TestRun
from swcollab.task import task_from_prompt

TASK = "add(2, 3) returns -1 instead of 5: the sum is wrong"
PRICES = {"weak": (1.0, 2.0), "mid": (3.0, 6.0), "strong": (10.0, 40.0)}


class InProcessRunner:
    """Runs the selected Python test files' ``test_*`` functions in this process.

    A file that cannot be parsed or imported is a collection error (as pytest reports
    it); a test that raises fails with the exception's line as its message."""

    __test__ = False

    def __init__(self) -> None:
        self.runs: list[tuple[Path, tuple[str, ...]]] = []

    def run(
        self,
        root: Path,
        command: TestCommand,
        *,
        timeout: float,
        selection: Sequence[str] = (),
        isolation: Isolation | None = None,
    ) -> TestRun:
        started = time.monotonic()
        self.runs.append((root, tuple(selection)))
        results: list[TestResult] = []
        for file, names in _by_file(selection).items():
            if (root / file).is_file():
                results += _run_file(root, file, names)
        failed = any(r.status != "passed" for r in results)
        output = "\n".join(f"{r.test_id} {r.status.upper()} {r.message}" for r in results)
        return TestRun(
            1 if failed else 0,
            False,
            output or "collected 0 items",
            time.monotonic() - started,
            tuple(results),
            tuple(command.argv),
        )


def _by_file(selection: Sequence[str]) -> dict[str, set[str] | None]:
    """file -> the test names asked for (None: all of the file's)."""
    wanted: dict[str, set[str] | None] = {}
    for item in selection:
        file, _, name = item.partition("::")
        names = wanted.get(file, set())
        if not name:
            wanted[file] = None
        elif names is not None:
            wanted[file] = names | {name}
    return wanted


def _run_file(root: Path, file: str, names: set[str] | None) -> list[TestResult]:
    source = (root / file).read_text(encoding="utf-8")
    namespace: dict[str, Any] = {"__name__": "swc_inprocess_test"}
    _forget_project_modules(root)
    sys.path.insert(0, str(root))
    try:
        exec(compile(source, str(root / file), "exec"), namespace)
    except Exception as exc:  # a collection error, as pytest reports it
        return [TestResult(file, "error", _line(exc), file)]
    finally:
        sys.path.remove(str(root))
    results = []
    for name in _test_names(source):
        if names is not None and name not in names:
            continue
        try:
            namespace[name]()
        except Exception as exc:  # the test failed
            results.append(TestResult(f"{file}::{name}", "failed", _line(exc), file))
        else:
            results.append(TestResult(f"{file}::{name}", "passed", "", file))
    _forget_project_modules(root)
    return results


def _test_names(source: str) -> list[str]:
    tree = ast.parse(source)
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test")
    ]


def _forget_project_modules(root: Path) -> None:
    """Each run imports the worktree's own code, not a module an earlier run loaded."""
    tops = {p.name for p in root.iterdir() if p.is_dir()} | {p.stem for p in root.glob("*.py")}
    for name in [m for m in sys.modules if m.split(".")[0] in tops]:
        del sys.modules[name]


def _line(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def fake_settings(**overrides: Any) -> Settings:
    """Priced tiers (so the budget counts), the in-process runner's nominal command."""
    tiers = {
        name: TierSettings(
            name,
            model=f"openai/{name}-model",
            api_base="http://127.0.0.1:9/v1",
            input_cost_per_mtok=prices[0],
            output_cost_per_mtok=prices[1],
            candidates=2 if name == "weak" else 1,
            tests=1,
        )
        for name, prices in PRICES.items()
    }
    values: dict[str, Any] = {
        "weak": tiers["weak"],
        "strong": tiers["strong"],
        "budget": 1.0,
        "test_cmd": f"{sys.executable} -m pytest -q",
        "sandbox": "off",
    }
    if overrides.get("tier_order", "").count(",") > 1:
        values["extra_tiers"] = (tiers["mid"],)
    values.update(overrides)
    return Settings(**values)


def fix(
    project: Path,
    model: FakeModel,
    *,
    task: str = TASK,
    runner: InProcessRunner | None = None,
    **request: Any,
) -> RunResult:
    """``swc fix`` through the seam; ``request`` holds FixRequest fields and settings."""
    settings = request.pop("settings", None)
    fields = {k: request.pop(k) for k in list(request) if k in FixRequest.__dataclass_fields__}
    settings = settings or fake_settings(**request)
    paths = RepoPaths(project, project / ".git")
    fix_request = FixRequest(task_from_prompt(task), paths, settings, **fields)
    return run_fix(fix_request, model=model, test_runner=runner or InProcessRunner())
