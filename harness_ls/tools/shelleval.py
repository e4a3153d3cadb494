"""Where bash evaluates text as code, found on the tree-sitter-bash syntax tree.

`printf -v x 'a[$(…)]'; test -v 'a[x]'` runs the `$(…)` although no part of it is a command a
parser sees: bash evaluates array subscripts and arithmetic recursively, so the *value* of `x` is
code. Every construct that evaluates (arithmetic on variables, array subscripts, `${!x}`,
`${x@P}`, substring offsets, `[[ -eq ]]`, `-v name[…]`, `let`, `declare -i/-n`, …) makes the part
holding it opaque: what it runs is only known when it runs. `plain()` is the other half: the exact
list of syntax a known-safe command line may use at all (the shape of Codex CLI's word-only check).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Query, QueryCursor

from harness_ls.tools.shellhidden import LITERAL_KINDS

_NUMERIC = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|\d+(?:#[0-9A-Za-z@_]+)?)")
_ARITH_OPS = frozenset({"-eq", "-ne", "-lt", "-le", "-gt", "-ge"})
_NAME_OPS = frozenset({"-v", "-R"})
_ARITH_SHELLS = frozenset({"compound_statement", "c_style_for_statement"})
_SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
# builtins that take variable names (a subscript in a name is evaluated as arithmetic)
NAME_BUILTINS = frozenset({"read", "mapfile", "readarray", "unset", "getopts", "wait", "declare",
                           "typeset", "local", "export", "readonly"})  # fmt: skip
DECLARATIONS = frozenset({"declare", "typeset", "local", "export", "readonly"})
# a program that runs or loads what it is given, later or now
_RUNS_TEXT = {
    "alias": "defines an alias: what a later command name runs is only known when it runs",
    "enable": "loads or re-points shell builtins",
    "bind": "binds keys to commands",
    "fc": "re-runs commands from the history",
}

Text = Callable[[Node], str]


def _walk(node: Node) -> Iterator[Node]:
    """The subtree, not descending into `$(…)` / `<(…)` (their commands are parts of their own)."""
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        if cur.type not in _SUBSTITUTIONS or cur is node:
            stack.extend(reversed(cur.children))


def _only_numbers(node: Node, text: Text) -> bool:
    """True when an arithmetic body holds numbers and operators only (`$((1+2))`)."""
    for sub in _walk(node):
        if (sub is node and sub.type == "arithmetic_expansion") or (
            sub.type == "number" and not sub.child_count
        ):
            continue
        if not sub.is_named:
            continue
        if sub.type in ("binary_expression", "unary_expression", "parenthesized_expression",
                        "ternary_expression", "postfix_expression"):  # fmt: skip
            continue
        if sub.type == "word" and _NUMERIC.fullmatch(text(sub)):
            continue
        return False
    return True


def _index_is_literal(sub: Node, text: Text) -> bool:
    """`a[3]`, `a[@]`, `a[*]`: a subscript that evaluates no text."""
    inner = text(sub).split("[", 1)[1][:-1] if "[" in text(sub) else ""
    return inner in ("@", "*") or _NUMERIC.fullmatch(inner) is not None


_CANDIDATES = ("arithmetic_expansion", "expansion", "subscript", "array", "test_command")


def _check(sub: Node, text: Text) -> str | None:
    """Why one candidate node evaluates text, or None (its own subtree only)."""
    kind = sub.type
    if kind == "arithmetic_expansion" and not _only_numbers(sub, text):
        return f"evaluates arithmetic on variables ({_short(text(sub))})"
    if kind == "expansion":
        return _expansion(sub, text)
    if kind == "subscript" and not _index_is_literal(sub, text):
        return f"evaluates an array subscript ({_short(text(sub))})"
    if kind == "array":
        for el in sub.named_children:
            first = el.children[0] if el.type == "concatenation" and el.children else None
            if first is not None and text(first) == "[" and not _only_index(el, text):
                return f"evaluates an array subscript ({_short(text(el))})"
    if kind == "test_command":
        return _test_command(sub, text)
    return None


class Evaluations:
    """Every node of a tree that makes bash evaluate text, found once per parse by a tree-sitter
    query (in C) and looked up by byte range for each part."""

    def __init__(self, caps: dict[str, list[Node]], text: Text) -> None:
        self.found: list[tuple[int, int, str]] = []
        for node in caps.get("c", []):
            why = _check(node, text)
            if why:
                self.found.append((node.start_byte, node.end_byte, why))
        # document order, outermost first: the query's capture order is not stable across calls
        # for a tree with errors, and `within` names the first one
        self.found.sort(key=lambda f: (f[0], -f[1]))

    def within(self, node: Node) -> str | None:
        """The first evaluating construct inside `node` (substitutions included), or None."""
        if not self.found:
            return None
        start, end = node.start_byte, node.end_byte
        return next((why for s, e, why in self.found if start <= s and e <= end), None)


def node_evaluates(node: Node, text: Text) -> str | None:
    """Why `node` (a word, an assignment, a statement) makes bash evaluate text, or None."""
    for sub in _walk(node):
        if sub.type in _CANDIDATES and (why := _check(sub, text)):
            return why
        if sub.type in _ARITH_SHELLS and (why := arith_header(sub, text)):
            return why
    return None


def arith_header(node: Node, text: Text) -> str | None:
    """`(( … ))` and `for (( … ))`: their header is arithmetic (the loop body has parts)."""
    kids = node.children
    if not kids or not (kids[0].type == "((" or (kids[0].type == "for" and len(kids) > 1
                                                 and kids[1].type == "((")):  # fmt: skip
        return None
    for c in kids:
        if c.type == "do_group":
            break
        if c.is_named and not (
            (c.type == "number" and not c.child_count) or _only_numbers(c, text)
        ):
            return f"evaluates arithmetic on variables ({_short(text(node).split(chr(10))[0])})"
    return None


def _only_index(el: Node, text: Text) -> bool:
    raw = text(el)
    inner = raw[1 : raw.find("]")] if "]" in raw else raw
    return _NUMERIC.fullmatch(inner) is not None


def _expansion(node: Node, text: Text) -> str | None:
    kids = node.children
    kinds = [c.type for c in kids]
    if len(kids) > 1 and kinds[1] == "!" and kinds[-2:-1] not in (["*"], ["@"]):
        return f"evaluates an indirect expansion ({_short(text(node))})"
    for i, k in enumerate(kinds):
        if k == "@" and i + 1 < len(kids) and text(kids[i + 1]) == "P":
            return f"evaluates a prompt expansion ({_short(text(node))})"
        if k == ":" and not all(_only_numbers(c, text) for c in kids[i + 1 : -1] if c.is_named):
            return f"evaluates a substring offset ({_short(text(node))})"
    return None


def _test_command(node: Node, text: Text) -> str | None:
    double = bool(node.children) and node.children[0].type == "[["  # `[` compares numbers only
    for sub in _walk(node):
        if sub.type == "binary_expression" and double:
            ops = [c for c in sub.children if text(c) in _ARITH_OPS]
            operands = [c for c in sub.named_children if c.type != "test_operator"]
            if ops and not all(_NUMERIC.fullmatch(text(c)) for c in operands):
                return f"evaluates arithmetic in [[ ]] ({_short(text(sub))})"
        if sub.type == "unary_expression" and sub.children:
            if text(sub.children[0]) in _NAME_OPS and "[" in text(sub):
                return f"evaluates an array subscript ({_short(text(sub))})"
    return None


def argv_evaluates(argv: tuple[str, ...]) -> str | None:
    """Why a command line (after quote removal) makes a builtin evaluate text, or None."""
    if not argv or argv[0] not in _EVAL_HEADS:
        return None
    head = argv[0]
    if head == "let" and not all(_NUMERIC.fullmatch(a) for a in argv[1:]):
        return "let evaluates arithmetic on variables"
    if head in _RUNS_TEXT and (head != "enable" or any(a.startswith("-") for a in argv[1:])):
        if head != "alias" or any("=" in a for a in argv[1:]):
            return f"{head}: {_RUNS_TEXT[head]}"
    if head == "hash" and any(a.startswith("-") and "p" in a for a in argv[1:]):
        return "hash -p re-points a command name at another program"
    if head in ("complete", "compgen") and any(
        a.startswith("-") and ("C" in a or "F" in a) for a in argv[1:]
    ):
        return f"{head} -C/-F runs a command or function"
    if head in DECLARATIONS:
        flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
        if "i" in flags or "n" in flags:
            return f"{head} -{'i' if 'i' in flags else 'n'} evaluates the values it is given"
    if head in NAME_BUILTINS:
        for a in argv[1:]:
            name = a.split("=", 1)[0]
            if "[" in name and not a.startswith("-"):
                return f"{head} evaluates the array subscript in {_short(name)}"
    if head == "printf":
        value = _option_value(argv, "-v")
        if value is not None and "[" in value:
            return f"printf -v evaluates the array subscript in {_short(value)}"
    if head in ("test", "["):
        for i, a in enumerate(argv[1:-1], 1):
            if a in _NAME_OPS and "[" in argv[i + 1]:
                return f"{head} {a} evaluates the array subscript in {_short(argv[i + 1])}"
    return None


_EVAL_HEADS = frozenset({"let", "hash", "complete", "compgen", "printf", "test", "[", *_RUNS_TEXT,
                         *DECLARATIONS, *NAME_BUILTINS})  # fmt: skip
EVAL_HEADS = _EVAL_HEADS  # argv_evaluates is None for any other first word


def _option_value(argv: tuple[str, ...], opt: str) -> str | None:
    for i, a in enumerate(argv[1:], 1):
        if a == opt and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(opt) and len(a) > len(opt) and not a.startswith("--"):
            return a[len(opt) :]
        if a == "--" or not a.startswith("-"):
            return None
    return None


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:59] + "…"


# -- the exact syntax a known-safe command line may use ------------------------------------

PLAIN_KINDS = frozenset({
    "program", "list", "pipeline", "command", "command_name", "word", "string", "string_content",
    "raw_string", "ansi_c_string", "number", "concatenation", "redirected_statement",
    "file_redirect", "file_descriptor", "comment", "negated_command", "herestring_redirect",
    "heredoc_redirect", "heredoc_start", "heredoc_body", "heredoc_content", "heredoc_end",
    "test_command", "binary_expression", "unary_expression", "parenthesized_expression",
    "test_operator", "regex", "extglob_pattern",
})  # fmt: skip
PLAIN_TOKENS = frozenset({
    "&&", "||", ";", "|", "|&", '"', "'", "\n", ">", ">>", "<", ">&", "<&", "&>", "&>>", ">|",
    "<<", "<<-", "<<<", "[[", "]]", "[", "]", "!", "(", ")", "==", "!=", "=~", "=", "-a", "-o",
})  # fmt: skip


def scan(root: Node) -> dict[str, list[Node]]:
    """One query over the tree: what a plain line may not use (`bad`), here-docs (`heredoc`) and
    the nodes that may evaluate text (`c`)."""
    return QueryCursor(_query()).captures(root)


def plain(caps: dict[str, list[Node]], text: Text) -> str | None:
    """None when the whole tree uses only word-only commands joined by `;` `&&` `||` `|`, literal
    here-docs and redirections (no substitution, expansion, assignment, loop, function, subshell,
    background job); else what it uses. Known-safe commands are auto-allowed only then. The kinds
    not allowed are the grammar's own list minus PLAIN_KINDS / PLAIN_TOKENS, so a kind a newer
    grammar adds is refused too."""
    bad = caps.get("bad")
    if bad:
        # outermost first at a shared start (`` `x` `` is a substitution, not its '`' token):
        # the captures' order for nodes starting together is not stable across calls
        # (the key's other fields only for the nodes at the first start: same node as a min
        # over the whole key, fewer lookups)
        starts = [n.start_byte for n in bad]
        lo = min(starts)
        tied = [n for n, s in zip(bad, starts, strict=True) if s == lo]
        first = (
            tied[0] if len(tied) == 1
            else min(tied, key=lambda n: (-n.end_byte, not n.is_named, n.type))
        )  # fmt: skip
        name = first.type.replace("_", " ") if first.is_named else repr(first.type)
        return f"uses {name}"
    for node in caps.get("heredoc", []):
        if not _quoted_heredoc(node, text):
            body = next((c for c in node.children if c.type == "heredoc_body"), None)
            if body is not None and any(ch in text(body) for ch in "$`\\"):
                return "a here-doc that expands text"
    return None


@lru_cache(maxsize=1)
def _query() -> Query:
    """The compiled scan query; the kinds a plain line may not use are the grammar's own kinds
    minus PLAIN_KINDS / PLAIN_TOKENS."""
    lang = Language(tree_sitter_bash.language())
    named, tokens = set(), set()
    for i in range(lang.node_kind_count):
        if lang.node_kind_is_visible(i):
            kind = lang.node_kind_for_id(i)
            (named if lang.node_kind_is_named(i) else tokens).add(kind)
    bad = sorted(named - PLAIN_KINDS - {"ERROR"})
    bad_tokens = sorted(t for t in tokens - PLAIN_TOKENS - _WORD_PUNCT if t.strip())
    quoted = [
        '"' + t.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        for t in bad_tokens
    ]
    return Query(lang, "[" + " ".join(f"({k})" for k in bad) + " " + " ".join(quoted) + "] @bad "
                 "(heredoc_redirect) @heredoc "
                 "[" + " ".join(f"({k})" for k in _CANDIDATES) + "] @c "
                 "[" + " ".join(f"({k})" for k in LITERAL_KINDS) + "] @lit")  # fmt: skip


_WORD_PUNCT = frozenset({"{", "}", "$"})


def _quoted_heredoc(redirect: Node, text: Text) -> bool:
    """`<<'EOF'`, `<<"EOF"`, `<<\\EOF`, `<<E"OF"`: any quoting in the delimiter keeps the body
    literal."""
    start = next((c for c in redirect.children if c.type == "heredoc_start"), None)
    return start is not None and any(q in text(start) for q in "'\"\\")


def quoted_body(body: Node, text: Text) -> bool:
    """A here-doc body bash keeps literal (its redirection's delimiter is quoted)."""
    return body.parent is not None and _quoted_heredoc(body.parent, text)
