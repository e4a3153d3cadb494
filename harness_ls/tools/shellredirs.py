"""Redirections for shellparse's walker: what each one opens (`2>&1`, `> file`, `<<EOF`,
`<<<`), and the here-doc bodies bash evaluates. A mixin (like shellunwrap's and shellwordnodes'):
needs `text`, `word`, `group_literal`, `span` and `add` from the walker.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tree_sitter import Node

from harness_ls.tools.shellnodes import redirect_split, walk
from harness_ls.tools.shellparts import Redirect, SimpleCommand

_HEREDOC_EVAL = re.compile(r"\$\(\(|\$\[|\$\{[^}]*[!@:\[]")


class Redirections:
    """Needs `text`, `word`, `group_literal`, `span` and `add` from the walker."""

    text: Callable[[Node], str]

    def word(self, node: Node) -> str:  # pragma: no cover - provided by shellwordnodes.Words
        raise NotImplementedError

    def group_literal(self, group: list[Node]) -> str | None:  # pragma: no cover - Words
        raise NotImplementedError

    def span(self, nodes: list[Node]) -> str:  # pragma: no cover - Words
        raise NotImplementedError

    def add(self, part: SimpleCommand) -> None:  # pragma: no cover - provided by the walker
        raise NotImplementedError

    def redirect(self, node: Node, split: tuple[list[Node], list[Node]] | None = None) -> Redirect:
        fd = node.child_by_field_name("descriptor")
        op = next((c.type for c in node.children if not c.is_named), "")
        if node.type == "heredoc_redirect":
            start = next((c for c in node.children if c.type == "heredoc_start"), None)
            return Redirect("<<", self.text(start).strip("'\"") if start else "")
        if node.type == "herestring_redirect":
            body = next((c for c in node.children if c.is_named), None)
            return Redirect("<<<", self.word(body) if body else "")
        target = (split or redirect_split(node))[0]
        if not target:
            return Redirect((self.text(fd) if fd else "") + op, "")
        return Redirect(
            (self.text(fd) if fd else "") + op, self.group_literal(target) or self.span(target)
        )

    def heredoc_payloads(self, node: Node, ctx: str, bg: bool) -> None:
        """An unquoted here-doc runs backticks and evaluates `$((…))`, but the grammar leaves
        backticks as text and misreads `$((…))` as a subshell: both make an opaque part."""
        for sub in walk(node):
            if sub.type != "heredoc_body" or sub.parent is None or sub.parent.child_count < 2:
                continue
            start, body = sub.parent.children[1], self.text(sub)
            if start.type != "heredoc_start" or self.text(start).startswith(("'", '"')):
                continue
            why = "backticks inside an unquoted here-doc" if "`" in body else None
            if why is None and _HEREDOC_EVAL.search(body):
                why = "evaluates arithmetic or an expansion inside an unquoted here-doc"
            if why:
                self.add(SimpleCommand(("<<",), body, (), ctx, bg, why, (True,)))
