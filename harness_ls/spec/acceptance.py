"""The runnable acceptance tests of a spec, for the verify step and the code lens."""

from __future__ import annotations

import re

from harness_ls.spec.model import AcceptanceTest
from harness_ls.spec.parse import ParsedSpec, is_list_item, parse_spec
from harness_ls.spec.validate import normalize

SHELL_INFOS = {"", "sh", "bash", "shell", "console", "zsh", "shell-session", "cmd"}
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")


def _acceptance_index(parsed: ParsedSpec, heading: str) -> int | None:
    want = normalize(heading)
    for idx, h in enumerate(parsed.headings):
        if normalize(h.text) == want:
            return idx
    return None


def acceptance_commands(text: str, heading: str = "Acceptance tests") -> list[AcceptanceTest]:
    """Commands under the acceptance heading: each fenced shell block's non-comment lines (a
    `$ ` prompt is stripped) and the first inline code span of each list item."""
    parsed = parse_spec(text)
    idx = _acceptance_index(parsed, heading)
    if idx is None:
        return []
    body = parsed.body_lines(idx)
    out: list[AcceptanceTest] = []
    fenced: set[int] = set()
    for f in parsed.fences:
        if not (body.start <= f.line < body.stop):
            continue
        fenced.update(range(f.line, f.end_line))
        if f.info.split(" ")[0].lower() not in SHELL_INFOS:
            continue
        for offset, raw in enumerate(f.content.splitlines()):
            cmd = raw.strip()
            if cmd.startswith("$ "):
                cmd = cmd[2:].strip()
            if cmd and not cmd.startswith("#"):
                out.append(
                    AcceptanceTest(command=cmd, line=f.content_line + offset, source="fence")
                )
    for i in body:
        line = parsed.lines[i]
        if i in fenced or not is_list_item(line):
            continue
        m = _INLINE_CODE.search(line)
        if m and m.group(2).strip():
            out.append(AcceptanceTest(command=m.group(2).strip(), line=i, source="inline"))
    out.sort(key=lambda t: t.line)
    return out
