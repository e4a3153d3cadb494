"""The command a wrapper, a shell `-c`, `eval`, `trap` or `find -exec` runs, as a part of its own.

A mixin of shellparse's walker: `env rm x`, `timeout 5 rm x`, `bash -c 'rm x'`, `trap 'rm x' EXIT`
and `find . -exec rm {} \\;` each add the inner command as a part, so deny rules and the
known-safe list see what really runs. Payloads are parsed again (bounded depth); what is only known
when it runs is an opaque part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness_ls.tools.shellwords import WRAPPERS, risky_var, wrapped_start

if TYPE_CHECKING:
    from tree_sitter import Node

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "rbash"})
_STRING_RUNNERS = frozenset({"su", "runuser", "script", "flock"})  # `-c 'cmd'` runs a shell string
_SHELL_VALUE_OPTS = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir", "-x", "--exec", "-X", "--exec-batch"})

# every head unwrap() looks at; any other part runs nothing it names
_HEADS = frozenset({"eval", "trap", "find", "fd", "fdfind", "watch", *SHELLS, *_STRING_RUNNERS,
                    *WRAPPERS})  # fmt: skip
UNWRAP_HEADS = _HEADS  # a part whose program (basename) is not one of these unwraps to nothing


def derived(part: Any, ctx: str, why: str) -> Any:
    """`part` in context `ctx`, opaque for `why` (dataclasses.replace, without its generic cost)."""
    return type(part)(part.argv, part.text, part.redirects, ctx, part.background, why,
                      part.literal, part.assigns)  # fmt: skip


class Unwrapper:
    """Needs `parts`, `add(part)`, `payload(text, ctx, part, bg)` and `data` from the walker."""

    parts: list[Any]
    data: bytes

    def add(self, part: Any) -> None:  # pragma: no cover - provided by the walker
        raise NotImplementedError

    def payload(self, text: str, ctx: str, part: Any, bg: bool) -> None:  # pragma: no cover
        raise NotImplementedError

    def unwrap(self, part: Any, words: list[Node], literal: list[str | None], node: Node,
               ctx: str, bg: bool) -> None:  # fmt: skip
        argv = part.argv
        head = argv[0].rsplit("/", 1)[-1] if "/" in argv[0] else argv[0]
        if head not in _HEADS:
            return  # most parts: nothing below applies
        if head in ("eval", "trap"):
            self.run_text(part, head, literal, bg)
        elif head in SHELLS:
            self.shell(part, literal, bg)
        elif head in ("find", "fd", "fdfind"):
            self.find_exec(part, words, literal, node, ctx, bg)
        elif head in _STRING_RUNNERS and (found := _flag_value(argv, literal)) is not None:
            if found == "":
                self.add(derived(part, f"{head} -c", "command only known when it runs"))
            else:
                self.payload(found, f"{head} -c", part, bg)
        elif head == "watch":
            start = wrapped_start(head, argv)
            if start < len(argv):  # watch hands its words to `sh -c`
                if any(v is None for v in literal[start:]):
                    self.add(derived(part, "watch", "command only known when it runs"))
                else:
                    self.payload(" ".join(argv[start:]), "watch", part, bg)
        elif head in WRAPPERS:
            self.wrapper(part, head, words, literal, node, ctx, bg)

    def run_text(self, part: Any, head: str, literal: list[str | None], bg: bool) -> None:
        """`eval 'text'` runs its words joined; `trap 'text' SIG` runs its first word later."""
        args = list(part.argv[1:])
        if head == "trap":
            if not args or args[0].startswith("-") or len(args) == 1:
                return  # `trap -p`, `trap -l`, `trap SIG`: lists or resets
            if literal[1] is None:
                self.add(derived(part, "trap", "trap of text only known when it runs"))
            elif args[0]:
                self.payload(args[0], "trap", part, bg)
            return
        if any(v is None for v in literal[1:]):
            self.add(derived(part, "eval", "eval of text only known when it runs"))
        else:
            self.payload(" ".join(args), "eval", part, bg)

    def wrapper(self, part: Any, head: str, words: list[Node], literal: list[str | None],
                node: Node, ctx: str, bg: bool) -> None:  # fmt: skip
        argv = part.argv
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
            opaque = None if literal[start] is not None else "wrapped command name unknown"
            risky = [
                a.split("=", 1)[0] for a in argv[1:start] if "=" in a and not a.startswith("-")
            ]
            if opaque is None and any(risky_var(v) for v in risky):
                opaque = f"sets {next(v for v in risky if risky_var(v))} for the command"
            inner = self.slice(words[start], node)
            lits = tuple(v is not None for v in literal[start:])
            rest = type(part)(argv[start:], inner, part.redirects, head, part.background, opaque,
                              lits, ())  # fmt: skip
            self.add(rest)
            self.unwrap(rest, words[start:], literal[start:], node, ctx, bg)

    def shell(self, part: Any, literal: list[str | None], bg: bool) -> None:
        argv = part.argv
        i = 1
        while i < len(argv):
            a = argv[i]
            if a.startswith("-") and not a.startswith("--") and "c" in a[1:]:
                j = i + 1 if i + 1 < len(argv) and argv[i + 1] != "--" else i + 2
                if j >= len(argv) or literal[j] is None:
                    why = "shell payload only known when it runs"
                    self.add(derived(part, f"{argv[0]} -c", why))
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
        self.add(derived(part, argv[0], why))

    def find_exec(self, part: Any, words: list[Node], literal: list[str | None], node: Node,
                  ctx: str, bg: bool) -> None:  # fmt: skip
        """`find -exec/-execdir/-ok … ;`, `fd -x/-X …`: the command each match is handed to."""
        argv = part.argv
        i = 1
        while i < len(argv):
            if argv[i] in _FIND_EXEC:
                end = i + 1
                while end < len(argv) and argv[end] not in (";", "+"):
                    end += 1
                if end > i + 1:
                    text = self.slice(words[i + 1], node)
                    opaque = None if literal[i + 1] is not None else "run command unknown"
                    lits = tuple(v is not None for v in literal[i + 1 : end])
                    inner = type(part)(argv[i + 1 : end], text, (), "find -exec", part.background,
                                       opaque, lits, ())  # fmt: skip
                    self.add(inner)
                    self.unwrap(inner, words[i + 1 : end], literal[i + 1 : end], node, ctx, bg)
                i = end
            i += 1

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
