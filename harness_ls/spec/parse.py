"""Block-level parse of a spec: headings, fences and line maps.

The block rules are markdown-it-py's that decide what is a heading (ATX and setext headings,
fenced and indented code, thematic breaks; HTML off); inline parsing and list/blockquote nesting
are off because they cost most of the parse time and never turn a line into a top-level heading.
scan.py runs those rules as one pass over the lines (~30x faster: a keystroke re-parses the
document); markdown-it itself is the reference the tests hold it to. Setext headings whose text
starts with a list or quote marker are dropped to match CommonMark's lazy continuation there.
Lines are split the LSP way (\\n, \\r\\n, \\r).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from harness_ls.spec.scan import blocks

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ATX = re.compile(r"^( {0,3})(#{1,6})(?:[ \t]+|$)(.*?)(?:[ \t]+#+)?[ \t]*$")
_CONTAINER_START = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)]|>)(?:[ \t]|$)")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")


@dataclass(slots=True)
class Heading:
    level: int
    text: str
    line: int  # first line of the heading
    end_line: int  # exclusive: first line after the heading (after a setext underline)
    setext: bool
    text_start: int  # code-point columns of the heading text on `line`
    text_end: int
    marker_end: int  # ATX: column after the `#` run; setext: 0


@dataclass(slots=True)
class Fence:
    line: int  # opening line
    end_line: int  # exclusive
    info: str
    content: str
    content_line: int  # first content line
    closed: bool
    marker: str


@dataclass(slots=True)
class ParsedSpec:
    text: str
    lines: list[str]
    headings: list[Heading] = field(default_factory=list)
    fences: list[Fence] = field(default_factory=list)
    html_comment_open_at_end: bool = False

    @property
    def open_fence_at_end(self) -> Fence | None:
        if self.fences and not self.fences[-1].closed:
            return self.fences[-1]
        return None

    def section_end(self, index: int) -> int:
        """Exclusive end line of heading `index`'s section: the next heading of level <= its own."""
        level = self.headings[index].level
        for h in self.headings[index + 1 :]:
            if h.level <= level:
                return h.line
        return len(self.lines)

    def body_lines(self, index: int) -> range:
        return range(self.headings[index].end_line, self.section_end(index))


def split_lines(text: str) -> list[str]:
    """Lines without their terminators, as LSP counts them (a trailing newline adds an empty line)."""
    return _LINE_BREAK.split(text)


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    # imported on the first parse, not at start-up: the language server answers `initialize`
    # before any spec is open (cold start), and the first didOpen pays this once
    from markdown_it import MarkdownIt

    md = MarkdownIt("zero").enable(["heading", "lheading", "fence", "code", "hr", "html_block"])
    md.core.ruler.disable(["inline", "text_join", "normalize"])
    return md


def _atx_columns(line: str) -> tuple[int, int, int]:
    m = _ATX.match(line)
    if not m:  # pragma: no cover - markdown-it said it is a heading
        return 0, len(line), 0
    marker_end = m.end(2)
    return m.start(3), m.start(3) + len(m.group(3)), marker_end


def markdown_blocks(src: str) -> list[tuple]:
    """The reference: scan.blocks' tuples from markdown-it-py's tokens (tests compare the two)."""
    out: list[tuple] = []
    tokens = _md().parse(src)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map:
            content = tokens[i + 1].content if i + 1 < len(tokens) else ""
            out.append(("heading", *tok.map, content, int(tok.tag[1]), tok.markup))
        elif tok.type == "fence" and tok.map:
            out.append(("fence", *tok.map, tok.info, tok.content, tok.markup))
    return out


def parse_spec(text: str, reference: bool = False) -> ParsedSpec:
    """Parse once per document version; everything else reads the result. The line scanner
    (scan.py) finds what markdown-it would; `reference=True` asks markdown-it itself."""
    src = text
    if src.startswith("\ufeff"):  # a byte order mark (Windows editors) hid the first heading;
        src = " " + src[1:]  # a space keeps every column where it was
    if "\r" in src:
        src = src.replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in src:
        src = src.replace("\0", "\ufffd")
    lines = src.split("\n")
    out = ParsedSpec(text=text, lines=lines)
    found = markdown_blocks(src) if reference else blocks(src, lines)
    for block in found:
        if block[0] == "heading":
            _, start, end, content, level, markup = block
            if markup in ("=", "-"):
                first = lines[start]
                if not _CONTAINER_START.match(first):
                    stripped = first.strip()
                    col = first.find(stripped) if stripped else 0
                    out.headings.append(
                        Heading(
                            level, content.strip(), start, end, True, col, col + len(stripped), 0
                        )
                    )
            else:
                ts, te, me = _atx_columns(lines[start])
                out.headings.append(Heading(level, content.strip(), start, end, False, ts, te, me))
            continue
        _, start, end, info, content, markup = block
        closing = lines[end - 1] if end - 1 > start else ""
        m = _FENCE_OPEN.match(lines[start])
        marker = m.group(1) if m else markup
        c = closing.strip()
        closed = (
            end - 1 > start
            and len(c) >= len(marker)
            and c == marker[0] * len(c)
            and len(closing) - len(closing.lstrip(" ")) < 4
        )
        out.fences.append(Fence(start, end, info.strip(), content, start + 1, closed, marker))
    return out


def is_list_item(line: str) -> bool:
    return bool(_LIST_ITEM.match(line))
