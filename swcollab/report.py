"""The report of a run: markdown for people, one JSON shape for machines, the commit message."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from .engine.types import (
    VERDICT_BUDGET,
    VERDICT_FIXED,
    VERDICT_INTERRUPTED,
    VERDICT_NOT_FIXED,
    VERDICT_UNVERIFIED,
    Attempt,
    FlakyTest,
    RunResult,
    TestChange,
)
from .errors import (
    EXIT_BUDGET,
    EXIT_INTERRUPTED,
    EXIT_NOT_FIXED,
    EXIT_OK,
)

VERDICT_TEXT = {
    VERDICT_FIXED: "fixed: a candidate passed every test that judges it",
    VERDICT_NOT_FIXED: "not fixed: no candidate passed the tests",
    VERDICT_UNVERIFIED: "unverified: chosen without a test that could judge it",
    VERDICT_BUDGET: "budget exhausted: stopped before a call that could overrun the budget",
    VERDICT_INTERRUPTED: "interrupted",
    "error": "error",
}

# A longer diff is not shown at all rather than cut: what the report shows must be what
# the branch holds, byte for byte (GitHub refuses a pull-request body over 65,536).
MAX_DIFF_CHARS_IN_REPORT = 50_000


def exit_code_for(verdict: str) -> int:
    return {
        VERDICT_FIXED: EXIT_OK,
        VERDICT_BUDGET: EXIT_BUDGET,
        VERDICT_INTERRUPTED: EXIT_INTERRUPTED,
    }.get(verdict, EXIT_NOT_FIXED)


def _money(value: float) -> str:
    return f"${value:.4f}"


def saving_line(result: RunResult) -> str:
    if result.strong_only_cost_usd <= 0:
        return "strong-only estimate: unknown (no strong price)"
    saved = result.strong_only_cost_usd - result.cost_usd
    share = saved / result.strong_only_cost_usd * 100
    return (
        f"the same calls on the strong model alone: {_money(result.strong_only_cost_usd)} "
        f"({share:.0f}% {'saved' if saved >= 0 else 'more'})"
    )


def cache_text(result: RunResult) -> str:
    """The prompt tokens the providers' caches served, and what that saved (or "")."""
    if not result.cached_tokens:
        return ""
    return (
        f" ({result.cached_tokens} prompt tokens from the provider's cache, "
        f"{_money(result.cache_saving_usd)} less)"
    )


def key_lines(result: RunResult) -> list[str]:
    winner = result.winner
    tests = len([t for g in result.generated_tests for t in g.kept_ids])
    lines = [
        f"Verdict: {VERDICT_TEXT.get(result.verdict, result.verdict)}",
        f"Strategy: {result.strategy}; attempts: {len(result.attempts)}"
        + (
            f"; winning tier: {winner.tier} ({winner.model}), candidate {winner.index}"
            if winner
            else ""
        ),
        f"Tests: {tests} generated reproduction test(s) kept, "
        f"{len(result.discarded_tests)} discarded, {len(result.user_tests)} given, "
        f"{len(result.existing_tests)} existing test file(s) guarded"
        + (f"; {len(result.flaky_tests)} flaky test(s) not guarded" if result.flaky_tests else ""),
        f"Cost: {_money(result.cost_usd)} in {result.calls} call(s), "
        f"{result.prompt_tokens + result.completion_tokens} tokens{cache_text(result)}; "
        f"{saving_line(result)}",
    ]
    return lines


def commit_message(result: RunResult, cost_usd: float) -> str:
    task = result.task
    verb = "Fix" if result.verdict == VERDICT_FIXED else "Unverified fix"
    summary = f"{verb}: {task.title}"
    if len(summary) > 72:
        summary = summary[:69] + "..."
    body = key_lines(result)[:3]
    trailers = []
    if result.verdict == VERDICT_FIXED and task.issue_number:
        trailers.append(f"Fixes #{task.issue_number}")
    winner = result.winner
    trailers += [
        f"Swc-Model: {winner.model if winner else '-'}",
        f"Swc-Strategy: {result.strategy}",
        f"Swc-Cost: {_money(cost_usd)}",
        f"Swc-Run: {result.run_id}",
    ]
    for path, why in winner.needs_review if winner else ():
        trailers.append(f"Swc-Needs-Review: {_one_line(path)} ({_one_line(why)})")
    for change in winner.test_changes if winner else ():
        # one trailer a test; its assertions on continuation lines (git folds them in)
        trailers.append(
            f"Swc-Test-Change: {change.test} ({_kind_text(change)}): {_one_line(change.reason)}"
        )
        trailers += [f"  old: {_one_line(line)}" for line in change.old]
        trailers += [f"  new: {_one_line(line)}" for line in change.new]
    return summary + "\n\n" + "\n".join(body) + "\n\n" + "\n".join(trailers) + "\n"


