"""Shell commands parsed into the simple commands bash would run, so policy decides on a parse.

A string matcher sees `pytest -q\\nrm -rf x` as one command; bash runs two. tree-sitter-bash (the
grammar Codex CLI uses for its safe-command check) splits across `;` `&&` `||` `|` `&`, newlines,
subshells, `$(…)`, backticks, process substitution and here-docs; `bash -c '…'`, `eval '…'` and
wrappers (`env`, `command`, `xargs`, `find -exec`, `timeout`, `sudo`…) are unwrapped so the command
they run is a part of its own. What cannot be known before running (a variable in command
position, `eval "$x"`) is marked opaque with the reason; callers must not allow opaque commands.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from harness_ls.tools.shellwords import WRAPPERS, unescape, wrapped_start

MAX_DEPTH = 8  # nested `bash -c` / `eval` payloads before giving up (opaque)
MAX_NESTING = 120  # syntax-tree levels (subshells, `$(…)`, `&&` chains) before giving up (opaque)
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "rbash"})
_STRING_RUNNERS = frozenset({"su", "runuser", "script", "flock"})  # `-c 'cmd'` runs a shell string
_GLOB = frozenset("*?[{")
_RISKY_VARS = frozenset(
    {"PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "BASH_ENV", "ENV", "IFS", "SHELLOPTS",
     "BASHOPTS", "PROMPT_COMMAND", "PS4"}
)  # fmt: skip
_CONTEXTS = {
    "$(": "$()",
    "`": "`",
    "<(": "<()",
    ">(": ">()",
}
_SHELL_VALUE_OPTS = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})
_LEAF_WORDS = frozenset({"word", "number", "raw_string", "ansi_c_string"})


@dataclass(frozen=True)
class Redirect:
    op: str  # ">", ">>", "<", "2>", "&>", "<<" (here-doc), "<<<", ">&" ...
    target: str  # literal where possible, else the source text


@dataclass(frozen=True)
class SimpleCommand:
    argv: tuple[str, ...]  # words after quote removal (source text where not literal)
    text: str  # the exact source slice of this simple command
    redirects: tuple[Redirect, ...]
    context: str  # "" top level, or "$()", "`", "<()", "subshell", "bash -c", "eval", "pipeline"...
    background: bool
    opaque: str | None  # why this part cannot be decided, else None


@dataclass(frozen=True)
class ParsedCommand:
    source: str
    parts: tuple[SimpleCommand, ...]
    opaque: str | None  # whole-command parse failure reason, else None


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
    tree = _parser().parse(data)
    walker = _Walker(data, depth)
    walker.visit(tree.root_node, context, (), False)
    opaque = None
    if tree.root_node.has_error:
        bad = _first_error(tree.root_node)
        near = data[bad.start_byte : bad.start_byte + 40].decode("utf-8", "replace") if bad else ""
        opaque = f"bash could not parse the command (near {near!r})" if near else "unparsable"
    return ParsedCommand(source, tuple(walker.parts), opaque)


def _first_error(node: Node) -> Node | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child.has_error:
            return _first_error(child)
    return None


class _Walker:
    def __init__(self, data: bytes, depth: int) -> None:
        self.data = data
        self.depth = depth
        self.parts: list[SimpleCommand] = []
        self.level = 0  # syntax-tree nesting, bounded so a hostile command cannot blow the stack
        self.too_deep = False

    def text(self, node: Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def visit(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool) -> None:
        self.level += 1
        try:
            if self.level > MAX_NESTING:
                if not self.too_deep:
                    self.too_deep = True
                    why = f"nested more than {MAX_NESTING} levels deep"
                    self.add(SimpleCommand((), self.text(node)[:200], (), ctx, bg, why))
                return
            self.dispatch(node, ctx, redirs, bg)
        finally:
            self.level -= 1

    def dispatch(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool) -> None:
        kind = node.type
        if kind == "command":
            self.command(node, ctx, redirs, bg)
        elif kind == "redirected_statement":
            redirect_nodes = _redirects(node)
            own = tuple(self.redirect(r) for r in redirect_nodes)
            bodies = [c for c in node.named_children if not c.type.endswith("_redirect")]
            for child in bodies:
                self.visit(child, ctx, redirs + own, bg)
            if not bodies:  # `> file` alone still truncates the file
                self.add(SimpleCommand((), self.text(node), redirs + own, ctx, bg, None))
            for r in redirect_nodes:
                self.nested(r, ctx, bg)
            if any(r.type == "heredoc_redirect" for r in redirect_nodes):
                self.heredoc_payloads(node, ctx, bg)
        elif kind in ("command_substitution", "process_substitution"):
            inner = _CONTEXTS.get(node.children[0].type, "$()") if node.children else "$()"
            self.children(node, inner, (), bg)
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
        else:
            self.children(node, ctx, redirs, bg)

    def children(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool) -> None:
        kids = node.children
        for i, child in enumerate(kids):
            amp = i + 1 < len(kids) and kids[i + 1].type == "&"
            self.visit(child, "background" if amp and not ctx else ctx, redirs, bg or amp)

    def add(self, part: SimpleCommand) -> None:
        self.parts.append(part)

    def command(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool) -> None:
        name = node.child_by_field_name("name")
        words: list[Node] = [name] if name is not None else []
        words += node.children_by_field_name("argument")
        redirect_nodes = _redirects(node)
        own = tuple(self.redirect(r) for r in redirect_nodes)
        for r in redirect_nodes:
            self.nested(r, ctx, bg)
        opaque = None
        for assign in (c for c in node.named_children if c.type == "variable_assignment"):
            var = assign.child_by_field_name("name")
            if var is not None and self.text(var) in _RISKY_VARS:
                opaque = f"sets {self.text(var)} for the command"
            self.nested(assign, ctx, bg)
        literal = [self.literal(w) for w in words]
        argv = tuple(self.text(w) if v is None else v for w, v in zip(words, literal, strict=True))
        if name is not None and opaque is None:
            opaque = self.name_opaque(name, literal[0])
        if argv:
            part = SimpleCommand(argv, self.text(node), redirs + own, ctx, bg, opaque)
            self.add(part)
            self.unwrap(part, words, literal, node, ctx, bg)
        for w in words:
            self.nested(w, ctx, bg)

    def name_opaque(self, name: Node, value: str | None) -> str | None:
        if value is None:
            return f"the command name {self.text(name)!r} is only known when it runs"
        subs = (
            [name.children[0]]
            if name.child_count == 1 and name.children[0].type == "word"
            else _walk(name)
        )
        for sub in subs:
            if sub.type == "word" and not _GLOB.isdisjoint(self.text(sub)):
                return f"the command name {self.text(name)!r} is a glob or brace expansion"
        return None

    def nested(self, node: Node, ctx: str, bg: bool) -> None:
        """Commands inside a word: `$(…)`, backticks, `<(…)`."""
        if node.type in _LEAF_WORDS:
            return
        for sub in _substitutions(node):
            self.visit(sub, ctx, (), bg)

    def declaration(self, node: Node, ctx: str, redirs: tuple[Redirect, ...], bg: bool) -> None:
        argv, opaque = [], None
        for child in node.children:
            if child.type == "variable_assignment":
                var = child.child_by_field_name("name")
                if var is not None and self.text(var) in _RISKY_VARS:
                    opaque = f"sets {self.text(var)} for the commands after it"
            argv.append(self.word(child))
            self.nested(child, ctx, bg)
        self.add(SimpleCommand(tuple(argv), self.text(node), redirs, ctx, bg, opaque))

    def assignment(self, node: Node, ctx: str, bg: bool) -> None:
        var = node.child_by_field_name("name")
        if var is not None and self.text(var) in _RISKY_VARS:
            why = f"sets {self.text(var)} for the commands after it"
            self.add(SimpleCommand((self.text(node),), self.text(node), (), ctx, bg, why))
        self.nested(node, ctx, bg)

    def redirect(self, node: Node) -> Redirect:
        fd = node.child_by_field_name("descriptor")
        dest = node.child_by_field_name("destination")
        op = next((c.type for c in node.children if not c.is_named), "")
        if node.type == "heredoc_redirect":
            start = next((c for c in node.children if c.type == "heredoc_start"), None)
            return Redirect("<<", self.text(start).strip("'\"") if start else "")
        if node.type == "herestring_redirect":
            body = next((c for c in node.children if c.is_named), None)
            return Redirect("<<<", self.word(body) if body else "")
        if dest is None:
            dest = next((c for c in reversed(node.children) if c.is_named and c != fd), None)
        return Redirect((self.text(fd) if fd else "") + op, self.word(dest) if dest else "")

    def heredoc_payloads(self, node: Node, ctx: str, bg: bool) -> None:
        """Backticks in an unquoted here-doc run, but the grammar leaves them as text."""
        for sub in _walk(node):
            if sub.type == "heredoc_body" and "`" in self.text(sub):
                start = (
                    sub.parent.children[1] if sub.parent and sub.parent.child_count > 1 else None
                )
                if start is not None and start.type == "heredoc_start":
                    if not self.text(start).startswith(("'", '"')):
                        why = "backticks inside an unquoted here-doc"
                        self.add(SimpleCommand(("<<",), self.text(sub), (), ctx, bg, why))

    def word(self, node: Node) -> str:
        value = self.literal(node)
        return self.text(node) if value is None else value

    def literal(self, node: Node) -> str | None:
        """The word after quote removal, or None when it expands at run time."""
        kind = node.type
        if kind == "command_name":
            return self.literal(node.children[0]) if node.child_count == 1 else None
        if kind in ("word", "number"):
            return unescape(self.text(node), inside_quotes=False)
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
        return None

    def unwrap(
        self,
        part: SimpleCommand,
        words: list[Node],
        literal: list[str | None],
        node: Node,
        ctx: str,
        bg: bool,
    ) -> None:
        """The command a wrapper, a shell `-c`, `eval` or `find -exec` runs, as a part of its own."""
        argv = part.argv
        head = argv[0].rsplit("/", 1)[-1]
        if head == "eval":
            if any(v is None for v in literal[1:]):
                self.add(_derived(part, "eval", "eval of text only known when it runs"))
            else:
                self.payload(" ".join(argv[1:]), "eval", part, bg)
        elif head in SHELLS:
            self.shell(part, words, literal, node, bg)
        elif head in ("find", "fd", "fdfind"):
            self.find_exec(part, words, literal, node, ctx, bg)
        elif head in _STRING_RUNNERS and (found := _flag_value(argv, literal)) is not None:
            value = found
            if value == "":
                self.add(_derived(part, f"{head} -c", "command only known when it runs"))
            else:
                self.payload(value, f"{head} -c", part, bg)
        elif head == "watch":
            start = wrapped_start(head, argv)
            if start < len(argv):  # watch hands its words to `sh -c`
                if any(v is None for v in literal[start:]):
                    self.add(_derived(part, "watch", "command only known when it runs"))
                else:
                    self.payload(" ".join(argv[start:]), "watch", part, bg)
        elif head in WRAPPERS:
            start = wrapped_start(head, argv)
            if head == "command" and any(a in ("-v", "-V") for a in argv[1:start]):
                return
            if head == "env":
                for i, a in enumerate(argv[1:start], 1):
                    if a in ("-S", "--split-string") or a.startswith("--split-string="):
                        text = a.split("=", 1)[1] if "=" in a else " ".join(argv[i + 1 :])
                        self.payload(text, "env -S", part, bg)
                        return
            if start < len(argv):
                inner = self.slice(words[start], node)
                opaque = None if literal[start] is not None else "wrapped command name unknown"
                rest = SimpleCommand(argv[start:], inner, part.redirects, head, bg, opaque)
                self.add(rest)
                self.unwrap(rest, words[start:], literal[start:], node, ctx, bg)

    def shell(self, part: SimpleCommand, words: list[Node], literal: list[str | None],
              node: Node, bg: bool) -> None:  # fmt: skip
        argv = part.argv
        i = 1
        while i < len(argv):
            a = argv[i]
            if a.startswith("-") and not a.startswith("--") and "c" in a[1:]:
                j = i + 1 if i + 1 < len(argv) and argv[i + 1] != "--" else i + 2
                if j >= len(argv) or literal[j] is None:
                    why = "shell payload only known when it runs"
                    self.add(_derived(part, f"{argv[0]} -c", why))
                else:
                    self.payload(argv[j], f"{argv[0]} -c", part, bg)
                return
            if a in _SHELL_VALUE_OPTS:
                i += 2
                continue
            if not a.startswith(("-", "+")):
                return  # `bash script.sh`: runs a file, decided by rules on this part
            i += 1
        # no script and no -c: commands come from stdin
        for r in part.redirects:
            if r.op == "<<<":
                self.payload(r.target, f"{argv[0]} <<<", part, bg)
                return
        heredoc = [r for r in part.redirects if r.op == "<<"]
        why = "a shell reading commands from " + ("a here-doc" if heredoc else "its input")
        self.add(_derived(part, argv[0], why))

    def find_exec(self, part: SimpleCommand, words: list[Node], literal: list[str | None],
                  node: Node, ctx: str, bg: bool) -> None:  # fmt: skip
        """`find -exec/-execdir/-ok … ;`, `fd -x/-X …`: the command each match is handed to."""
        argv = part.argv
        i = 1
        while i < len(argv):
            if argv[i] in ("-exec", "-execdir", "-ok", "-okdir", "-x", "--exec", "-X",
                           "--exec-batch"):  # fmt: skip
                end = i + 1
                while end < len(argv) and argv[end] not in (";", "+"):
                    end += 1
                if end > i + 1:
                    text = self.slice(words[i + 1], node)
                    opaque = None if literal[i + 1] is not None else "run command unknown"
                    inner = SimpleCommand(argv[i + 1 : end], text, (), "find -exec", bg, opaque)
                    self.add(inner)
                    self.unwrap(inner, words[i + 1 : end], literal[i + 1 : end], node, ctx, bg)
                i = end
            i += 1

    def payload(self, text: str, ctx: str, part: SimpleCommand, bg: bool) -> None:
        inner = _parse(text, ctx, self.depth + 1)
        self.parts.extend(inner.parts)
        if inner.opaque:
            self.add(_derived(part, ctx, f"{ctx} payload: {inner.opaque}"))

    def slice(self, first: Node, node: Node) -> str:
        return self.data[first.start_byte : node.end_byte].decode("utf-8", "replace")


def _flag_value(argv: tuple[str, ...], literal: list[str | None]) -> str | None:
    """The command string after `-c` / `--command[=]` ("" when it is not literal), else None."""
    for i, a in enumerate(argv[1:], 1):
        if a == "--command" or (a.startswith("-") and not a.startswith("--") and "c" in a[1:]):
            if i + 1 >= len(argv) or literal[i + 1] is None:
                return ""
            return argv[i + 1]
        if a.startswith("--command="):
            return a.split("=", 1)[1] if literal[i] is not None else ""
    return None


def _derived(part: SimpleCommand, ctx: str, why: str) -> SimpleCommand:
    return SimpleCommand(part.argv, part.text, part.redirects, ctx, part.background, why)


def _redirects(node: Node) -> list[Node]:
    """Redirections of a statement; one after a here-doc start hangs under the here-doc node."""
    out = []
    for r in node.children_by_field_name("redirect"):
        out.append(r)
        if r.type == "heredoc_redirect":
            out += [c for c in r.children if c.type.endswith("_redirect")]
    return out


def _substitutions(node: Node) -> Any:
    """`$(…)`, backticks and `<(…)` inside a word, outermost only (inner ones are found later)."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type in ("command_substitution", "process_substitution"):
            yield cur
            continue
        stack.extend(reversed(cur.children))


def _walk(node: Node) -> Any:
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(reversed(cur.children))
