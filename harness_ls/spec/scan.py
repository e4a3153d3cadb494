"""The block structure of a spec in one pass over its lines: what markdown-it-py finds with the
rules parse.py enables, at a fraction of the cost (a keystroke re-reads the whole document).

markdown-it's "zero" preset with heading, lheading, fence, code, hr and html_block enabled, and
`html` off (so html_block never matches), reduces to these line rules, tried in this order at
the start of each block (indent = columns of leading spaces/tabs, a tab to the next multiple of
4; lines indented 4 or more are "code" lines):

- code: a code line starts an indented code block; it runs over code lines and blank lines and
  ends after its last code line;
- fence: ``` or ~~~ (3+, indent <= 3; a backtick fence's info has no backtick) runs to a line of
  the same character, at least as long, indent <= 3, only spaces/tabs after; else to the end;
- hr: three or more of one of `*-_`, with only spaces/tabs between;
- ATX heading: 1-6 `#` then a space, a tab or the end of the line;
- else a paragraph: it runs until a blank line, or a line (indent <= 3) that is a setext
  underline (`=`s or `-`s, then only spaces/tabs: the paragraph is a heading), or that opens a
  fence, or is an hr, or an ATX heading. Code lines inside it are plain continuation.

`blocks(src)` returns what parse.py builds a ParsedSpec from: ("heading", start, end, content,
level, markup) and ("fence", start, end, info, content, markup) with markdown-it's line maps.
tests/spec/test_scan_equivalence.py checks it token for token against markdown-it.
"""

from __future__ import annotations

import re
from functools import lru_cache

Block = tuple  # ("heading", start, end, content, level, markup) | ("fence", start, end, info, content, markup)

