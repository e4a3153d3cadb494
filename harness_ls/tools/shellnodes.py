"""Syntax-tree helpers for shellparse: how tree-sitter-bash lays out words, redirections and
`[[ … ]]`, kept apart from the walker that turns them into simple commands (pure functions of a
node, no walker state).
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node


def first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child.has_error:
            return first_error(child)
    return None


TEST_WORDS = frozenset({"word", "string", "raw_string", "ansi_c_string", "number", "concatenation",
                         "regex", "extglob_pattern", "test_operator", "simple_expansion", "expansion",
                         "command_substitution", "arithmetic_expansion"})  # fmt: skip


def adjacent(nodes: list[Node]) -> list[list[Node]]:
    """Nodes that touch (no blank between them) make one shell word."""
    groups: list[list[Node]] = []
    end = -1
    for n in nodes:
        if n.start_byte == end:
            groups[-1].append(n)
        else:
            groups.append([n])
        end = n.end_byte
    return groups


def last_command(node: Node) -> Node | None:
    """The simple command bash gives the words after a statement's redirection to: the last one
    of a list or pipeline."""
    while node.type in ("list", "pipeline", "negated_command") and node.named_child_count:
        node = node.named_children[-1]
    return node if node.type == "command" else None


def redirect_split(node: Node) -> tuple[list[Node], list[Node]]:
    """(target nodes, argument nodes) of a file or here-string redirection: tree-sitter hangs the
    words after `> file` under the redirection, bash gives them to the command."""
    if node.type not in ("file_redirect", "herestring_redirect"):
        return [], []
    kids = [c for c in node.children if c.is_named and c.type != "file_descriptor"]
    if not kids:
        return [], []
    groups = adjacent(kids)
    return groups[0], [n for g in groups[1:] for n in g]


def test_words(node: Node) -> list[Node]:
    """The words and operators of `[[ … ]]` in order (a word node is not split further)."""
    out: list[Node] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur is not node and (cur.type in TEST_WORDS or (not cur.is_named and not cur.children)):
            out.append(cur)
            continue
        stack.extend(reversed(cur.children))
    return out


def command_fields(node: Node) -> tuple[list[Node], list[Node], list[Node], bool]:
    """(name and argument nodes, redirections as `redirects` gives them, variable assignments,
    whether a child is the `name` field) of a simple command, in source order, from one pass
    over its children (the hot path: each field lookup would walk the children again)."""
    words: list[Node] = []
    redirs: list[Node] = []
    assigns: list[Node] = []
    named = False
    field_name = node.field_name_for_child
    for i, child in enumerate(node.children):
        field = field_name(i)
        if field is None:
            if child.type == "variable_assignment":
                assigns.append(child)
            continue
        if field == "argument":
            words.append(child)
        elif field == "name":
            words.append(child)
            named = True
        elif field == "redirect":
            redirs.append(child)
            if child.type == "heredoc_redirect":
                redirs += [c for c in child.children if c.type.endswith("_redirect")]
        if child.type == "variable_assignment":
            assigns.append(child)
    return words, redirs, assigns, named


def redirects(node: Node) -> list[Node]:
    """Redirections of a statement; one after a here-doc start hangs under the here-doc node."""
    out = []
    for r in node.children_by_field_name("redirect"):
        out.append(r)
        if r.type == "heredoc_redirect":
            out += [c for c in r.children if c.type.endswith("_redirect")]
    return out


def substitutions(node: Node) -> Iterator[Node]:
    """`$(…)`, backticks and `<(…)` inside a word, outermost only (inner ones are found later)."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type in ("command_substitution", "process_substitution"):
            yield cur
            continue
        stack.extend(reversed(cur.children))


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(cur.children))
