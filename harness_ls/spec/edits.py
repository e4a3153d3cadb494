"""Applying plain text edits (code-point ranges) to text: used by fix-all, `check --fix` and tests."""

from __future__ import annotations

from collections.abc import Iterable

from harness_ls.spec.model import TextEdit
from harness_ls.spec.parse import split_lines


def _offsets(text: str) -> list[int]:
    """Offset of each line start in `text`, with the same line breaks as split_lines."""
    starts = [0]
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\r":
            i += 2 if i + 1 < n and text[i + 1] == "\n" else 1
            starts.append(i)
        elif c == "\n":
            i += 1
            starts.append(i)
        else:
            i += 1
    return starts


def apply_edits(text: str, edits: Iterable[TextEdit]) -> str:
    """Apply non-overlapping edits given in the original text's coordinates."""
    starts = _offsets(text)
    lines = split_lines(text)

    def offset(line: int, char: int) -> int:
        if line >= len(starts):
            return len(text)
        return starts[line] + min(char, len(lines[line]))

    spans = sorted(
        (
            (
                offset(e.range.start.line, e.range.start.character),
                offset(e.range.end.line, e.range.end.character),
                i,
                e.new_text,
            )
            for i, e in enumerate(edits)
        ),
        key=lambda s: (s[0], s[1], s[2]),
    )
    out: list[str] = []
    pos = 0
    for start, end, _, new in spans:
        start = max(start, pos)
        out.append(text[pos:start])
        out.append(new)
        pos = max(pos, end)
    out.append(text[pos:])
    return "".join(out)


def line_break_of(text: str) -> str:
    """The line break `text` uses: that of its first line ("\\n" when it has none)."""
    i = text.find("\n")
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def with_line_break(edit: TextEdit, eol: str) -> TextEdit:
    """`edit` with its inserted line breaks written as `eol`."""
    if "\n" not in edit.new_text:
        return edit
    return TextEdit(edit.range, edit.new_text.replace("\r\n", "\n").replace("\n", eol))
