"""edit: replace an exact, unique piece of text — never line numbers, which drift as files change.

When `old` is not found verbatim, line endings and then whitespace are tolerated (trailing
whitespace, then indentation, re-indenting `new` to match) as long as the match stays unique.
When nothing matches, the error says why and shows the closest passage with a diff.
"""

from __future__ import annotations

import asyncio
import difflib
from dataclasses import dataclass

from pydantic import Field

from harness_ls.errors import InvalidInput
from harness_ls.tools.base import (
    ActionPreview,
    LineRange,
    Tool,
    ToolArgs,
    ToolContext,
    ToolResult,
    cut_middle,
)
from harness_ls.tools.paths import rel_posix, resolve_path
from harness_ls.tools.textfile import read_text, unified_diff, write_atomic

CLOSEST_SCAN_LIMIT = 20_000  # lines scanned for the closest match


class EditArgs(ToolArgs):
    path: str = Field(description="File path relative to the workspace root.")
    old: str = Field(
        description="Exact text to replace, copied from the file with enough context to be unique."
    )
    new: str = Field(description="Replacement text.")
    replace_all: bool = Field(False, description="Replace every occurrence instead of exactly one.")


@dataclass
class EditPlan:
    shown: str
    before: str
    after: str
    count: int
    first_line: int  # 1-based, in `before`
    last_line: int
    how: str  # "exact" | "line endings" | "trailing whitespace" | "indentation"


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _positions(text: str, needle: str) -> list[int]:
    out, i = [], text.find(needle)
    while i != -1:
        out.append(i)
        i = text.find(needle, i + len(needle))
    return out


def plan_edit(text: str, shown: str, old: str, new: str, replace_all: bool = False) -> EditPlan:
    """Work out the edit without writing; InvalidInput explains any reason it cannot apply."""
    if old == "":
        raise InvalidInput(
            "old is empty",
            hint="copy the text to replace from the file; to create a file use write_file",
        )
    if old == new:
        raise InvalidInput("old and new are identical; nothing would change")
    candidates = [(old, new, "exact")]
    if "\r\n" in text and "\r\n" not in old:
        candidates.append((old.replace("\n", "\r\n"), new.replace("\n", "\r\n"), "line endings"))
    for needle, repl, how in candidates:
        pos = _positions(text, needle)
        if len(pos) == 1 or (pos and replace_all):
            after = text.replace(needle, repl) if replace_all else text.replace(needle, repl, 1)
            end_line = _line_of(text, pos[-1] + max(len(needle) - 1, 0))
            return EditPlan(shown, text, after, len(pos), _line_of(text, pos[0]), end_line, how)
        if len(pos) > 1:
            lines = ", ".join(str(_line_of(text, p)) for p in pos[:20])
            raise InvalidInput(
                f"old matches {len(pos)} places in {shown} (lines {lines})",
                hint="include more surrounding lines in old so it matches exactly one place, "
                "or set replace_all to change every occurrence",
                details={"matches": len(pos)},
            )
    fuzzy = _fuzzy(text, shown, old, new)
    if fuzzy is not None:
        return fuzzy
    raise InvalidInput(
        _no_match_message(text, shown, old), hint="read the file again and copy old exactly"
    )


def _fuzzy(text: str, shown: str, old: str, new: str) -> EditPlan | None:
    lines = text.splitlines(keepends=True)
    old_lines = old.splitlines()
    while old_lines and not old_lines[-1].strip():
        old_lines.pop()
    while old_lines and not old_lines[0].strip():
        old_lines.pop(0)
    if not old_lines:
        return None
    n = len(old_lines)
    for how, norm in (("trailing whitespace", str.rstrip), ("indentation", str.strip)):
        want = [norm(x) for x in old_lines]
        have = [norm(x.rstrip("\r\n")) for x in lines]
        hits = [i for i in range(len(lines) - n + 1) if have[i : i + n] == want]
        if len(hits) > 1:
            where = ", ".join(str(h + 1) for h in hits[:20])
            raise InvalidInput(
                f"old is not in {shown} verbatim, and ignoring {how} it matches {len(hits)} places "
                f"(lines {where})",
                hint="copy old exactly from the file, with enough context to be unique",
                details={"matches": len(hits)},
            )
        if hits:
            i = hits[0]
            window = lines[i : i + n]
            eol = "\r\n" if window[0].endswith("\r\n") else "\n"
            repl = _reindent(old_lines, window, new) if how == "indentation" else new
            repl_lines = repl.splitlines()
            trailing = window[-1][len(window[-1].rstrip("\r\n")) :]
            body = eol.join(repl_lines) + (trailing if repl_lines else "")
            after = "".join(lines[:i]) + body + "".join(lines[i + n :])
            return EditPlan(shown, text, after, 1, i + 1, i + n, how)
    return None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(old_lines: list[str], window: list[str], new: str) -> str:
    """Give `new` the file's indentation where `old` was indented differently from the file.

    A uniform shift (old indented 4 less everywhere) is applied to every line of `new`; otherwise
    each line of `new` that equals a line of `old` (ignoring indentation) takes the file's
    indentation for that line, and other lines follow their nearest such neighbour.
    """
    pairs = [
        (_indent(o), _indent(w.rstrip("\r\n")))
        for o, w in zip(old_lines, window, strict=True)
        if o.strip()
    ]
    had, have = pairs[0]
    new_lines = new.splitlines()
    if all(w == have + o[len(had) :] and o.startswith(had) for o, w in pairs):
        return "\n".join(
            have + ln[len(had) :] if ln.strip() and ln.startswith(had) else ln for ln in new_lines
        )
    by_text: dict[str, str] = {}
    for o, w in zip(old_lines, window, strict=True):
        by_text.setdefault(o.strip(), _indent(w.rstrip("\r\n")))
    mapped: list[str | None] = [by_text.get(ln.strip()) if ln.strip() else None for ln in new_lines]
    out = []
    for i, ln in enumerate(new_lines):
        if not ln.strip() or mapped[i] is not None:
            out.append((mapped[i] or "") + ln.strip() if ln.strip() else ln)
            continue
        own = _indent(ln)
        near = _neighbour(new_lines, mapped, i, own)
        out.append((near if near is not None else own) + ln.strip())
    return "\n".join(out)