def _kind_text(change: TestChange) -> str:
    return f"renamed from {change.renamed_from}" if change.renamed_from else change.kind


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


def test_change_lines(result: RunResult) -> list[str]:
    """The existing tests the accepted fix changes, each with its old and new assertions:
    the first thing a reviewer reads."""
    changes = result.winner.test_changes if result.winner else ()
    if not changes:
        return []
    out = [f"## This fix changes {len(changes)} existing test(s): review them first", ""]
    for change in changes:
        out.append(
            f"- `{change.test}` ({_kind_text(change)}, by the {change.tier} tier): "
            f"{_one_line(change.reason)}"
        )
        out += [f"  - old: `{_one_line(line)}`" for line in change.old]
        out += [f"  - new: `{_one_line(line)}`" for line in change.new]
    return [*out, ""]


def _attempt_rows(attempts: list[Attempt]) -> list[str]:
    rows = [
        "| tier | model | candidate | applied | tests passed | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for a in attempts:
        verdict = (
            "accepted"
            if a.accepted
            else (a.edit_error.splitlines()[0][:60] if a.edit_error else "tests failed")
        )
        if a.limit_hit:
            # "hit the sandbox's memory limit (4 GB, sandbox_memory_mb)"
            verdict = a.limit_hit.removeprefix("the tests ").split(":")[0][:80]
        rows.append(
            f"| {a.tier} | {a.model} | {a.index} | {'yes' if a.applied else 'no'} | "
            f"{a.passed}/{a.required} | {verdict} |"
        )
    return rows


def _test_lines(result: RunResult) -> list[str]:
    lines = []
    for g in result.generated_tests:
        lines.append(f"- kept, written by {g.tier}: " + ", ".join(f"`{t}`" for t in g.kept_ids))
    for d in result.discarded_tests:
        lines.append(f"- discarded, written by {d.tier}: `{d.test_id}`: {d.reason}")
    for t in result.user_tests:
        lines.append(f"- given: `{t}`")
    for t in result.existing_tests:
        lines.append(f"- existing, must not break: `{t}`")
    return lines or ["- none"]


def flaky_line(test: FlakyTest) -> str:
    """One flaky test: its counts, why it is flaky, where it was found."""
    found = (
        f"known from run {test.run_id}"
        if test.earlier
        else "found in this run, remembered for later runs"
    )
    return f"`{test.test_id}`: {test.counts()} ({test.why}); {found}"


def flaky_lines(result: RunResult) -> list[str]:
    if not result.flaky_tests:
        return []
    return [
        "",
        "## Flaky tests (not guarded)",
        "",
        "These existing tests passed on the base but are flaky, so they judged no "
        "candidate; the ledger remembers them for later runs (`swc runs flaky` lists "
        "them, `swc runs flaky --clear` guards them again):",
        "",
        *[f"- {flaky_line(t)}" for t in result.flaky_tests],
    ]


def _per_test(attempt: Attempt) -> list[str]:
    return [f"- `{o.test_id}` ({o.kind}): {o.status}" for o in attempt.outcomes]


def render_markdown(result: RunResult) -> str:
    out = [f"# swc run {result.run_id}: {result.task.title}", ""]
    out += _fact_lines(result)
    if result.plan:
        out += ["", "## Plan", ""]
        out += [
            f"- {p.tier} ({p.model}): {p.candidates} candidate(s), {p.tests} test(s), "
            f"{p.edit_format} edits; code {p.view.context_tokens:,} tokens"
            + (f" ({p.view.context_why})" if p.view.context_why else "")
            for p in result.plan
        ]
    out += ["", "## Tests", "", *_test_lines(result)]
    out += flaky_lines(result)
    if result.attempts:
        out += ["", "## Attempts", "", *_attempt_rows(result.attempts)]
    out += _failure_lines(result)
    out += _chosen_lines(result)
    if result.saved_diff:
        out += [
            "",
            "## The accepted diff (no branch could hold it)",
            "",
            "```diff",
            *result.saved_diff.splitlines(),
            "```",
        ]
    if result.notes:
        out += ["", "## Notes", "", *[f"- {n}" for n in result.notes]]
    if result.warnings:
        out += ["", "## Warnings", "", *[f"- {w}" for w in result.warnings]]
    return "\n".join(out) + "\n"


def review_lines(result: RunResult) -> list[str]:
    """The accepted change's files that run code (build, task, CI files): read them
    before running anything of the branch."""
    if not result.needs_review:
        return []
    out = [f"## Needs review: {len(result.needs_review)} file(s) that run code", ""]
    return [*out, *[f"- {line}" for line in result.needs_review], ""]


def _fact_lines(result: RunResult) -> list[str]:
    """The report's first lines: test changes, files that run code, the key lines, where
    and how it ran."""
    out: list[str] = []
    out += test_change_lines(result)
    out += review_lines(result)
    out += [f"- {line}" for line in key_lines(result)]
    out += [f"- Base: `{result.base_sha[:12]}`; test command: `{result.test_command or '-'}`"]
    if result.interpreter:
        out += [
            f"- Test interpreter: `{result.interpreter.get('python')}` "
            f"({result.interpreter.get('reason')})"
        ]
    if result.sandbox:
        out += [f"- Sandbox: {sandbox_line(result.sandbox)}"]
    if result.branch:
        out += [
            f"- Branch: `{result.branch}` (see it with `git diff {result.base_sha[:12]}..."
            f"{result.branch}`)"
        ]
    if result.pr_url:
        out += [f"- Pull request: {result.pr_url}"]
    if result.context_path:
        out += [
            f"- What the first draft was shown: `swc runs show {result.run_id} --context` "
            f"(`{result.context_path}`)"
        ]
    if result.error and result.verdict != VERDICT_FIXED and not result.saved_diff:
        out += [f"- Stopped: {result.error}"]
    if result.saved_diff:
        out += [f"- No branch: {result.error}"]
    return out


def _failure_lines(result: RunResult) -> list[str]:
    """Why each candidate failed, for a run that fixed nothing."""
    out: list[str] = []
    failed = [a for a in result.attempts if not a.accepted]
    if failed and result.verdict != VERDICT_FIXED:
        out += ["", "## Why the candidates failed", ""]
        for a in failed:
            reason = (
                a.edit_error
                or a.limit_hit
                or ", ".join(
                    f"{o.test_id} {o.status}"
                    for o in a.outcomes
                    if o.required and o.status != "passed"
                )
                or "no test passed"
            )
            out.append(f"- {a.tier} candidate {a.index}: {reason.splitlines()[0][:200]}")
    return out


def _chosen_lines(result: RunResult) -> list[str]:
    """The chosen change: its per-test results, its diff, what it touches outside the code."""
    out: list[str] = []
    if result.winner:
        out += ["", "## Chosen change", "", *_per_test(result.winner), ""]
        out += _diff_block(result)
        outside = outside_source_and_tests(shown_diff_files(result))
        if outside:
            out += [
                "",
                "Changes outside source and test files (review these with care): "
                + ", ".join(f"`{p}`" for p in outside),
            ]
    return out


def shown_diff(result: RunResult) -> str:
    """The diff a run shows: the branch's (patch and kept tests), else the winner's patch."""
    if result.diff:
        return result.diff
    return result.winner.diff if result.winner else ""


def _diff_block(result: RunResult) -> list[str]:
    """The diff in a fence longer than any backtick run in it, unchanged to the byte."""
    diff = shown_diff(result)
    if len(diff) > MAX_DIFF_CHARS_IN_REPORT:
        where = (
            f"`git diff {result.base_sha[:12]} {result.branch}`"
            if result.branch
            else "`swc fix --json` (key `diff`)"
        )
        return [
            f"The diff has {len(diff):,} characters, too many to show here; see it with {where}."
        ]
    longest = max((len(m) for m in re.findall(r"`+", diff)), default=0)
    fence = "`" * max(3, longest + 1)
    body = diff if diff.endswith("\n") or not diff else diff + "\n"
    return [f"{fence}diff\n{body}{fence}"]


def shown_diff_files(result: RunResult) -> list[str]:
    """Paths the shown diff changes (from its ``diff --git`` headers)."""
    files = []
    for line in shown_diff(result).splitlines():
        match = _DIFF_HEADER.match(line)
        if match:
            files.append(match.group(2))
    return list(dict.fromkeys(files))


_DIFF_HEADER = re.compile(r'^diff --git "?a/(.+?)"? "?b/(.+?)"?$')


def outside_source_and_tests(paths: list[str]) -> list[str]:
    """The paths that are neither source code (a language swc reads) nor tests."""
    from .ecosystems import is_test_path
    from .treesitter import language_for_path

    return [p for p in paths if not is_test_path(p) and language_for_path(p) is None]


def sandbox_line(sandbox: dict[str, Any]) -> str:
    if sandbox.get("kind") == "off":
        return (
            '**OFF** (sandbox = "off" / --no-sandbox): model-written code ran with your '
            "user's rights"
        )
    network = "network isolated" if sandbox.get("network_isolated") else "host network shared"
    return f"{sandbox.get('kind')} {sandbox.get('version', '')}".strip() + f"; {network}"


def result_as_json(result: RunResult) -> dict[str, Any]:
    """The one JSON shape of a run (``swc fix --json``; the Action reads these keys)."""
    return {
        "run_id": result.run_id,
        "verdict": result.verdict,
        "task": {
            "kind": result.task.kind,
            "title": result.task.title,
            "issue": result.task.issue_number,
        },
        "strategy": result.strategy,
        "base": result.base_sha,
        "branch": result.branch,
        "patch_path": result.patch_path,
        "pr_url": result.pr_url,
        "diff": shown_diff(result),
        "changes_outside_source_and_tests": outside_source_and_tests(shown_diff_files(result)),
        "needs_review": [
            {"path": path, "reason": why}
            for path, why in (result.winner.needs_review if result.winner else ())
        ],
        "sandbox": result.sandbox,
        "test_changes": [
            _change_json(c) for c in (result.winner.test_changes if result.winner else ())
        ],
        "winner": _attempt_json(result.winner) if result.winner else None,
        "plan": [asdict(p) for p in result.plan],
        "attempts": [_attempt_json(a) for a in result.attempts],
        "tests": {
            "command": result.test_command,
            "interpreter": result.interpreter or None,
            "generated": [
                {"path": g.path, "tier": g.tier, "kept": list(g.kept_ids)}
                for g in result.generated_tests
            ],
            "discarded": [d.__dict__ for d in result.discarded_tests],
            "user": list(result.user_tests),
            "existing": list(result.existing_tests),
        },
        "flaky_tests": [_flaky_json(t, result.run_id) for t in result.flaky_tests],
        "cost_usd": round(result.cost_usd, 6),
        "strong_only_cost_usd": round(result.strong_only_cost_usd, 6),
        "tokens": {
            "prompt": result.prompt_tokens,
            "completion": result.completion_tokens,
            "cached": result.cached_tokens,
        },
        "cache_saving_usd": round(result.cache_saving_usd, 6),
        "calls": result.calls,
        "calls_by_tier": result.calls_by_tier,
        "duration_s": round(result.duration_s, 2),
        "notes": result.notes,
        "warnings": result.warnings,
        "error": result.error,
        "report_path": result.report_path,
        "context_path": result.context_path,
        "report_markdown": render_markdown(result),
    }


def _attempt_json(a: Attempt) -> dict[str, Any]:
    return {
        "tier": a.tier,
        "model": a.model,
        "candidate": a.index,
        "applied": a.applied,
        "accepted": a.accepted,
        "passed": a.passed,
        "required": a.required,
        "edit_error": a.edit_error,
        "diff": a.diff,
        "changed_files": list(a.changed_files),
        "tests": [o.__dict__ for o in a.outcomes],
        "test_changes": [_change_json(c) for c in a.test_changes],
        "reverted_tests": list(a.reverted_tests),
        "limit_hit": a.limit_hit or None,
        "refused_edits": list(a.refused_edits),
    }


def _flaky_json(test: FlakyTest, run_id: str) -> dict[str, Any]:
    return {
        "test_id": test.test_id,
        "why": test.why,
        "candidate_runs": test.candidate_runs,
        "candidate_failures": test.candidate_failures,
        "base_runs": test.base_runs,
        "base_failures": test.base_failures,
        "earlier": test.earlier,
        "found_by": test.run_id or run_id,
    }


def _change_json(change: TestChange) -> dict[str, Any]:
    return {
        "path": change.path,
        "test": change.test,
        "kind": change.kind,
        "reason": change.reason,
        "tier": change.tier,
        "old": list(change.old),
        "new": list(change.new),
        "renamed_from": change.renamed_from or None,
    }


def save_report(result: RunResult, state_dir: Path) -> Path:
    runs = state_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    path = runs / f"{result.run_id}.md"
    path.write_text(render_markdown(result), encoding="utf-8")
    return path
