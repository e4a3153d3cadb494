"""Plain result types of the spec validator: positions, edits, fixes, problems.

Positions are 0-based lines and **code-point** columns into the text as split by `split_lines`
(LSP line ends: \\n, \\r\\n, \\r). Hosts convert to UTF-16/UTF-8 units at their edge.
These are slotted dataclasses rather than pydantic models because the language server imports
them on its cold-start path; `model_dump()` gives the JSON form at the boundaries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"
    hint = "hint"


class _Dumpable:
    __slots__ = ()

    def model_dump(self, mode: str = "json", **_: Any) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class Position(_Dumpable):
    line: int
    character: int


@dataclass(frozen=True, slots=True)
class Range(_Dumpable):
    start: Position
    end: Position

    @classmethod
    def of(cls, sl: int, sc: int, el: int, ec: int) -> Range:
        return cls(start=Position(line=sl, character=sc), end=Position(line=el, character=ec))

    @classmethod
    def line(cls, line: int, length: int = 0) -> Range:
        return cls.of(line, 0, line, length)


@dataclass(frozen=True, slots=True)
class TextEdit(_Dumpable):
    range: Range
    new_text: str


@dataclass(slots=True)
class Fix(_Dumpable):
    """A repair as plain text edits; `preferred` when it is the one obvious fix."""

    title: str
    edits: list[TextEdit]
    preferred: bool = False


@dataclass(slots=True)
class Problem(_Dumpable):
    code: str
    name: str
    severity: Severity
    message: str
    range: Range
    fixes: list[Fix] = field(default_factory=list)
    section: str | None = None

    def location(self, path: str) -> str:
        """`file:line:col: severity code message` (1-based), the format of `harness-ls check`."""
        p = self.range.start
        return f"{path}:{p.line + 1}:{p.character + 1}: {self.severity.value} {self.code} {self.message}"

    def model_dump(self, mode: str = "json", **_: Any) -> dict[str, Any]:
        out = asdict(self)
        out["severity"] = self.severity.value
        return out


@dataclass(slots=True)
class AcceptanceTest(_Dumpable):
    """A runnable acceptance test from the spec: a shell command and the 0-based line it is on."""

    command: str
    line: int
    source: str  # "fence" | "inline"