def _neighbour(lines: list[str], mapped: list[str | None], i: int, own: str) -> str | None:
    """File indentation of the closest mapped line written at the same indentation as line i."""
    for j in (*range(i + 1, len(lines)), *range(i - 1, -1, -1)):
        if mapped[j] is not None and _indent(lines[j]) == own:
            return mapped[j]
    return None


def _no_match_message(text: str, shown: str, old: str) -> str:
    lines = text.splitlines()
    old_lines = old.splitlines() or [old]
    if not text.strip():
        return f"old text not found: {shown} is empty"
    best = _closest(lines[:CLOSEST_SCAN_LIMIT], old_lines)
    if best is None:
        return f"old text not found in {shown}, and no passage is similar to it"
    start, ratio = best
    n = len(old_lines)
    window = lines[start : start + n]
    diff = "".join(
        difflib.unified_diff(
            [x + "\n" for x in old_lines],
            [x + "\n" for x in window],
            "old (yours)",
            f"{shown} (file)",
            n=2,
        )
    )
    return (
        f"old text not found in {shown}. Closest match (lines {start + 1}-{start + len(window)}, "
        f"{ratio:.0%} similar); differences:\n{diff}"
    )


def _closest(lines: list[str], old_lines: list[str]) -> tuple[int, float] | None:
    n = len(old_lines)
    target = "\n".join(old_lines)
    best: tuple[int, float] | None = None
    sm = difflib.SequenceMatcher(None, autojunk=False)
    sm.set_seq2(target)
    for i in range(max(len(lines) - n + 1, 1)):
        sm.set_seq1("\n".join(lines[i : i + n]))
        if best is not None and sm.real_quick_ratio() <= best[1]:
            continue
        if best is not None and sm.quick_ratio() <= best[1]:
            continue
        ratio = sm.ratio()
        if best is None or ratio > best[1]:
            best = (i, ratio)
    if best is None or best[1] < 0.4:
        return None
    return best


class Edit(Tool):
    name = "edit"
    kind = "write"
    description = (
        "Replace text in a file: `old` must match exactly one place (copy it from the file with a "
        "few lines of context); `new` replaces it. Set replace_all to change every occurrence. "
        "Does not take line numbers."
    )
    Args = EditArgs

    def _plan(self, ctx: ToolContext, args: EditArgs) -> tuple[EditPlan, object]:
        real = resolve_path(ctx.workspace, args.path, for_write=True)
        shown = rel_posix(ctx.workspace, real)
        text = read_text(real, shown)
        return plan_edit(text, shown, args.old, args.new, args.replace_all), real

    def _preview(self, ctx: ToolContext, args: EditArgs) -> ActionPreview:
        plan, _ = self._plan(ctx, args)
        return ActionPreview(
            kind="write",
            summary=f"edit {plan.shown} (lines {plan.first_line}-{plan.last_line})",
            path=plan.shown,
            diff=unified_diff(plan.before, plan.after, plan.shown),
            range=LineRange(start_line=plan.first_line, end_line=plan.last_line),
        )

    async def _run(self, ctx: ToolContext, args: EditArgs) -> ToolResult:
        plan, real = await asyncio.to_thread(self._plan, ctx, args)
        await asyncio.to_thread(write_atomic, real, plan.after)
        diff = unified_diff(plan.before, plan.after, plan.shown)
        note = "" if plan.how == "exact" else f" (matched ignoring {plan.how})"
        what = (
            f"{plan.count} occurrences"
            if plan.count > 1
            else f"lines {plan.first_line}-{plan.last_line}"
        )
        out, _ = cut_middle(diff, 8000)
        return ToolResult(
            ok=True,
            output=f"edited {plan.shown}: replaced {what}{note}\n{out}",
            data={
                "path": plan.shown,
                "replacements": plan.count,
                "start_line": plan.first_line,
                "end_line": plan.last_line,
                "matched": plan.how,
            },
        )
