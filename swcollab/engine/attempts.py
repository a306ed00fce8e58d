"""Attempts stage: one candidate patch drafted by a tier, applied and tested in a worktree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..edits.codefiles import review_flags
from ..gitrepo import apply_patch, restore_paths
from ..prompts import chat, render
from .flaky import find_flaky
from .testchange import allowed_for, review_test_edits
from .testsuite import TestSuite
from .types import (
    KIND_CHANGED,
    Attempt,
    Context,
    Event,
    EventSink,
    GeneratedTest,
    TestChange,
    TestOutcome,
    TierPlan,
    TierView,
)

if TYPE_CHECKING:
    from ..edits.types import BlockOutcome, EditResult
    from ..models import ModelClient
    from ..sandbox import Worktree
    from .sampling import SamplePool

FAILURE_CHARS = 3000


@dataclass(frozen=True)
class Previous:
    """What an earlier attempt tried, for the next prompt (pipeline collaboration)."""

    diff: str
    failure: str


def context_vars(context: Context, task_text: str) -> dict[str, Any]:
    return {
        "task_text": task_text,
        "test_output": context.test_output,
        "brief": context.brief,
        "examples": list(context.examples),
        "repo_map": context.repo_map,
        "files": list(context.files),
    }


def tier_context(context: Context, view: TierView) -> Context:
    """The context as a tier sees it (``view``): the code packed for its budget, or for a
    tiny model the best spans of one file; without the brief or the examples where the
    view leaves them out."""
    from .context import trim_for_small_model

    if view.trimmed:
        shown = trim_for_small_model(context)
    else:
        shown = replace(context, files=context.files_for(view.context_tokens))
    if not view.brief:
        shown = replace(shown, brief="")
    if not view.examples:
        shown = replace(shown, examples=())
    return shown


def may_change_tests(test_change_mode: str, tier: str, small: bool) -> bool:
    """Whether ``tier`` is told how to change existing tests (a tiny model never is)."""
    return bool(tier) and allowed_for(test_change_mode, tier) and not small


def patch_messages(
    *,
    edit_format: str,
    context: Context,
    task_text: str,
    tests: Sequence[GeneratedTest],
    guidance: tuple[str, str] | None = None,
    previous: Previous | None = None,
    prompts_dir: str | None = None,
    small: bool = False,
    may_change_tests: bool = False,
    sample: tuple[int, int] = (1, 1),
) -> list[dict[str, str]]:
    """The messages of one patch request; ``swc context`` prints exactly these.

    ``guidance`` is the strong model's (text, title); ``may_change_tests`` says whether
    the tier is told how to change existing tests (``may_change_tests()``). ``sample`` is
    (index, of) among a tier's candidates: candidates of one tier are told apart in their
    prompts, since an identical request would be a repeated paid call (and a provider or
    proxy cache could answer it with the same reply).
    """
    template = "patch_whole" if edit_format == "whole" else "patch_search_replace"
    shown = [{"path": g.path, "language": g.language, "text": g.text} for g in tests if g.kept_ids]
    text, title = guidance or ("", "")
    messages = chat(
        template,
        prompts_dir=prompts_dir,
        small=small,
        guidance=text,
        guidance_title=title,
        previous=previous,
        tests=shown,
        test_changes_allowed=may_change_tests,
        **context_vars(context, task_text),
    )
    index, of = sample
    if of > 1:
        note = render("candidate_note", prompts_dir=prompts_dir, index=index, of=of)
        messages[-1] = {**messages[-1], "content": messages[-1]["content"] + note}
    return messages


@dataclass(frozen=True)
class Draft:
    """One candidate's request: which tier, which candidate, the messages to send."""

    tier: TierPlan
    index: int
    messages: list[dict[str, str]]
    temperature: float
    files: tuple[str, ...]  # the files shown, in order (blocks naming none match them)
    allow_config_edits: bool = False
    allow_code_hook_edits: bool = False
    pool: SamplePool | None = None  # the tier's answers (None: this draft asks alone)

    def answer(self, client: ModelClient) -> str:
        """The candidate's first answer: from the tier's pool, or asked for alone."""
        if self.pool is not None:
            return self.pool.take(client, self.messages, self.index, self.temperature)
        return client.complete(
            self.tier.tier, self.messages, purpose="patch", temperature=self.temperature
        ).text


