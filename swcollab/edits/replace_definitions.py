"""Replace definitions of a file with the ones a code block holds. Pure on strings.

A weak model that cannot keep to a diff format often rewrites a whole function right.
Every complete definition in the block whose name exists in the file replaces that
definition in place, re-indented to fit; a method is looked up within its class (or,
written bare, as the one method of that name). Statements around the definitions in the
block (example calls, ``if __name__ == "__main__":``) are ignored. A block holding every
definition and import of the file replaces the whole file.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import PurePosixPath

from .additions import helper_edits, import_edits
from .match import join_lines, reindent, split_lines
from .outline import Definition, Outline, outline


@dataclass(frozen=True)
class DefinitionEdit:
    text: str  # the file's new content
    replaced: tuple[str, ...]  # dotted names replaced (or "<whole file>")
    unchanged: tuple[str, ...]  # matched but identical to the file (or to the original)
    added: tuple[str, ...]  # new methods, helpers and imports the replacements need
    ignored: tuple[str, ...]  # definitions in the block that match nothing in the file
    whole_file: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.replaced or self.added)


@dataclass(frozen=True)
class DefinitionFailure:
    reason: str
    closest: str = ""


@dataclass
class _Plan:
    """Line edits against the current file: (start, end exclusive, new lines)."""

    edits: list[tuple[int, int, list[str]]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    ignored: list[Definition] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    inline: list[str] = field(default_factory=list)  # targets sharing lines with other code


def dotted(definition: Definition) -> str:
    return ".".join(definition.qualname)


def file_names(language: str, content: str) -> list[str]:
    """Names of the definitions in a file, methods included (``Stack.pop``), in order."""
    return [dotted(d) for d in outline(language, content).flat()]


def block_names(language: str, code: str) -> list[str]:
    """Bare names of the complete definitions in a code block, to match a file's."""
    _, block = block_outline(language, code)
    return [d.name for d in block.flat() if not d.has_error and d.name != WRAPPER_CLASS]


def matched_names(language: str, content: str, code: str) -> int:
    """How many of the block's definitions name a definition of ``content`` (to pick a file)."""
    names = {name.rsplit(".", 1)[-1] for name in file_names(language, content)}
    return sum(1 for name in block_names(language, code) if name in names)


# A method written bare (``area(): number { ... }``) is not a definition at the top level
# of these languages; wrapped in a class, it parses as the method it is.
_WRAP_IN_CLASS = {"javascript": "class", "typescript": "class", "tsx": "class"}
WRAPPER_CLASS = "__swc_block__"


def block_outline(language: str, code: str) -> tuple[str, Outline]:
    """The block's code as parsed (dedented, maybe wrapped in a class) and its outline."""
    code = textwrap.dedent(code)
    block = outline(language, code)
    keyword = _WRAP_IN_CLASS.get(language)
    if keyword and not any(not d.has_error for d in block.definitions):
        wrapped = f"{keyword} {WRAPPER_CLASS} {{\n{code}}}\n"
        trial = outline(language, wrapped)
        if any(not d.has_error and d.members for d in trial.definitions):
            return wrapped, trial
    return code, block


def replace_definitions(
    language: str, content: str, code: str, *, original: str | None = None, path: str = ""
) -> DefinitionEdit | DefinitionFailure:
    """``content`` with the definitions in ``code`` put in place of its own.

    ``original`` is the file before this answer touched it: a definition identical to its
    original version is an echo of the file, not a change, and is skipped. ``path`` (the
    file's) keeps the block's imports of the file's own module out.
    """
    code, block = block_outline(language, code)
    complete = [d for d in block.definitions if not d.has_error]
    if not complete:
        broken = ", ".join(dotted(d) for d in block.definitions)
        why = f" ({broken} is incomplete or not valid code)" if broken else ""
        return DefinitionFailure(f"the code block holds no complete function or class{why}")
    current = outline(language, content)
    whole = _whole_file(current, content, block, code)
    if whole is not None:
        return whole
    plan = _plan(current, content, complete, code, original, language)
    if not plan.replaced and not plan.unchanged:
        return _no_match(current, content, complete, plan)
    if plan.replaced:
        _add_needed(plan, current, content, block, code, path)
    return DefinitionEdit(
        text=_apply(content, plan.edits),
        replaced=tuple(plan.replaced),
        unchanged=tuple(plan.unchanged),
        added=tuple(plan.added),
        ignored=(
            *(dotted(d) for d in plan.ignored),
            *(f"{name} (several definitions of that name)" for name in plan.ambiguous),
            *(f"{name} (shares its lines with other code)" for name in plan.inline),
        ),
    )


