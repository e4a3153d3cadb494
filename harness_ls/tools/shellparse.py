"""Shell commands parsed into the simple commands bash would run, so policy decides on a parse.

A string matcher sees `pytest -q\\nrm -rf x` as one command; bash runs two. tree-sitter-bash (the
grammar Codex CLI uses for its safe-command check) splits across `;` `&&` `||` `|` `&`, newlines,
subshells, `$(…)`, backticks, process substitution and here-docs; `bash -c '…'`, `eval '…'` and
wrappers (`env`, `command`, `xargs`, `find -exec`, `timeout`, `sudo`…) are unwrapped so the command
they run is a part of its own. What cannot be known before running (a variable in command
position, `eval "$x"`) is marked opaque with the reason; callers must not allow opaque commands.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from harness_ls.tools.shelleval import (
    EVAL_HEADS,
    Evaluations,
    argv_evaluates,
    arith_header,
    plain,
    quoted_body,
    scan,
)
from harness_ls.tools.shellhidden import hidden_substitution, might_hide
from harness_ls.tools.shellnodes import (
    adjacent,
    command_fields,
    first_error,
    last_command,
    redirect_split,
    redirects,
    substitutions,
    test_words,
)
from harness_ls.tools.shellparts import ParsedCommand, Redirect, SimpleCommand
from harness_ls.tools.shellredirs import Redirections
from harness_ls.tools.shellunwrap import SHELLS, UNWRAP_HEADS, Unwrapper, derived
from harness_ls.tools.shellwordnodes import GLOB, Words
from harness_ls.tools.shellwords import risky_var, unescape

__all__ = ["SHELLS", "ParsedCommand", "Redirect", "SimpleCommand", "parse_command"]

MAX_DEPTH = 8  # nested `bash -c` / `eval` payloads before giving up (opaque)
MAX_NESTING = 120  # syntax-tree levels (subshells, `$(…)`, `&&` chains) before giving up (opaque)
_CONTEXTS = {
    "$(": "$()",
    "`": "`",
    "<(": "<()",
    ">(": ">()",
}
_SUBST_MARKS = frozenset("$`(")  # `$(…)`, backticks, `<(…)` / `>(…)`
_LEAF_WORDS = frozenset({"word", "number", "raw_string", "ansi_c_string"})
_PLAIN_ARGS = frozenset({"word", "number", "raw_string"})  # literal without a decode step


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


@lru_cache(maxsize=512)
def parse_command(source: str) -> ParsedCommand:
    """The simple commands of `source`, in source order (nested ones after their parent)."""
    return _parse(source, "", 0)


def _parse(source: str, context: str, depth: int) -> ParsedCommand:
    if depth > MAX_DEPTH:
        return ParsedCommand(source, (), f"nested more than {MAX_DEPTH} levels deep")
    data = source.encode("utf-8", "surrogatepass")
    root = _parser().parse(data).root_node  # one Node object: each root_node read makes one
    walker = _Walker(data, depth)
    caps = scan(root)
    walker.evals = Evaluations(caps, walker.text)
    walker.visit(root, context, (), False)
    if might_hide(data):
        quoted = partial(quoted_body, text=walker.text)
        why = hidden_substitution(data, caps.get("lit", []), walker.seen, walker.spans, quoted)
        if why:
            walker.add(
                SimpleCommand((source[:200],), source[:200], (), context, False, why, (True,))
            )
    opaque = None
    if root.has_error:
        bad = first_error(root)
        near = data[bad.start_byte : bad.start_byte + 40].decode("utf-8", "replace") if bad else ""
        opaque = f"bash could not parse the command (near {near!r})" if near else "unparsable"
    # a payload's shape is not used (payload() keeps its parts and opaque): only the top's
    shape = opaque or (plain(caps, walker.text) if depth == 0 else None)
    return ParsedCommand(source, tuple(walker.parts), opaque, shape)


class _Walker(Unwrapper, Words, Redirections):
    def __init__(self, data: bytes, depth: int) -> None:
        self.data = data
        self.ascii = data.isascii()
        self.source = data.decode("ascii") if self.ascii else ""
        self.depth = depth
        self.parts: list[SimpleCommand] = []
        self.level = 0  # syntax-tree nesting, bounded so a hostile command cannot blow the stack
        self.too_deep = False
        self.evals: Evaluations
        self.pending: dict[tuple[int, int], tuple[Node, ...]] = {}  # words a redirect took
        self.seen: set[int] = set()  # first and last byte of each substitution visited
        self.spans: list[tuple[int, int]] = []
        self.text: Callable[[Node], str] = self._ascii_text if self.ascii else self._utf8_text

    def _ascii_text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte]  # byte offsets are char offsets

    def _utf8_text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def visit(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool) -> None:
        # no try/finally: an exception ends the whole parse, so the level needs no restoring
        self.level += 1
        if self.level > MAX_NESTING:
            if not self.too_deep:
                self.too_deep = True
                why = f"nested more than {MAX_NESTING} levels deep"
                self.add(SimpleCommand((), self.text(node)[:200], (), ctx, bg, why))
        else:
            kind = node.type  # the common kinds first, without dispatch's chain of tests
            if kind == "command":
                extra = (
                    self.pending.pop((node.start_byte, node.end_byte), ()) if self.pending else ()
                )
                if extra or not self.words_only(node, ctx, redirs, bg):  # command(), one call less
                    self.general(node, ctx, redirs, bg, extra)
            elif kind == "list" or kind == "program":  # dispatch's last branch
                self.children(node, ctx, redirs, bg)
            else:
                self.dispatch(node, ctx, redirs, bg)
        self.level -= 1

    def dispatch(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool) -> None:
        kind = node.type
        if kind == "command":
            extra = self.pending.pop((node.start_byte, node.end_byte), ()) if self.pending else ()
            self.command(node, ctx, redirs, bg, extra)
        elif kind == "redirected_statement":
            redirect_nodes = redirects(node)
            splits = [redirect_split(r) for r in redirect_nodes]
            own = tuple(self.redirect(r, sp) for r, sp in zip(redirect_nodes, splits, strict=True))
            bodies = [c for c in node.children if c.is_named and not c.type.endswith("_redirect")]
            extra = tuple(e for sp in splits for e in sp[1])
            last = last_command(bodies[-1]) if bodies and extra else None
            if last is not None:  # `a && b 2>/dev/null x`: x is b's argument
                self.pending[(last.start_byte, last.end_byte)] = extra
                extra = ()
            for child in bodies:
                self.visit(child, ctx, redirs + own, bg)
            if extra:  # words after a redirection of something that is not a simple command
                why = "words after a redirection of a compound command"
                self.add(SimpleCommand((self.span(list(extra)),), self.text(node), redirs + own,
                                       ctx, bg, why, (True,)))  # fmt: skip
            if not bodies:  # `> file` alone still truncates the file
                self.add(SimpleCommand((), self.text(node), redirs + own, ctx, bg, None))
            for r in redirect_nodes:
                self.nested(r, ctx, bg)
                self.evaluating(r, ctx, bg)
            if any(r.type == "heredoc_redirect" for r in redirect_nodes):
                self.heredoc_payloads(node, ctx, bg)
        elif kind in ("command_substitution", "process_substitution"):
            self.seen.update((node.start_byte, node.end_byte - 1))
            self.spans.append((node.start_byte, node.end_byte))
            inner = _CONTEXTS.get(node.children[0].type, "$()") if node.children else "$()"
            self.substitution(node, inner, bg)
        elif kind == "subshell":
            self.children(node, "subshell", redirs, bg)
        elif kind == "pipeline":
            self.children(node, ctx or "pipeline", redirs, bg)
        elif kind == "function_definition":
            self.children(node, "function", (), False)
        elif kind in ("declaration_command", "unset_command"):
            self.declaration(node, ctx, redirs, bg)
        elif kind == "variable_assignment":
            self.assignment(node, ctx, bg)
        elif kind == "test_command":
            self.test_command(node, ctx, redirs, bg)
        elif kind in ("arithmetic_expansion", "expansion", "compound_statement",
                      "c_style_for_statement", "array", "subscript"):  # fmt: skip
            if not self.evaluating(node, ctx, bg, whole=False):
                self.children(node, ctx, redirs, bg)
            else:
                self.nested(node, ctx, bg)
                for child in node.children:
                    if child.type == "do_group":
                        self.visit(child, ctx, redirs, bg)
        else:
            self.children(node, ctx, redirs, bg)

    def substitution(self, node: Node, ctx: str, bg: bool) -> None:
        """`$(…)` / `<(…)`. `$(< file)` and `$(> file)` hold a redirection and no command: bash
        still opens the file (reads it, or truncates it), so that is a part of its own."""
        bare = [c for c in node.children if c.is_named and c.type.endswith("_redirect")]
        if not bare:
            self.children(node, ctx, (), bg)
            return
        own = tuple(self.redirect(r) for r in bare)
        self.add(SimpleCommand((), self.text(node), own, ctx, bg, None))
        for child in node.children:
            if child in bare:
                self.nested(child, ctx, bg)
                self.evaluating(child, ctx, bg)
            elif child.child_count or child.is_named:
                self.visit(child, ctx, (), bg)

    def evaluating(self, node: Node, ctx: str, bg: bool, whole: bool = True) -> bool:
        """Add an opaque part when `node` makes bash evaluate text as code (shelleval); a
        `(( … ))` / `for (( … ))` header is a part of its own (the loop body has parts)."""
        header = not whole and node.type in ("compound_statement", "c_style_for_statement")
        if header:
            kids = node.children
            if not kids or kids[0].type not in ("((", "for") or (
                    kids[0].type == "for" and (len(kids) < 2 or kids[1].type != "((")):  # fmt: skip
                return False
            why = arith_header(node, self.text)
            end = next((c.end_byte for c in kids if c.type == "))"), node.end_byte)
            text = self.data[node.start_byte : end].decode("utf-8", "replace")
        else:
            why = self.evals.within(node)
            if why is None:
                return False
            text = self.text(node).split("\n", 1)[0][:200]
        if why or header:
            self.add(SimpleCommand((text,), text, (), ctx, bg, why, (True,)))
        return why is not None or header

    def test_command(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool) -> None:
        """`[[ … ]]` as a part of its own: its words, and opaque where it evaluates."""
        top = test_words(node)
        literal = [self.literal(w) if w.is_named else self.text(w) for w in top]
        argv = tuple(self.text(w) if v is None else v for w, v in zip(top, literal, strict=True))
        why = self.evals.within(node)
        lits = tuple(v is not None for v in literal)
        self.add(SimpleCommand(argv, self.text(node), redirs, ctx, bg, why, lits))
        for w in top:
            self.nested(w, ctx, bg)

    def children(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool) -> None:
        kids = node.children
        last = len(kids) - 1
        visit = self.visit
        for i, child in enumerate(kids):
            if not child.child_count and not child.is_named:  # child_count is the cheap test
                continue  # an operator or keyword token: nothing runs in it
            if i < last and kids[i + 1].type == "&":
                visit(child, ctx or "background", redirs, True)
            else:
                visit(child, ctx, redirs, bg)

    def add(self, part: SimpleCommand) -> None:
        self.parts.append(part)

    def command(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool,
                extra: tuple[Node, ...] = ()) -> None:  # fmt: skip
        """One simple command. Words are grouped as bash groups them: nodes that touch are one
        word (`'r'\\m` is `rm`), and words tree-sitter hangs under a redirection
        (`cat 2>/dev/null .env`) are arguments (`extra`, from the enclosing statement too)."""
        if not extra and self.words_only(node, ctx, redirs, bg):
            return
        self.general(node, ctx, redirs, bg, extra)

    def general(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool,
                extra: tuple[Node, ...]) -> None:  # fmt: skip
        """command() for any shape words_only does not take."""
        nodes, redirect_nodes, assign_nodes, named = command_fields(node)
        has_name = bool(nodes) and (named or node.child_by_field_name("name") is not None)
        text = self.text
        own: tuple[Redirect, ...] = ()
        more: list[Node] | tuple[Node, ...] = extra
        if redirect_nodes:
            own = tuple(self.redirect(r) for r in redirect_nodes)
            more = list(extra)
            for r in redirect_nodes:
                self.nested(r, ctx, bg)
                more += redirect_split(r)[1]
        if more:
            nodes = sorted([*nodes, *more], key=lambda n: n.start_byte)
        groups = adjacent(nodes)
        opaque, assigns = None, []
        for assign in assign_nodes:
            var = assign.child_by_field_name("name")
            assigns.append(text(assign))
            if var is not None and risky_var(text(var)):
                opaque = f"sets {text(var)} for the command"
            self.nested(assign, ctx, bg)
        lit = self.literal
        literal = [lit(g[0]) if len(g) == 1 else self.group_literal(g) for g in groups]
        span = self.span
        argv = tuple([span(g) if v is None else v for g, v in zip(groups, literal, strict=True)])
        if has_name and opaque is None and groups:
            opaque = self.name_opaque(groups[0], literal[0])
        opaque = opaque or self.evals.within(node) or argv_evaluates(argv)
        if extra and opaque is None:
            opaque = next((w for e in extra if (w := self.evals.within(e))), None)
        words = [g[0] for g in groups]
        if argv:
            lits = tuple([v is not None for v in literal])
            shown = text(node) if not extra else span([node, *extra])
            part = SimpleCommand(argv, shown, redirs + own, ctx, bg, opaque, lits, tuple(assigns))
            self.parts.append(part)
            self.unwrap(part, words, literal, node, ctx, bg)
        for w in nodes:
            if w.type not in _LEAF_WORDS or w.child_count:  # `10#$(…)` is a number holding one
                self.nested(w, ctx, bg)

    def words_only(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool) -> bool:
        """The common shape in one pass over the children: a plain name and plain words, one
        node each, none touching, no redirection or assignment. Adds the part `command` would
        add and returns True; False (nothing added) for any other shape."""
        kids = node.children
        if not kids:
            return False
        field, text = node.field_name_for_child, self.text
        src = self.source if self.ascii else None
        name = kids[0]  # the name: a command_name holding one word, no child of its own
        if name.type != "command_name" or name.child_count != 1 or field(0) != "name":
            return False
        kid = name.child(0)  # not .children[0]: that builds the list (a Node per child, ~1 us)
        if kid.type != "word":
            return False
        end = kid.end_byte
        raw = src[kid.start_byte : end] if src is not None else text(kid)
        argv = [raw if "\\" not in raw else unescape(raw, inside_quotes=False)]
        for i in range(1, len(kids)):
            kid = kids[i]
            kind = kid.type
            if kind not in _PLAIN_ARGS or field(i) != "argument" or kid.child_count:
                return False  # (a `number` may hold `10#$(…)`: the general path decides it)
            start = kid.start_byte
            if start == end:
                return False  # touching nodes make one word
            end = kid.end_byte
            raw = src[start:end] if src is not None else text(kid)
            if kind == "raw_string":
                argv.append(raw[1:-1])
            else:
                argv.append(raw if "\\" not in raw else unescape(raw, inside_quotes=False))
        words = tuple(argv)
        head = words[0]
        opaque = None if GLOB.isdisjoint(head) else self.name_opaque([name], head)
        if not opaque:  # `opaque or within(node) or argv_evaluates(words)`, minus the calls
            opaque = self.evals.within(node) if self.evals.found else None  # that say None
            if not opaque:
                opaque = argv_evaluates(words) if head in EVAL_HEADS else None
        shown = src[node.start_byte : node.end_byte] if src is not None else text(node)
        part = SimpleCommand(words, shown, redirs, ctx, bg, opaque, (True,) * len(words))
        self.parts.append(part)
        if head in UNWRAP_HEADS or "/" in head:  # unwrap does nothing for any other
            self.unwrap(part, list(kids), argv, node, ctx, bg)
        return True  # every word is a leaf (the name's too): nothing runs inside them

    def nested(self, node: Node, ctx: str, bg: bool) -> None:
        """Commands inside a word: `$(…)`, backticks, `<(…)`."""
        if (node.type in _LEAF_WORDS and not node.child_count) or _SUBST_MARKS.isdisjoint(
            self.text(node)
        ):
            return
        for sub in substitutions(node):
            self.visit(sub, ctx, (), bg)

    def declaration(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool) -> None:
        argv, opaque = [], None
        for child in node.children:
            if child.type == "variable_assignment":
                var = child.child_by_field_name("name")
                if var is not None and risky_var(self.text(var)):
                    opaque = f"sets {self.text(var)} for the commands after it"
            argv.append(self.word(child))
            self.nested(child, ctx, bg)
        opaque = opaque or self.evals.within(node) or argv_evaluates(tuple(argv))
        lits = tuple(True for _ in argv)
        self.add(SimpleCommand(tuple(argv), self.text(node), redirs, ctx, bg, opaque, lits))

    def assignment(self, node: Node, ctx: str, bg: bool) -> None:
        var = node.child_by_field_name("name")
        why = self.evals.within(node)
        if why is None and var is not None and risky_var(self.text(var).split("[", 1)[0]):
            why = f"sets {self.text(var)} for the commands after it"
        if why:
            text = self.text(node)
            self.add(SimpleCommand((text,), text, (), ctx, bg, why, (True,)))
        self.nested(node, ctx, bg)

    def payload(self, text: str, ctx: str, part: SimpleCommand, bg: bool) -> None:
        inner = _parse(text, ctx, self.depth + 1)
        self.parts.extend(inner.parts)
        if inner.opaque:
            self.add(derived(part, ctx, f"{ctx} payload: {inner.opaque}"))
