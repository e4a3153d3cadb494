"""A small, conservative shell splitter: the fallback when `tools.shellparse` is not available.

It splits a command line into simple commands at `;`, newlines, `&&`, `||`, `|`, `|&` and `&`
outside quotes, and each command into words and redirections. Anything it cannot read with
confidence (substitutions, subshells, unclosed quotes, here-documents) marks the part `opaque`, so
the approval shows it as risky rather than pretending to understand it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

_REDIRECT = re.compile(r"^(\d*)(>>|>\||>&|<>|<<<|<<-|<<|<&|>|<|&>>|&>)$")


@dataclass(frozen=True)
class Part:
    """One simple command as the approval model needs it."""

    argv: tuple[str, ...]
    text: str
    redirects: tuple[tuple[str, str], ...] = ()
    joiner: str = ""  # operator after this command: ; && || | |& & or ""
    background: bool = False
    opaque: bool = False
    notes: tuple[str, ...] = field(default=())


def split_source(source: str) -> list[tuple[str, str, bool]]:
    """(text, joiner, opaque) for each command separated by a control operator outside quotes."""
    out: list[tuple[str, str, bool]] = []
    buf: list[str] = []
    quote = ""
    depth = 0  # $( ... ) / ( ... ) nesting
    opaque = False
    i, n = 0, len(source)

    def cut(joiner: str) -> None:
        nonlocal opaque
        text = "".join(buf).strip(" \t")
        if text.strip() or joiner not in ("", ";", "\n"):
            out.append((text, ";" if joiner == "\n" else joiner, opaque))
        buf.clear()
        opaque = False

    while i < n:
        ch = source[i]
        two = source[i : i + 2]
        if quote:
            buf.append(ch)
            if ch == "\\" and quote == '"' and i + 1 < n:
                buf.append(source[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = ""
            i += 1
            continue
        if ch == "\\" and i + 1 < n:
            if source[i + 1] == "\n":  # line continuation
                buf.append(" ")
            else:
                buf.append(source[i : i + 2])
            i += 2
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "`":
            opaque = True
        elif two == "$(" or two == "<(" or two == ">(":
            depth += 1
            opaque = True
            buf.append(two)
            i += 2
            continue
        elif ch == "(":
            depth += 1
            opaque = True
        elif ch == ")" and depth:
            depth -= 1
        elif ch in "{}" and not depth:
            opaque = True
        elif two == "<<" and source[i : i + 3] != "<<<":
            opaque = True  # here-document: its body follows on the next lines
        if depth == 0 and not quote:
            if two in ("&&", "||", "|&"):
                cut(two)
                i += 2
                continue
            if ch == "|" or ch == ";" or ch == "\n":
                cut(ch)
                i += 1
                continue
            if ch == "&" and not _redirect_amp(source, i):
                cut("&")
                i += 1
                continue
        buf.append(ch)
        i += 1
    if quote or depth:
        opaque = True
    cut("")
    return out


def _redirect_amp(source: str, i: int) -> bool:
    """`&` inside `>&2`, `2>&1`, `&>` is part of a redirection, not a background operator."""
    prev = source[i - 1] if i else ""
    nxt = source[i + 1] if i + 1 < len(source) else ""
    return prev in "<>" or nxt == ">"


def words(text: str) -> tuple[list[str], list[tuple[str, str]], bool]:
    """argv, redirections (op, target) and whether the words could not be read exactly."""
    lex = shlex.shlex(text, posix=True, punctuation_chars="<>&|")
    lex.whitespace = " \t"
    lex.whitespace_split = True
    lex.commenters = ""
    try:
        tokens = list(lex)
    except ValueError:  # unclosed quote
        return text.split(), [], True
    argv: list[str] = []
    redirects: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        fd = ""
        if tok.isdigit() and i + 1 < len(tokens) and _REDIRECT.match(tokens[i + 1]):
            fd, i = tok, i + 1
            tok = tokens[i]
        m = _REDIRECT.match(tok)
        if m and set(tok) <= set("<>&|0123456789"):
            target = tokens[i + 1] if i + 1 < len(tokens) else ""
            redirects.append((fd + tok, target))
            i += 2
            continue
        if tok.startswith("#") and (" " + tok) in (" " + text):
            break  # a comment runs to the end of the line
        argv.append(tok)
        i += 1
    return argv, redirects, False


def parse(source: str) -> list[Part]:
    """Simple commands of `source` in order, each with the operator that follows it."""
    parts = []
    for text, joiner, opaque in split_source(source):
        argv, redirects, unsure = words(text)
        parts.append(
            Part(
                argv=tuple(argv),
                text=text,
                redirects=tuple(redirects),
                joiner=joiner,
                background=joiner == "&",
                opaque=opaque or unsure,
            )
        )
    return parts