# --- whole file --------------------------------------------------------------------


def _whole_file(current: Outline, content: str, block: Outline, code: str) -> DefinitionEdit | None:
    """The block as the new file when it holds all of it, else None (then only its
    definitions are taken)."""
    # Exactly the file's definitions, methods included: a class with one method is not
    # the file, and invented extra functions are noise that definitions mode leaves out
    # (it adds a new function only when the changed code calls it).
    have = {d.qualname for d in current.flat()}
    if not have or have != {d.qualname for d in block.flat()}:
        return None
    if any(d.has_error for d in block.definitions) or not _wrappers_kept(current, block):
        return None
    file_lines, code_lines = split_lines(content), split_lines(code)
    if any(elided(code_lines[d.start : d.end + 1]) for d in block.flat()):
        return None
    if not _statements_match(_statements(file_lines, current), _statements(code_lines, block)):
        return None
    text = join_lines(code_lines)
    if text == content:
        return DefinitionEdit(content, (), ("<whole file>",), (), (), whole_file=True)
    return DefinitionEdit(text, ("<whole file>",), (), (), (), whole_file=True)


def _statements(source_lines: list[str], found: Outline) -> dict[str, str]:
    """Top-level non-definition statements: normalized text -> kind."""
    return {
        "\n".join(line.strip() for line in source_lines[s.start : s.end + 1]): s.kind
        for s in found.statements
    }


def _head(text: str) -> str:
    """What a statement sets (``TIMEOUT`` of ``TIMEOUT = 5``), to pair a changed one."""
    return re.split(r"[=(:]", text, maxsplit=1)[0].strip()


def _statements_match(in_file: dict[str, str], in_block: dict[str, str]) -> bool:
    """Every statement of the file is in the block, or changed in place (same head); the
    block adds only imports and comments. Example calls or a ``__main__`` guard the file
    lacks mean the block is a snippet around the definitions, not the file."""
    missing = [t for t in in_file if t not in in_block]
    if any(in_file[t] != "other" for t in missing):  # an import or comment was dropped
        return False
    heads = {_head(t) for t in missing}
    extra = [t for t, kind in in_block.items() if t not in in_file and kind == "other"]
    return len(extra) == len(missing) and all(_head(t) in heads for t in extra)


def _wrappers_kept(current: Outline, block: Outline) -> bool:
    """The block keeps the file's ``export`` prefixes and decorators (else it is a
    rewrite of the definitions, which keep them, not of the file)."""
    mine = {d.qualname: d for d in block.flat()}
    for d in current.flat():
        if (d.prefix and not mine[d.qualname].prefix) or (
            d.decorated and not mine[d.qualname].decorated
        ):
            return False
    return True


# --- planning ----------------------------------------------------------------------


def _find(candidates: list[Definition], wanted: Definition, bare: bool = False) -> list[Definition]:
    """File definitions ``wanted`` stands for: same qualified name, else same name suffix
    (``bare``: same name only, for a method whose class is unknown)."""
    same_kind = [d for d in candidates if d.kind == wanted.kind]
    exact = [d for d in same_kind if d.qualname == wanted.qualname]
    if exact:
        return exact
    tail = wanted.qualname[-1:] if bare else wanted.qualname
    return [d for d in same_kind if d.qualname[-len(tail) :] == tail]


def _plan(
    current: Outline,
    content: str,
    complete: list[Definition],
    code: str,
    original: str | None,
    language: str,
) -> _Plan:
    plan = _Plan()
    file_lines, code_lines = split_lines(content), split_lines(code)
    before = outline(language, original).flat() if original and original != content else None
    context = (file_lines, code_lines, before, split_lines(original or ""))
    unknown = _plan_all(plan, current, complete, context, bare=False)
    wrapped = [d for d in unknown if d.name == WRAPPER_CLASS]
    if not plan.replaced and not plan.unchanged and not plan.ambiguous and not wrapped:
        # Nothing in the block is known by name: small models copy the prompt's
        # placeholder, `def the_function(n):`, around a correct `def is_even(n):`. Take
        # known functions nested in unknown ones (never methods of unknown classes:
        # every class has an `__init__`).
        wrapped = [d for d in unknown if d.kind == "function"]
    nested = [m for d in wrapped for m in d.members if not m.has_error]
    if nested:
        plan.ignored = [d for d in plan.ignored if d.name != WRAPPER_CLASS]
        _plan_all(plan, current, nested, context, bare=True)
    _drop_overlaps(plan)
    return plan


