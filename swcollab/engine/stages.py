"""The engine's model-facing steps besides drafting: tests, guidance, routing, judging."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from ..gitrepo import reset_worktree
from ..prompts import chat
from ..task import Task
from ..treesitter import language_for_path
from .attempts import context_vars
from .testplan import (
    REASON_NO_TESTS,
    TestPlan,
    classify_base_run,
    generated_test_path,
    keep_only,
    parse_test_answer,
    write_inside,
)
from .types import Attempt, Context, DiscardedTest, Event, EventSink, GeneratedTest

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
    plan: TestPlan,
    base_root: Path,
    prompts_dir: str | None,
    on_event: EventSink,
    small: bool = False,
) -> TestPlan:
    """Ask ``tier`` for reproduction tests: ``plan`` with those that fail on the base kept
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
        messages = chat("tests", prompts_dir=prompts_dir, small=small, count=count,
                        framework=FRAMEWORKS.get(language, language), import_hint=hint,
                        previous_failure=previous_failure, test_path=path,
                        language=language, **context_vars(context, task.text))
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
            run = plan.run(base_root, [path])
        finally:
            # Back to the base, whatever the test wrote: later tests are judged there too.
            reset_worktree(base_root)
        kept, discarded = classify_base_run(run, path, task.text, plan.command)
        discards += [DiscardedTest(tier, test_id, reason) for test_id, reason in discarded]
        if kept:
            test = GeneratedTest(path, keep_only(code, path, kept), language, tier, tuple(kept))
            on_event(Event("tests", f"kept {len(kept)} test(s) that fail on the base", tier,
                           {"kept": len(kept), "discarded": len(discarded)}))
            return plan.with_tests([test], discards)
        reasons = "; ".join(f"{tid}: {why}" for tid, why in discarded) or "no test ran"
        previous_failure = f"{reasons}\n\nTest output:\n{clip_output(run.output, 2000)}"
        on_event(Event("tests", f"no usable test ({reasons[:120]})", tier))
    return plan.with_tests((), discards)


def write_guidance(
    *, client: ModelClient, kind: str, task: Task, context: Context, prompts_dir: str | None
) -> str:
    """The strong model's plan (``plan``) or newcomer FAQ (``faq``) for the weak model."""
    messages = chat(kind, prompts_dir=prompts_dir, **context_vars(context, task.text))
    return client.complete("strong", messages, purpose=kind).text.strip()


_JSON_OBJECT = re.compile(r"\{.*?\}", re.S)


def parse_json_object(text: str) -> dict | None:
    for match in _JSON_OBJECT.finditer(text):
        try:
            value = json.loads(match.group(0))
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def route_task(
    *, client: ModelClient, router: str, task: Task, context: Context, prompts_dir: str | None
) -> tuple[str | None, str]:
    """Ask the router tier where the task starts; (None, why) when its answer is unusable."""
    messages = chat("route", prompts_dir=prompts_dir, **context_vars(context, task.text))
    reply = client.complete(router, messages, purpose="route", temperature=0.0)
    answer = parse_json_object(reply.text)
    if not answer or answer.get("tier") not in ("weak", "strong"):
        return None, f"router answer unusable ({reply.text.strip()[:80]!r}); plain cascade"
    return str(answer["tier"]), str(answer.get("reason", ""))[:300]


def normalise_diff(diff: str) -> str:
    """A diff's added and removed lines without whitespace or comments, for voting."""
    lines = []
    for line in diff.splitlines():
        if not line or line[0] not in "+-" or line.startswith(("+++", "---")):
            continue
        body = re.sub(r"\s+", "", re.split(r"#|//", line[1:], maxsplit=1)[0])
        if body:
            lines.append(line[0] + body)
    return "\n".join(lines)


def pick_by_consistency(candidates: list[Attempt]) -> tuple[Attempt, str]:
    """The candidate of the largest group of equivalent diffs (earliest on a tie)."""
    groups = Counter(normalise_diff(a.diff) for a in candidates)
    key, size = groups.most_common(1)[0]
    chosen = next(a for a in candidates if normalise_diff(a.diff) == key)
    return chosen, f"self-consistency: {size} of {len(candidates)} candidates made this change"


def pick_by_strong_judge(
    *, client: ModelClient, candidates: list[Attempt], task: Task, context: Context,
    prompts_dir: str | None, passing: bool = False, tier: str = "strong",
) -> tuple[Attempt, str]:
    """``tier`` reads the candidates and picks one: ``judge.j2`` when no test could decide,
    ``pick.j2`` when all of them pass the tests (best-of-n)."""
    template = "pick" if passing else "judge"
    messages = chat(template, prompts_dir=prompts_dir, candidates=[a.diff for a in candidates],
                    **context_vars(context, task.text))
    reply = client.complete(tier, messages, purpose=template, temperature=0.0)
    answer = parse_json_object(reply.text) or {}
    choice = answer.get("choice")
    if isinstance(choice, int) and not isinstance(choice, bool) and 1 <= choice <= len(candidates):
        return candidates[choice - 1], f"strong-model review: {answer.get('reason', '')}"[:300]
    chosen, why = pick_by_consistency(candidates)
    return chosen, "strong-model review gave no usable choice; " + why
