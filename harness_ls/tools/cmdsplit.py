"""Simple commands for display: from `tools.shellparse` (tree-sitter-bash), or a small,
conservative splitter when that parser cannot be loaded.

It splits a command line into simple commands at `;`, newlines, `&&`, `||`, `|`, `|&` and `&`
outside quotes, and each command into words and redirections. Anything it cannot read with
confidence (substitutions, subshells, unclosed quotes, here-documents) marks the part `opaque`, so
the approval shows it as risky rather than pretending to understand it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from typing import Any

_TOP = {"", "pipeline", "background"}
_NESTED = {"subshell", "$()", "`", "<()", ">()", "eval"}
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
    context: str = (
        ""  # "" top level; "$()", "subshell", "bash -c"... nested; a wrapper name when derived
    )
    shown: bool = True  # False: unwrapped from its parent (sudo X, env X, a shell fed by a pipe)
    listed: bool = True  # a title lists it (False: it sits inside a listed command's text)
    reason: str = ""  # why the parser could not decide this part


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


def parts_of(source: str) -> list[Part]:
    """The shared parser's parts when it loads, else the fallback splitter's."""
    try:
        from harness_ls.tools.shellparse import parse_command
    except ImportError:  # tree-sitter missing: the conservative splitter still shows every part
        return parse(source)
    try:
        parsed = parse_command(source)
    except Exception:  # noqa: BLE001 - a parser failure must never block showing the approval
        return parse(source)
    if not parsed.parts:
        return parse(source)
    return _adapt(source, parsed)


def _adapt(source: str, parsed: Any) -> list[Part]:
    """Shellparse parts in source order. A part is *listed* (in titles, with the operator after
    it read from the source gap) unless it sits inside a listed part's text; parts unwrapped from a
    wrapper (`sudo X`, `env X`, a shell fed by a pipe) are kept for flags but not shown."""
    out: list[Part] = []
    spans: list[tuple[int, int] | None] = []
    cursor = 0
    parent = (0, 0)
    for p in parsed.parts:
        ctx = p.context or ""
        prev = out[-1] if out else None
        derived = not (ctx in _TOP or ctx in _NESTED or ctx.endswith(" -c"))
        if ctx == "eval" and prev is not None and prev.text == p.text:
            derived = True  # `eval "$x"` repeated as its own opaque payload
        span = None
        if not derived:
            at = source.find(p.text, cursor) if ctx in _TOP else source.find(p.text, parent[0])
            inside = at >= 0 and ctx not in _TOP and parent[0] <= at < parent[1]
            if at >= 0 and not inside:
                span = (at, at + len(p.text))
                parent, cursor = span, span[1]
        out.append(
            Part(
                argv=tuple(p.argv),
                text=p.text,
                redirects=tuple((r.op, r.target) for r in p.redirects),
                background=bool(p.background),
                opaque=bool(p.opaque) or bool(parsed.opaque),
                context="" if span is not None else ctx,
                shown=not derived,
                listed=span is not None,
                reason=p.opaque or parsed.opaque or "",
            )
        )
        spans.append(span)
    if not any(spans):  # nothing located in the source: list every shown part
        return [replace(p, listed=p.shown, context="" if p.shown else p.context) for p in out]
    found = [i for i, sp in enumerate(spans) if sp is not None]
    for n, i in enumerate(found):
        end = spans[i][1]  # type: ignore[index]
        nxt = spans[found[n + 1]][0] if n + 1 < len(found) else len(source)  # type: ignore[index]
        gap = source[end:nxt]
        joiner = _joiner(gap) if n + 1 < len(found) else ("&" if out[i].background else "")
        # tree-sitter-bash hangs `a && b > f` on the whole list; bash gives `> f` to b only
        flat = gap.replace(" ", "")
        own = tuple(r for r in out[i].redirects if f"{r[0]}{r[1]}" in flat)
        out[i] = replace(out[i], joiner=joiner, redirects=own)
    return out


def _joiner(gap: str) -> str:
    g = gap.replace(">&", "").replace("&>", "")
    for op in ("&&", "||", "|&", "|", ";", "&"):
        if op in g:
            return op
    return ";" if "\n" in gap or g.strip(" \t)(}{") else ""
