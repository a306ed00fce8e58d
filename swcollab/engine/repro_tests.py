"""Reproduction tests: a tier writes them, the base judges them (kept only when they
fail there for the task's reason), and the suite keeps them for every candidate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..gitrepo import reset_worktree
from ..prompts import chat
from ..task import Task
from .attempts import context_vars
from .testsuite import (
    REASON_NO_TESTS,
    TestSuite,
    classify_base_run,
    generated_test_path,
    parse_test_answer,
    write_inside,
)
from .types import Context, DiscardedTest, Event, EventSink, GeneratedTest

if TYPE_CHECKING:
    from ..ecosystems import NewTest
    from ..models import ModelClient


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
    from ..ecosystems import new_test
    from ..sandbox import clip_output

    anchor = context.files[0].path if context.files else None
    ecosystem, place = new_test(base_root, anchor, task.slug, tier, suite.command)
    path = generated_test_path(place.path, base_root)
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
            **_test_vars(place, path, suite, previous_failure),
            **context_vars(context, task.text),
        )
        reply = client.complete(tier, messages, purpose="tests")
        code = parse_test_answer(reply.text)
        if code is None:
            discards.append(DiscardedTest(tier, path, REASON_NO_TESTS))
            previous_failure = REASON_NO_TESTS + ": answer with one fenced code block."
            continue
        code = ecosystem.prepare_test(code, path, base_root, tier)
        refused = _write(base_root, path, code, place)
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
            text = ecosystem.keep_only(code, path, kept)
            test = GeneratedTest(path, text, place.language, tier, tuple(kept), place.attach)
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


def _test_vars(
    place: NewTest, path: str, suite: TestSuite, previous_failure: str
) -> dict[str, Any]:
    """What the tests prompt says about the new test, in its ecosystem's terms."""
    return {
        "framework": place.framework,
        "import_hint": place.import_hint,
        "test_notes": place.notes,
        "example_test": place.example,
        "example_path": place.example_path,
        "kept_tests": [g.path for g in suite.generated if g.kept_ids],
        "previous_failure": previous_failure,
        "test_path": path,
        "language": place.language,
    }


def _write(root: Path, path: str, code: str, place: NewTest) -> str | None:
    """Write the test where it goes, with the lines that make it compiled (``attach``)."""
    from .testsuite import attach_line

    refused = write_inside(root, path, code)
    for file, line in place.attach if refused is None else ():
        refused = attach_line(root, file, line)
    return refused