def run_candidate(
    *,
    client: ModelClient,
    draft: Draft,
    worktree: Worktree,
    suite: TestSuite,
    prompts_dir: str | None,
    on_event: EventSink,
) -> Attempt:
    """Draft, apply (one retry on a malformed edit), test, in ``worktree`` (the caller's).

    What is tested is exactly the base plus the attempt's diff (and the generated tests):
    the worktree is reset and the diff applied again before the run, so an ignored file
    an edit wrote, or anything else outside the diff, cannot make a candidate pass. Edits
    that are refused (a protected path, configuration) and edits of the tests that judge
    it are left out and named; the rest of the answer is judged.
    """
    from ..sandbox import clip_output

    result, answer = _apply_answer(client, draft, worktree, prompts_dir, on_event)
    if not result.ok:
        feedback = result.feedback(prompts_dir=prompts_dir)
        failure = clip_output(feedback or "no usable edit", FAILURE_CHARS)
        return _not_applied(draft, _edit_summary(result), result.diff, failure)
    refused = tuple(_refusal_line(o) for o in result.refused)
    kept, reverted = _leave_out_test_edits(worktree, draft, suite, answer, refused, on_event)
    diff = worktree.diff()
    changed = tuple(worktree.changed_files())
    if not diff.strip():
        why = "the change only touched the tests that judge it"
        failure = "; ".join([why, *refused, *reverted])
        return _not_applied(
            draft, why, "", failure, reverted_tests=tuple(reverted), refused_edits=refused
        )
    worktree.reset()
    problem = apply_patch(worktree.path, diff)
    if problem:
        failure = f"the change could not be applied cleanly: {problem}"
        return _not_applied(draft, problem, diff, failure, refused_edits=refused)
    left_out = [*refused, *reverted]
    outcomes, accepted, failure, limit_hit = _test(worktree, draft, suite, kept, left_out, on_event)
    return Attempt(
        draft.tier.tier,
        draft.index,
        draft.tier.model,
        True,
        "",
        diff,
        outcomes,
        accepted,
        failure,
        changed,
        tuple(kept),
        tuple(reverted),
        limit_hit,
        refused_edits=refused,
        needs_review=review_flags(worktree.path, changed),
    )


def _not_applied(draft: Draft, edit_error: str, diff: str, failure: str, **more: Any) -> Attempt:
    tier = draft.tier
    return Attempt(
        tier.tier, draft.index, tier.model, False, edit_error, diff, (), False, failure, **more
    )


def _refusal_line(outcome: BlockOutcome) -> str:
    from ..edits.paths import shown_path

    where = shown_path(outcome.block.path) if outcome.block.path else f"block {outcome.block.index}"
    return f"{where}: refused, {outcome.reason}"


def _leave_out_test_edits(
    worktree: Worktree,
    draft: Draft,
    suite: TestSuite,
    answer: str,
    refused: tuple[str, ...],
    on_event: EventSink,
) -> tuple[list[TestChange], list[str]]:
    """A patch may not edit the tests that judge it (nor the test configuration): they go
    back as on the base, unless it declared the change and may make it. Returns the kept
    test changes and why each other one was reverted; announces those and ``refused``."""
    kept, reverted, restore = review_test_edits(
        worktree.path,
        worktree.changed_files(),
        answer,
        list(draft.files),
        draft.tier.tier,
        suite.rules(),
    )
    restore_paths(worktree.path, "HEAD", restore)
    left_out = [*refused, *reverted]
    if left_out:
        on_event(
            Event(
                "draft",
                f"candidate {draft.index}: " + "; ".join(left_out)[:300],
                draft.tier.tier,
                {"candidate": draft.index, "reverted": reverted, "refused": list(refused)},
            )
        )
    return kept, reverted


