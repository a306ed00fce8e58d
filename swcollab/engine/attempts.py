"""Attempts stage: one candidate patch drafted by a tier, applied and tested in a worktree."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..prompts import chat, render
from .testplan import TestPlan
from .types import Attempt, Context, Event, EventSink, TierPlan

if TYPE_CHECKING:
    from ..models import ModelClient

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


def patch_messages(
    *,
    edit_format: str,
    context: Context,
    task_text: str,
    plan: TestPlan,
    guidance: str = "",
    guidance_title: str = "Plan from a senior engineer",
    previous: Previous | None = None,
    prompts_dir: str | None = None,
    small: bool = False,
    sample: tuple[int, int] = (1, 1),
) -> list[dict[str, str]]:
    """The request for one candidate; ``sample`` is (index, of) among a tier's candidates.

    Candidates of one tier are told apart in their prompts: an identical request would be
    a repeated paid call (and a provider or proxy cache could answer it with the same
    reply).
    """
    template = "patch_whole" if edit_format == "whole" else "patch_search_replace"
    tests = [
        {"path": g.path, "language": g.language, "text": g.text}
        for g in plan.generated if g.kept_ids
    ]
    messages = chat(template, prompts_dir=prompts_dir, small=small, guidance=guidance,
                    guidance_title=guidance_title, previous=previous, tests=tests,
                    **context_vars(context, task_text))
    index, of = sample
    if of > 1:
        note = render("candidate_note", prompts_dir=prompts_dir, index=index, of=of)
        messages[-1] = {**messages[-1], "content": messages[-1]["content"] + note}
    return messages


def _restore_protected(root: Path, paths: list[str]) -> None:
    """A patch may not edit the tests that judge it: put them back as they were on the base."""
    for rel in paths:
        proc = subprocess.run(
            ["git", "checkout", "HEAD", "--", rel], cwd=root, capture_output=True, text=True
        )
        if proc.returncode != 0:
            target = root / rel
            if target.is_file() and not target.is_symlink():
                target.unlink()


def run_candidate(
    *,
    client: ModelClient,
    tier: TierPlan,
    index: int,
    repo_root: Path,
    base_sha: str,
    include_dirty: bool,
    context: Context,
    plan: TestPlan,
    messages: list[dict[str, str]],
    temperature: float,
    prompts_dir: str | None,
    on_event: EventSink,
) -> tuple[Attempt, Any]:
    """Draft, apply (one retry on a malformed edit), test. Returns the attempt and its worktree.

    The caller owns the returned worktree (to commit the winner, then remove it).
    """
    from ..edits import apply_answer
    from ..sandbox import Worktree, clip_output, run_tests

    worktree = Worktree(repo_root, base_sha, include_dirty=include_dirty)
    try:
        files = [f.path for f in context.files]
        reply = client.complete(tier.tier, messages, purpose="patch", temperature=temperature)
        result = apply_answer(worktree.path, reply.text, edit_format=tier.edit_format, files=files)
        if not result.ok:
            # The worktree goes back to the base, so the model must resend every block.
            feedback = result.feedback(applied_kept=False, prompts_dir=prompts_dir)
            on_event(Event("draft", f"candidate {index}: edit did not apply, asking again",
                           tier.tier, {"candidate": index, "feedback": feedback[:500]}))
            worktree.reset()
            retry = [
                *messages,
                {"role": "assistant", "content": reply.text},
                {"role": "user", "content": render(
                    "edit_retry", prompts_dir=prompts_dir, feedback=feedback)},
            ]
            reply = client.complete(tier.tier, retry, purpose="patch-retry",
                                    temperature=temperature)
            result = apply_answer(worktree.path, reply.text, edit_format=tier.edit_format,
                                  files=files)
        if not result.ok:
            feedback = result.feedback(prompts_dir=prompts_dir)
            attempt = Attempt(tier.tier, index, tier.model, False, _edit_summary(result),
                              result.diff, (), False,
                              clip_output(feedback or "no usable edit", FAILURE_CHARS))
            return attempt, worktree
        protected = [*plan.user_tests_files(), *plan.existing_files,
                     *(g.path for g in plan.generated)]
        _restore_protected(worktree.path, protected)
        diff = worktree.diff()
        changed = tuple(worktree.changed_files())
        if not diff.strip():
            attempt = Attempt(tier.tier, index, tier.model, False,
                              "the change only touched the tests that judge it", "", (), False,
                              "the change only touched the tests that judge it")
            return attempt, worktree
        plan.write_tests(worktree.path)
        on_event(Event("test", f"candidate {index}: running tests", tier.tier,
                       {"candidate": index}))
        run = run_tests(worktree.path, plan.command, timeout=plan.timeout,
                        selection=plan.selection(), isolate_network=plan.isolate_network)
        outcomes, accepted = plan.evaluate(run)
        failure = "" if accepted else clip_output(run.output, FAILURE_CHARS)
        attempt = Attempt(tier.tier, index, tier.model, True, "", diff, outcomes, accepted,
                          failure, changed)
        return attempt, worktree
    except BaseException:
        worktree.remove()
        raise


def _edit_summary(result: Any) -> str:
    """One line per failed block, for the report: which file and why."""
    reasons = [
        f"block {o.block.index}" + (f" ({o.block.path})" if o.block.path else "")
        + f": {o.reason.splitlines()[0] if o.reason else 'did not apply'}"
        for o in result.failed
    ]
    return "; ".join(reasons) or "the answer held no usable edit"
