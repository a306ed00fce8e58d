"""Reproduction tests: a tier writes them, the base judges them (kept only when they
fail there for the task's reason), and the suite keeps them for every candidate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..gitrepo import reset_worktree
from ..prompts import chat
from ..task import Task
from ..treesitter import language_for_path
from .attempts import context_vars
from .testsuite import (
    REASON_NO_TESTS,
    TestSuite,
    classify_base_run,
    generated_test_path,
    keep_only,
    parse_test_answer,
    write_inside,
)
from .types import Context, DiscardedTest, Event, EventSink, GeneratedTest

if TYPE_CHECKING:
    from ..models import ModelClient

FRAMEWORKS = {
    "python": "pytest",
    "go": "Go `testing`",
    "javascript": "JavaScript (the project's test runner)",
    "typescript": "TypeScript (the project's test runner)",
    "tsx": "TypeScript (the project's test runner)",
    "rust": "Rust integration",
    "ruby": "Ruby (minitest or RSpec, as the project uses)",
    "java": "JUnit",
}


def python_import_hint(path: str) -> str:
    """``src/pkg/mod.py`` -> ``from pkg.mod import ...`` (what a test would write)."""
    parts = list(Path(path).with_suffix("").parts)
    if parts and parts[0] in ("src", "lib"):
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return f"from {'.'.join(parts)} import ..." if parts else ""


def write_repro_tests(
    *,
    client: ModelClient,
    tier: str,
    count: int,
    task: Task,
    context: Context,
    suite: TestSuite,
    base_root: Path,
    prompts_dir: str | None,
    on_event: EventSink,
    small: bool = False,
) -> TestSuite:
    """Ask ``tier`` for reproduction tests: ``suite`` with those that fail on the base kept
    (and the others discarded, with why).

    One retry with the failure output (none for a tiny model)."""
    from ..sandbox import clip_output

    anchor = context.files[0].path if context.files else None
    path = generated_test_path(base_root, task.slug, tier, anchor)
    language = language_for_path(path) or "python"
    hint = python_import_hint(anchor) if anchor and language == "python" else ""
    previous_failure = ""
    discards: list[DiscardedTest] = []
    # A tiny model's tests are rarely usable: one try, not two, to save its slow calls.
    for _round in range(1 if small else 2):
        on_event(Event("tests", f"writing {count} reproduction test(s)", tier))
        messages = chat(
            "tests",
            prompts_dir=prompts_dir,
            small=small,
            count=count,
            framework=FRAMEWORKS.get(language, language),
            import_hint=hint,
            previous_failure=previous_failure,
            test_path=path,
            language=language,
            **context_vars(context, task.text),
        )
        reply = client.complete(tier, messages, purpose="tests")
        code = parse_test_answer(reply.text)
        if code is None:
            discards.append(DiscardedTest(tier, path, REASON_NO_TESTS))
            previous_failure = REASON_NO_TESTS + ": answer with one fenced code block."
            continue
        refused = write_inside(base_root, path, code)
        if refused:
            discards.append(DiscardedTest(tier, path, refused))
            break
        try:
            run = suite.run(base_root, [path])
        finally:
            # Back to the base, whatever the test wrote: later tests are judged there too.
            reset_worktree(base_root)
        kept, discarded = classify_base_run(run, path, task.text, suite.command)
        discards += [DiscardedTest(tier, test_id, reason) for test_id, reason in discarded]
        if kept:
            test = GeneratedTest(path, keep_only(code, path, kept), language, tier, tuple(kept))
            on_event(
                Event(
                    "tests",
                    f"kept {len(kept)} test(s) that fail on the base",
                    tier,
                    {"kept": len(kept), "discarded": len(discarded)},
                )
            )
            return suite.with_tests([test], discards)
        reasons = "; ".join(f"{tid}: {why}" for tid, why in discarded) or "no test ran"
        previous_failure = f"{reasons}\n\nTest output:\n{clip_output(run.output, 2000)}"
        on_event(Event("tests", f"no usable test ({reasons[:120]})", tier))
    return suite.with_tests((), discards)
