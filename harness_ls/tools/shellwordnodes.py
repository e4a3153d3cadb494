"""Shell words after quote removal, for shellparse's walker: what a word is before it runs.

A mixin (like shellunwrap's): `literal` gives a word's value when bash would not expand it
(`'r'\\m` is `rm`, `$'\\x41'` is `A`), None when only the run knows it; `name_opaque` says why a
command name cannot be known. Needs `text(node)`, `source`, `data` and `ascii` from the walker.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

from tree_sitter import Node

from harness_ls.tools.shellnodes import walk
from harness_ls.tools.shellwords import unescape

GLOB = frozenset("*?[{")
_DYNAMIC = frozenset("$`")


class Words:
    """Needs `text`, `source`, `data` and `ascii` from the walker."""

    text: Callable[[Node], str]
    source: str
    data: bytes
    ascii: bool

    def group_literal(self, group: list[Node]) -> str | None:
        if len(group) == 1:
            return self.literal(group[0])
        pieces = [self.literal(n) for n in group]
        return None if any(p is None for p in pieces) else "".join(pieces)  # type: ignore[arg-type]

    def span(self, nodes: list[Node]) -> str:
        start, end = nodes[0].start_byte, nodes[-1].end_byte
        if self.ascii:
            return self.source[start:end]
        return self.data[start:end].decode("utf-8", "replace")

    def name_opaque(self, group: list[Node], value: str | None) -> str | None:
        if value is not None and GLOB.isdisjoint(value):
            return None  # no glob character at all, quoted or not
        shown = self.span(group)
        if value is None:
            return f"the command name {shown!r} is only known when it runs"
        for name in group:
            subs = (
                [name.children[0]]
                if name.child_count == 1 and name.children[0].type == "word"
                else walk(name)
            )
            for sub in subs:
                if sub.type == "word" and not GLOB.isdisjoint(self.text(sub)):
                    return f"the command name {shown!r} is a glob or brace expansion"
        return None

    def word(self, node: Node) -> str:
        value = self.literal(node)
        return self.text(node) if value is None else value

    def literal(self, node: Node) -> str | None:
        """The word after quote removal, or None when it expands at run time."""
        kind = node.type
        if kind == "word" or kind == "number":
            if node.child_count:  # `10#$(…)`, `2#${x}`: a number holding an expansion
                return None
            raw = self.text(node)
            return raw if "\\" not in raw else unescape(raw, inside_quotes=False)
        if kind == "command_name":
            return self.literal(node.children[0]) if node.child_count == 1 else None
        if kind == "raw_string":
            return self.text(node)[1:-1]
        if kind == "ansi_c_string":
            try:
                raw = self.text(node)[2:-1]
                return codecs.decode(raw.encode("latin-1", "backslashreplace"), "unicode_escape")
            except (UnicodeDecodeError, ValueError):
                return None
        if kind in ("string", "translated_string"):
            out = []
            for child in node.children:
                if child.type == "string_content":
                    out.append(unescape(self.text(child), inside_quotes=True))
                elif child.is_named:
                    return None
            return "".join(out)
        if kind == "concatenation":
            pieces = [self.literal(c) for c in node.children]
            return None if any(p is None for p in pieces) else "".join(pieces)  # type: ignore[arg-type]
        if kind == "variable_assignment":
            return self.text(node)
        if kind == "test_operator" or (
            kind in ("regex", "extglob_pattern") and not _DYNAMIC.intersection(self.text(node))
        ):
            return self.text(node)
        return None