def _apply_answer(
    client: ModelClient,
    draft: Draft,
    worktree: Worktree,
    prompts_dir: str | None,
    on_event: EventSink,
) -> tuple[EditResult, str]:
    """Ask for the patch and apply it; once more, with the feedback, when it did not apply.
    Returns what was applied and the answer it came from."""
    from ..edits import apply_answer

    tier, index = draft.tier, draft.index
    first = draft.answer(client)
    result = apply_answer(
        worktree.path,
        first,
        edit_format=tier.edit_format,
        files=draft.files,
        allow_config_edits=draft.allow_config_edits,
        allow_code_hook_edits=draft.allow_code_hook_edits,
    )
    if result.ok:
        return result, first
    # The worktree goes back to the base, so the model must resend every block.
    feedback = result.feedback(applied_kept=False, prompts_dir=prompts_dir)
    on_event(
        Event(
            "draft",
            f"candidate {index}: edit did not apply, asking again",
            tier.tier,
            {"candidate": index, "feedback": feedback[:500]},
        )
    )
    worktree.reset()
    retry = [
        *draft.messages,
        {"role": "assistant", "content": first},
        {
            "role": "user",
            "content": render("edit_retry", prompts_dir=prompts_dir, feedback=feedback),
        },
    ]
    reply = client.complete(tier.tier, retry, purpose="patch-retry", temperature=draft.temperature)
    result = apply_answer(
        worktree.path,
        reply.text,
        edit_format=tier.edit_format,
        files=draft.files,
        allow_config_edits=draft.allow_config_edits,
        allow_code_hook_edits=draft.allow_code_hook_edits,
    )
    return result, reply.text


def _test(
    worktree: Worktree,
    draft: Draft,
    suite: TestSuite,
    kept: list[TestChange],
    reverted: list[str],
    on_event: EventSink,
) -> tuple[tuple[TestOutcome, ...], bool, str, str]:
    """The candidate's tests, run in its worktree: outcomes, accepted, why not (the test
    edits put back first), and the sandbox limit the run hit ("" for none)."""
    from ..sandbox import clip_output

    suite.write_tests(worktree.path)
    on_event(
        Event(
            "test",
            f"candidate {draft.index}: running tests",
            draft.tier.tier,
            {"candidate": draft.index},
        )
    )
    run = suite.run(worktree.path, suite.selection(kept))
    outcomes, accepted = suite.evaluate(run, kept)
    label = f"candidate {draft.index}"
    # guarded tests alone failed: flaky ones, once shown so, judge no candidate
    if not accepted and find_flaky(
        suite, worktree.path, run, outcomes, on_event, label=label, tier=draft.tier.tier
    ):
        outcomes, accepted = suite.evaluate(run, kept)
    failure = "" if accepted else clip_output(run.output, FAILURE_CHARS)
    # a run cut short by the sandbox (a process killed, a fork refused) judges nothing;
    # a failing one names the limit it likely hit (an error its output shows)
    hits = [run.limit_hit] if run.limit_hit else [] if accepted else list(run.limit_hits)
    hit = hits[0].text if hits else ""
    if hit:
        accepted, failure = False, hit + "\n" + clip_output(run.output, FAILURE_CHARS)
    elif accepted and any(c.kind == "config" for c in kept):
        failure = _judged_with_base_config(worktree.path, suite, kept)
        accepted = not failure
    if reverted and not accepted:
        failure = "\n".join(reverted) + "\n" + failure
    return outcomes, accepted, failure, hit


def _judged_with_base_config(root: Path, suite: TestSuite, kept: list[TestChange]) -> str:
    """A candidate that changes how tests run (conftest, pytest configuration) must pass
    every test but the ones it changed with the base's configuration too, so the new
    configuration cannot be what makes them pass. "" when it does, else why not."""
    from ..sandbox import clip_output

    restore_paths(root, "HEAD", [c.path for c in kept if c.kind == "config"])
    run = suite.run(root, suite.selection(kept))
    outcomes, _accepted = suite.evaluate(run, kept)
    failing = [
        o.test_id
        for o in outcomes
        if o.required and o.kind != KIND_CHANGED and o.status != "passed"
    ]
    if not failing:
        return ""
    return (
        "with the base's test configuration (the candidate changed it), these tests do "
        f"not pass: {', '.join(failing[:5])}\n" + clip_output(run.output, FAILURE_CHARS)
    )


def _edit_summary(result: EditResult) -> str:
    """One line per failed block, for the report: which file and why."""
    from ..edits.paths import shown_path

    reasons = [
        f"block {o.block.index}"
        + (f" ({shown_path(o.block.path)})" if o.block.path else "")
        + f": {o.reason.splitlines()[0] if o.reason else 'did not apply'}"
        for o in result.failed
    ]
    return "; ".join(reasons) or "the answer held no usable edit"
