"""Where a fix puts its text, and what must come with it so the markdown stays the same.

A fix is a plain text edit, but a correct one has to know the document: a missing section goes
before the next present one in schema order, text appended after an unclosed fence or HTML
comment closes it first, a section moved off the end takes the closers it relied on, a setext
heading spans two lines. Kept apart from spec/validate.py, which decides *what* is wrong; this
module only builds the edits (and the anchor a problem is reported at, next to its edit).
"""

from __future__ import annotations

from harness_ls.spec.headings import Match
from harness_ls.spec.model import Fix, Range, TextEdit
from harness_ls.spec.parse import Heading, ParsedSpec
from harness_ls.spec.schema import SectionSpec, SpecSchema


def canonical_heading(section: SectionSpec) -> str:
    return f"{'#' * section.level} {section.heading}"


def fix_heading(parsed: ParsedSpec, h: Heading, section: SectionSpec, title: str) -> Fix:
    line = parsed.lines[h.line]
    if h.setext:
        edits = [
            TextEdit(
                range=Range.of(h.line, 0, h.end_line - 1, len(parsed.lines[h.end_line - 1])),
                new_text=canonical_heading(section),
            )
        ]
    else:
        edits = [
            TextEdit(
                range=Range.of(h.line, 0, h.line, len(line)), new_text=canonical_heading(section)
            )
        ]
    return Fix(title=title, edits=edits, preferred=True)


def insert_point(
    parsed: ParsedSpec, schema: SpecSchema, section: SectionSpec, present: dict[str, Match]
) -> int | None:
    """The line before which a missing section goes: before the next present section in schema order."""
    order = [s.id for s in schema.sections]
    pos = order.index(section.id)
    for later in order[pos + 1 :]:
        m = present.get(later)
        if m is not None:
            return parsed.headings[m.index].line
    return None  # append at end


def append_edit(parsed: ParsedSpec, block: str) -> TextEdit:
    """Append `block` at the end, closing an unterminated fence or comment first."""
    last = len(parsed.lines) - 1
    end_col = len(parsed.lines[last])
    prefix = ""
    fence = parsed.open_fence_at_end
    if fence is not None:
        prefix = ("\n" if end_col else "") + fence.marker + "\n"
    elif parsed.html_comment_open_at_end:
        prefix = ("\n" if end_col else "") + "-->\n"
    elif end_col:
        prefix = "\n"
    body = prefix
    if parsed.lines[last].strip() or prefix:
        body += "\n"
    elif last > 0 and parsed.lines[last - 1].strip():
        body += "\n"
    return TextEdit(range=Range.of(last, end_col, last, end_col), new_text=body + block)


def section_block(section: SectionSpec) -> str:
    placeholder = section.placeholder or "TODO"
    return f"{canonical_heading(section)}\n\n{placeholder}\n"


def end_anchor(parsed: ParsedSpec) -> Range:
    """Where a section appended at the end is reported: the last non-blank line, so the
    problem sits next to where its fix inserts the heading (and every editor shows that line)."""
    last = next((i for i in range(len(parsed.lines) - 1, -1, -1) if parsed.lines[i].strip()), 0)
    line = parsed.lines[last]
    start = len(line) - len(line.lstrip())
    return Range.of(last, start, last, len(line.rstrip()))


def closers(parsed: ParsedSpec, start: int) -> str:
    """What a last section moved off the end needs to stay the same markdown: the closing
    marker of a fence (or HTML comment) it opened and the end of the text closed, else that
    fence would swallow every heading after its new place."""
    out = ""
    fence = parsed.open_fence_at_end
    if fence is not None and fence.line >= start:
        out += fence.marker + "\n"
    if parsed.html_comment_open_at_end:
        out += "-->\n"
    return out


def fence_open_at(parsed: ParsedSpec, line: int) -> str | None:
    for f in parsed.fences:
        if f.line <= line < f.end_line and not f.closed:
            return f.marker
    return None