def _plan_all(
    plan: _Plan, current: Outline, wanted_all: list[Definition], context: tuple, bare: bool
) -> list[Definition]:
    """Plan each definition; returns those that match nothing in the file."""
    unknown = []
    for wanted in wanted_all:
        targets = _find(current.flat(), wanted, bare=bare)
        if bare and wanted.scope and wanted.scope[-1] == WRAPPER_CLASS:
            targets = [t for t in targets if t.scope]  # a bare method stands for a method
        if len(targets) > 1:
            plan.ambiguous.append(dotted(wanted))
        elif not targets:
            unknown.append(wanted)
            plan.ignored.append(wanted)
        elif wanted.kind == "class" and not _covers(wanted, targets[0], context):
            _plan_members(plan, targets[0], wanted, context)
        else:
            _plan_replacement(plan, targets[0], wanted, context)
    return unknown


def _covers(wanted: Definition, target: Definition, context: tuple) -> bool:
    """Whether the block's class holds all of the file's class: every member, and every
    other line of its body (fields, docstring). Otherwise it is replaced member by member."""
    if not {m.name for m in target.members} <= {m.name for m in wanted.members}:
        return False
    file_lines, code_lines = context[0], context[1]
    if any(elided(code_lines[m.start : m.end + 1]) for m in wanted.walk()[1:]):
        return False
    inside = set(range(target.inner_start + 1, target.end))
    for member in target.members:
        inside -= set(range(member.start, member.end + 1))
    have = {line.strip() for line in code_lines[wanted.start : wanted.end + 1]}
    return all(file_lines[k].strip() in have for k in inside if file_lines[k].strip())


def _plan_members(plan: _Plan, target: Definition, wanted: Definition, context: tuple) -> None:
    for member in wanted.members:
        if member.has_error:
            continue
        found = _find(target.walk()[1:], member)
        if len(found) == 1:
            _plan_replacement(plan, found[0], member, context)
        elif len(found) > 1:
            plan.ambiguous.append(dotted(member))
        else:
            _plan_new_member(plan, target, member, context)


def _new_lines(target: Definition, wanted: Definition, context: tuple) -> tuple[int, list[str]]:
    """(first file line replaced, re-indented block lines) for replacing ``target``."""
    file_lines, code_lines = context[0], context[1]
    whole = wanted.decorated or not target.decorated
    start = target.start if whole else target.inner_start
    lines = code_lines[(wanted.start if whole else wanted.inner_start) : wanted.end + 1]
    have, want = _indent(file_lines[start]), _indent(lines[0])
    unit = "\t" if have.startswith("\t") else " "
    lines = reindent(lines, len(have) - len(want), unit)
    if target.prefix and not wanted.prefix and target.start == target.inner_start:
        lines[0] = f"{_indent(lines[0])}{target.prefix} {lines[0].lstrip()}"
    return start, lines


def _plan_replacement(plan: _Plan, target: Definition, wanted: Definition, context: tuple) -> None:
    if target.inline:
        plan.inline.append(dotted(wanted))
        return
    file_lines, _, before, original_lines = context
    start, lines = _new_lines(target, wanted, context)
    name = dotted(target)
    same = lines == file_lines[start : target.end + 1]
    if same or elided(lines) or _is_echo(target, lines, before, original_lines):
        plan.unchanged.append(name)
        return
    plan.edits.append((start, target.end + 1, lines))
    plan.replaced.append(name)


_FILLER_RE = re.compile(r"^(\.\.\.|…|pass|[})\]];?|end|(#|//|/\*|\*|--).*|\"\"\".*|'\'\'.*)$")
_ELISION_RE = re.compile(r"(\.\.\.|…|\bpass\b|\b(existing|unchanged|same as|rest of)\b)", re.I)


def elided(lines: list[str]) -> bool:
    """A definition whose body is only a placeholder (``...``, ``pass``, ``# existing
    code``): the model left it out, it does not mean to empty it."""
    stripped = [line.strip() for line in lines if line.strip()]
    while stripped and stripped[0].startswith("@"):  # decorators
        stripped = stripped[1:]
    if not stripped:
        return False
    head, *body = stripped
    if not body:  # one line: `def f(): ...`, `fn f() { ... }`
        tail = re.split(r"[:{]", head, maxsplit=1)[-1] if re.search(r"[:{]", head) else ""
        return bool(tail.strip()) and bool(re.fullmatch(r"\s*(\.\.\.|…|pass)\s*}?\s*", tail))
    if not all(_FILLER_RE.match(line) for line in body):
        return False
    return any(_ELISION_RE.search(line) for line in body)


