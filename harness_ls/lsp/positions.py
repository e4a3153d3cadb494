"""Code-point columns (what harness_ls.spec uses) to and from the client's position encoding."""

from __future__ import annotations

from lsprotocol import types as t

from harness_ls.spec.model import Range


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-32":
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def to_client_character(line: str, character: int, encoding: str) -> int:
    return _units(line[:character], encoding)


def from_client_character(line: str, units: int, encoding: str) -> int:
    """The code-point column at `units` client units (clamped to the line)."""
    if encoding == "utf-32" or (encoding == "utf-16" and line.isascii()):
        return min(units, len(line))
    count = 0
    for i, c in enumerate(line):
        if count >= units:
            return i
        count += _units(c, encoding)
    return len(line)


def to_client_range(lines: list[str], rng: Range, encoding: str) -> t.Range:
    def pos(line: int, char: int) -> t.Position:
        text = lines[line] if line < len(lines) else ""
        return t.Position(line=line, character=to_client_character(text, char, encoding))

    return t.Range(
        start=pos(rng.start.line, rng.start.character), end=pos(rng.end.line, rng.end.character)
    )


def from_client_position(lines: list[str], position: t.Position, encoding: str) -> tuple[int, int]:
    if position.line >= len(lines):
        return len(lines) - 1, len(lines[-1]) if lines else 0
    return position.line, from_client_character(lines[position.line], position.character, encoding)


def encoding_of(ls) -> str:
    enc = getattr(ls.workspace, "position_encoding", None) or "utf-16"
    return str(getattr(enc, "value", enc))