_FENCE = re.compile(r"(`{3,}|~{3,})(.*)\Z", re.S)
_HR = re.compile(r"([-*_])(?:[ \t]*\1){2,}[ \t]*\Z")
_UNDERLINE = re.compile(r"(=+|-+)[ \t]*\Z")
_ATX_START = re.compile(r"#{1,6}(?:[ \t]|\Z)")
# what markdown-it's mdTrim strips (markdown_it.common.utils.MD_TRIM_CHARS; a test checks they agree)
_MD_TRIM = (
    "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
_PLAIN = frozenset("#`~*-_= \t")  # first characters that may start something else than text


def _indent(line: str) -> tuple[int, int]:
    """(characters, columns) of the line's leading spaces and tabs."""
    cols = 0
    for i, ch in enumerate(line):
        if ch == " ":
            cols += 1
        elif ch == "\t":
            cols += 4 - cols % 4
        else:
            return i, cols
    return len(line), cols


def _fence_open(body: str) -> tuple[str, str] | None:
    """(markup, info) when `body` (a line less its indent) opens a fence."""
    if body[:1] not in ("`", "~"):
        return None
    m = _FENCE.match(body)
    if m is None or (body[0] == "`" and "`" in m.group(2)):
        return None
    return m.group(1), m.group(2)


def _strip_columns(line: str, indent: int) -> str:
    """markdown-it's getLines: drop up to `indent` columns of leading spaces/tabs (a tab that
    goes past them leaves the extra columns as spaces)."""
    cols = first = 0
    while first < len(line) and cols < indent:
        ch = line[first]
        if ch == " ":
            cols += 1
        elif ch == "\t":
            cols += 4 - cols % 4
        else:
            break
        first += 1
    return (" " * (cols - indent) if cols > indent else "") + line[first:]


def _atx_content(body: str, level: int) -> str:
    """markdown-it's heading content: after the `#`s, less a closing `#` run and the spaces."""
    rest = body[level:]
    end = len(rest.rstrip(" \t"))
    hashes = end - len(rest[:end].rstrip("#"))
    if hashes and end - hashes > 0 and rest[end - hashes - 1] in " \t":
        end -= hashes
    return rest[:end].strip(_MD_TRIM)


# A line that ends a paragraph (blank; or indent <= 3 and a setext underline, a fence opening,
# an hr or an ATX heading): a paragraph's other lines are skipped in one regex search.
_PARA_STOP = re.compile(
    r"\n(?=[ \t]*$|[ ]{0,3}(?:[=`~#]|-[- \t]*$|\*[* \t]*$|_[_ \t]*$))"  # cheap pre-check
    r"(?:[ \t]*$| {0,3}(?:(=+|-+)[ \t]*$|`{3,}[^`\n]*$|~{3,}|([-*_])(?:[ \t]*\2){2,}[ \t]*$"
    r"|#{1,6}(?:[ \t]|$)))",
    re.M,
)
_CODE_STOP = re.compile(r"\n {0,3}[^ \t\n]", re.M)  # a non-blank line indented < 4 columns


@lru_cache(maxsize=64)
def _fence_close(marker: str, length: int) -> re.Pattern[str]:
    return re.compile(rf"\n {{0,3}}{re.escape(marker)}{{{length},}}[ \t]*$", re.M)


class _Lines:
    """Line numbers of offsets in `src`, counted forward from the last one asked."""

    __slots__ = ("src", "line", "offset")

    def __init__(self, src: str) -> None:
        self.src, self.line, self.offset = src, 0, 0

    def at(self, offset: int) -> int:
        if offset >= self.offset:
            self.line += self.src.count("\n", self.offset, offset)
        else:
            self.line -= self.src.count("\n", offset, self.offset)
        self.offset = offset
        return self.line


def blocks(src: str, lines: list[str]) -> list[Block]:
    """The headings and fences of `src` (`lines` = src.split("\\n")), as markdown-it maps them."""
    n = len(lines)
    if n and not lines[-1].strip(" \t"):
        n -= 1  # markdown-it does not count a last line of only spaces/tabs
    out: list[Block] = []
    pos = _Lines(src)
    i = off = 0  # the line and its offset in src
    while i < n:
        line = lines[i]
        if line and line[0] not in _PLAIN:  # plain text: a paragraph starts
            i, off = _paragraph(src, lines, i, off, n, pos, out)
            continue
        chars, cols = _indent(line)
        if chars == len(line):  # blank
            i, off = i + 1, off + len(line) + 1
            continue
        if cols >= 4:  # indented code: up to its last code line before a line indented < 4
            pos.at(off)
            m = _CODE_STOP.search(src, off + len(line))
            j = n if m is None else min(pos.at(m.start() + 1), n)
            while j > i + 1 and not lines[j - 1].strip(" \t"):
                j -= 1
            i, off = j, _offset(lines, i, off, j)
            continue
        body = line[chars:]
        fence = _fence_open(body)
        if fence is not None:
            i, off = _fence(src, lines, i, off, n, cols, fence, pos, out)
            continue
        c = body[:1]
        if (c in ("*", "-", "_") and _HR.match(body)) or (c == "#" and _ATX_START.match(body)):
            if c == "#":
                level = len(body) - len(body.lstrip("#"))
                out.append(("heading", i, i + 1, _atx_content(body, level), level, "#" * level))
            i, off = i + 1, off + len(line) + 1
            continue
        i, off = _paragraph(src, lines, i, off, n, pos, out)
    return out


def _offset(lines: list[str], i: int, off: int, j: int) -> int:
    """The offset of line j >= i, from line i's."""
    for k in range(i, j):
        off += len(lines[k]) + 1
    return off


def _fence(
    src: str,
    lines: list[str],
    i: int,
    off: int,
    n: int,
    cols: int,
    fence: tuple[str, str],
    pos: _Lines,
    out: list,
) -> tuple[int, int]:
    markup, info = fence
    pos.at(off)
    m = _fence_close(markup[0], len(markup)).search(src, off + len(lines[i]))
    j = n if m is None else min(pos.at(m.start() + 1), n)
    end = j + 1 if j < n else j
    content = "".join(
        _strip_columns(lines[x], cols) + ("\n" if x + 1 < len(lines) else "")
        for x in range(i + 1, j)
    )
    out.append(("fence", i, end, info, content, markup))
    return end, (m.end() + 1 if j < n and m is not None else len(src) + 1)


def _paragraph(
    src: str, lines: list[str], i: int, off: int, n: int, pos: _Lines, out: list
) -> tuple[int, int]:
    """A paragraph from line i, or a setext heading when an underline ends it."""
    pos.at(off)
    m = _PARA_STOP.search(src, off + len(lines[i]))
    j = n if m is None else min(pos.at(m.start() + 1), n)
    if j < n and m is not None and m.group(1):
        level = 1 if m.group(1)[0] == "=" else 2
        content = "\n".join(lines[i:j]).strip(_MD_TRIM)
        out.append(("heading", i, j + 1, content, level, m.group(1)[0]))
        return j + 1, m.start() + 1 + len(lines[j]) + 1
    return j, (m.start() + 1 if j < n and m is not None else len(src) + 1)