def _is_echo(target: Definition, lines: list[str], before: list | None, original: list) -> bool:
    """The block repeats the original definition after an earlier block changed it."""
    if before is None:
        return False
    same = [d for d in before if d.qualname == target.qualname and d.kind == target.kind]
    if len(same) != 1:
        return False
    old = same[0]
    for first in (old.start, old.inner_start):
        if [ln.strip() for ln in original[first : old.end + 1]] == [ln.strip() for ln in lines]:
            return True
    return False


def _plan_new_member(plan: _Plan, target: Definition, member: Definition, context: tuple) -> None:
    """A method the block adds to a known class goes at the end of the class body."""
    file_lines, code_lines = context[0], context[1]
    last = file_lines[target.end].strip()
    closes = last.startswith("}") or last == "end" or last.startswith("};")
    at = target.end if closes else target.end + 1
    if target.members:
        indent = _indent(file_lines[target.members[0].start])
    else:
        indent = _indent(file_lines[target.start]) + "    "
    lines = code_lines[member.start : member.end + 1]
    unit = "\t" if indent.startswith("\t") else " "
    lines = reindent(lines, len(indent) - len(_indent(lines[0])), unit)
    plan.edits.append((at, at, ["", *lines]))
    plan.added.append(dotted(target) + "." + member.name)


def _drop_overlaps(plan: _Plan) -> None:
    kept: list[tuple[int, int, list[str]]] = []
    for edit in plan.edits:  # the first block definition touching a span wins
        if not any(_overlap(edit, other) for other in kept):
            kept.append(edit)
    plan.edits = kept


def _overlap(a: tuple[int, int, list[str]], b: tuple[int, int, list[str]]) -> bool:
    (s1, e1, _), (s2, e2, _) = a, b
    if s1 == e1 or s2 == e2:  # an insertion conflicts only strictly inside a replaced span
        point, (s, e) = (s1, (s2, e2)) if s1 == e1 else (s2, (s1, e1))
        return s < point < e
    return s1 < e2 and s2 < e1


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


# --- helpers and imports ----------------------------------------------------------


def _add_needed(
    plan: _Plan, current: Outline, content: str, block: Outline, code: str, path: str
) -> None:
    """Add the helpers and imports the replaced definitions use."""
    code_lines = split_lines(code)
    edits, added, plan.ignored = helper_edits(plan.ignored, plan.edits, current, code_lines)
    plan.edits.extend(edits)
    plan.added.extend(added)
    new_text = "\n".join(line for _, _, lines in plan.edits for line in lines)
    stem = PurePosixPath(path).stem if path else ""
    edits, added = import_edits(current, split_lines(content), block, code_lines, new_text, stem)
    plan.edits.extend(edits)
    plan.added.extend(added)


def _apply(content: str, edits: list[tuple[int, int, list[str]]]) -> str:
    lines = split_lines(content)
    # Bottom-up so earlier line numbers stay valid; of two insertions at one line, the
    # later one is done first so that they end up in block order.
    ordered = sorted(enumerate(edits), key=lambda e: (e[1][0], e[1][1], e[0]), reverse=True)
    for _, (start, end, new) in ordered:
        lines[start:end] = new
    text = join_lines(lines)
    return text if content.endswith("\n") or not content else text[:-1]


def _no_match(
    current: Outline, content: str, complete: list[Definition], plan: _Plan
) -> DefinitionFailure:
    names = ", ".join(dotted(d) for d in complete)
    if plan.inline and not plan.ambiguous:
        return DefinitionFailure(
            f"the code block defines {', '.join(plan.inline)}, whose definition in the file "
            "shares its lines with other code; use SEARCH/REPLACE for it"
        )
    if plan.ambiguous:
        return DefinitionFailure(
            f"the code block defines {', '.join(plan.ambiguous)}, which matches more than one "
            "definition in the file; put the method inside its class"
        )
    have = {dotted(d): d for d in current.flat()}
    close = []
    for wanted in complete:
        close.extend(get_close_matches(dotted(wanted), list(have), n=2, cutoff=0.5))
    file_lines = split_lines(content)
    closest = join_lines([file_lines[have[n].inner_start] for n in dict.fromkeys(close)])
    listing = ", ".join(list(have)[:12]) or "nothing"
    return DefinitionFailure(
        f"the code block defines {names}, but the file defines none of these "
        f"(it defines {listing})",
        closest=closest,
    )
