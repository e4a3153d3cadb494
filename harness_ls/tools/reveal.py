"""Make invisible characters visible: what a person reads must be what the shell or file gets.

Control characters (ESC, CR, BEL...), bidi overrides and isolates, zero-width characters, odd
spaces and other non-printing code points are rendered as markers such as `⟨U+202E⟩`, `⟨ESC⟩`,
`⟨CR⟩`, as code hosts do for hidden Unicode. The marker brackets themselves are escaped when they
occur in the input, so a model cannot forge a marker. Mixed-script words (a Cyrillic `с` inside
`curl`) are reported so a homoglyph command name cannot pass for the real one.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NAMES = {
    0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x09: "TAB", 0x0B: "VT", 0x0C: "FF", 0x0D: "CR",
    0x1B: "ESC", 0x7F: "DEL",
}  # fmt: skip
_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
_ZERO_WIDTH = {0x00AD, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064,
               0xFEFF}  # fmt: skip
_MARKER_BRACKETS = {0x27E8, 0x27E9}  # ⟨ ⟩: escaped so the input cannot forge a marker


@lru_cache(maxsize=4096)
def kind_of(ch: str) -> str | None:
    """Why `ch` needs a marker ("control", "bidi", "zero-width", ...), or None for plain text."""
    cp = ord(ch)
    if ch == "\n":
        return None
    if cp < 0x20 or cp == 0x7F or 0x80 <= cp <= 0x9F:
        return "control"
    if cp in _BIDI:
        return "bidi"
    if cp in _ZERO_WIDTH:
        return "zero-width"
    if cp in _MARKER_BRACKETS:
        return "marker"
    cat = unicodedata.category(ch)
    if cat == "Zs" and ch != " ":
        return "space"
    if cat in ("Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp") or 0xE0000 <= cp <= 0xE007F:
        return "non-printing"
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:
        return "non-printing"  # variation selectors
    return None


def marker(ch: str) -> str:
    cp = ord(ch)
    return f"⟨{_NAMES[cp]}⟩" if cp in _NAMES else f"⟨U+{cp:04X}⟩"


def describe(ch: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE` / `ESC (U+001B)` for the warning banner."""
    cp = ord(ch)
    if cp in _NAMES:
        return f"{_NAMES[cp]} (U+{cp:04X})"
    name = unicodedata.name(ch, "")
    return f"U+{cp:04X} {name}".rstrip()


_CANDIDATE = re.compile(r"[^\n\x20-\x7e]")  # only these need a closer look (fast on big diffs)


def reveal(text: str, *, keep_tabs: bool = False, kinds: frozenset[str] | None = None) -> str:
    """`text` with every hidden or control character replaced by a visible marker (newlines stay);
    with `kinds`, only characters of those kinds (e.g. {"control", "bidi"} for a chat transcript,
    where a zero-width joiner inside an emoji is harmless)."""

    def sub(m: re.Match[str]) -> str:
        ch = m.group()
        kind = kind_of(ch)
        if kind is None or (keep_tabs and ch == "\t") or (kinds is not None and kind not in kinds):
            return ch
        return marker(ch)

    return _CANDIDATE.sub(sub, text)


def hidden_chars(text: str) -> dict[str, int]:
    """Distinct hidden characters that warrant a warning (tabs do not), described, with counts."""
    found: dict[str, int] = {}
    for m in _CANDIDATE.finditer(text):
        ch = m.group()
        if ch == "\t" or kind_of(ch) is None:
            continue
        key = describe(ch)
        found[key] = found.get(key, 0) + 1
    return found


def scripts(word: str) -> set[str]:
    """Writing systems of the letters in `word` (LATIN, CYRILLIC, GREEK...)."""
    out = set()
    for ch in word:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            out.add(name.split(" ", 1)[0] if name else "UNKNOWN")
    return out


def is_mixed_script(word: str) -> bool:
    return len(scripts(word)) > 1


def collapse_blank_runs(text: str, *, min_lines: int = 3, min_spaces: int = 24) -> str:
    """Runs of empty lines and long runs of spaces become one visible marker each, so padding
    cannot push a payload off screen; nothing else changes."""
    lines = text.split("\n")
    out: list[str] = []
    blank = 0

    def flush() -> None:
        nonlocal blank
        if blank >= min_lines:
            out.append(f"⟨{blank} empty lines⟩")
        else:
            out.extend([""] * blank)
        blank = 0

    for line in lines:
        if line.strip() == "":
            blank += 1
            continue
        flush()
        out.append(_collapse_spaces(line, min_spaces))
    flush()
    return "\n".join(out)


def _collapse_spaces(line: str, min_spaces: int) -> str:
    if " " * min_spaces not in line:
        return line
    out, i = [], 0
    while i < len(line):
        j = i
        while j < len(line) and line[j] == " ":
            j += 1
        if j - i >= min_spaces:
            out.append(f" ⟨{j - i} spaces⟩ ")
            i = j
        elif j > i:
            out.append(line[i:j])
            i = j
        else:
            out.append(line[i])
            i += 1
    return "".join(out)
