"""Substitutions bash runs that the grammar left as text: the check that the walk saw them all.

tree-sitter-bash does not look inside every word: in `${y:-`cmd`}`, `${y#<(cmd)}` or
`[[ <(cmd) ]]` the backticks or `<(…)` stay plain text of an expansion or a test, so no part is
made for `cmd` and an allow rule for the outer command (or a deny rule's absence) would decide
for it. Instead of trusting the grammar to find every substitution, each place in the source
where bash could start one — an unescaped backtick, `$(` (not `$((`), `<(`, `>(` — outside text
bash never runs (single quotes, `$'…'`, comments, the body of a quoted here-doc) must be the
start (or, for a backtick, the end) of a substitution node the walk visited. One that is not
makes the command opaque: it asks in every mode, whatever the rules say.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tree_sitter import Node

_MARKERS = re.compile(rb"\\.|`|\$\((?!\()|[<>]\(", re.DOTALL)
LITERAL_KINDS = ("raw_string", "ansi_c_string", "comment", "heredoc_body")


def might_hide(data: bytes) -> bool:
    """Cheap pre-test: no marker byte at all means nothing can hide."""
    return b"`" in data or b"$(" in data or b"<(" in data or b">(" in data


def hidden_substitution(
    data: bytes,
    literal: list[Node],
    seen: set[int],
    spans: list[tuple[int, int]],
    quoted_body: Callable[[Node], bool],
) -> str | None:
    """Why a substitution hides from the walk, or None. `literal`: the tree's nodes of
    LITERAL_KINDS (a here-doc body counts only when `quoted_body` says its delimiter is quoted);
    `seen`: start and end-1 byte offsets of the substitution nodes the walk visited; `spans`:
    their byte ranges (an escaped backtick inside one is a nested substitution bash runs)."""
    skip = [
        (n.start_byte, n.end_byte) for n in literal if n.type != "heredoc_body" or quoted_body(n)
    ]
    for m in _MARKERS.finditer(data):
        pos, token = m.start(), m.group()
        if any(s <= pos < e for s, e in skip):
            continue
        if token.startswith(b"\\"):
            if token == b"\\`" and any(s < pos < e for s, e in spans):
                return _why(data, pos, "a backtick substitution nested in another")
            continue
        if pos not in seen:
            return _why(data, pos, "a substitution the parser did not see as a command")
    return None


def _why(data: bytes, pos: int, what: str) -> str:
    near = data[max(0, pos - 12) : pos + 28].decode("utf-8", "replace").replace("\n", " ")
    return f"{what} (near {near!r}): what it runs is only known when it runs"
