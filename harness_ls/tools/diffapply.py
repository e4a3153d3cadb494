"""Apply a unified diff (as the write/edit tools produce it) to a text: the "after" side of an
approval's preview, for editors that show a two-sided diff view instead of a patch.

Strict on purpose: every context and removed line must match where its hunk says, otherwise the
result is None (the file changed since the preview, or the diff was cut) and the caller falls
back to showing the patch itself — a wrong "after" is worse than none.
"""

from __future__ import annotations

import re

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NO_NEWLINE = "\\ No newline at end of file"


def apply_unified_diff(before: str, diff: str) -> str | None:
    """The text `diff` turns `before` into, or None when the diff does not apply exactly."""
    old = before.splitlines(keepends=True)
    out: list[str] = []
    pos = 0  # next line of `old` not yet copied
    lines = diff.splitlines(keepends=True)
    i = 0
    while i < len(lines) and not lines[i].startswith("@@"):
        i += 1  # the ---/+++ header
    if i == len(lines):
        return None
    while i < len(lines):
        m = _HUNK.match(lines[i])
        if m is None:
            return None
        start = int(m.group(1)) - (0 if m.group(2) == "0" else 1)
        if start < pos or start > len(old):
            return None
        out.extend(old[pos:start])
        pos = start
        i += 1
        tag = ""
        while i < len(lines) and not lines[i].startswith("@@"):
            line = lines[i]
            if line.rstrip("\r\n") == _NO_NEWLINE:
                if tag in (" ", "+") and out:  # the line before it ends the new text
                    out[-1] = out[-1].rstrip("\r\n")
                i += 1
                continue
            tag, body = line[:1], line[1:]
            if tag in (" ", "-"):
                if pos >= len(old) or old[pos].rstrip("\r\n") != body.rstrip("\r\n"):
                    return None
                if tag == " ":
                    out.append(old[pos])
                pos += 1
            elif tag == "+":
                out.append(body)
            elif line.strip():
                return None
            i += 1
    out.extend(old[pos:])
    return "".join(out)
