"""Plain result types of the spec validator: positions, edits, fixes, problems.

Positions are 0-based lines and **code-point** columns into the text as split by `split_lines`
(LSP line ends: \\n, \\r\\n, \\r). Hosts convert to UTF-16/UTF-8 units at their edge.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"
    hint = "hint"


class Position(BaseModel):
    model_config = ConfigDict(frozen=True)
    line: int
    character: int


class Range(BaseModel):
    model_config = ConfigDict(frozen=True)
    start: Position
    end: Position

    @classmethod
    def of(cls, sl: int, sc: int, el: int, ec: int) -> Range:
        return cls(start=Position(line=sl, character=sc), end=Position(line=el, character=ec))

    @classmethod
    def line(cls, line: int, length: int = 0) -> Range:
        return cls.of(line, 0, line, length)


class TextEdit(BaseModel):
    model_config = ConfigDict(frozen=True)
    range: Range
    new_text: str


class Fix(BaseModel):
    """A repair as plain text edits; `preferred` when it is the one obvious fix."""

    title: str
    edits: list[TextEdit]
    preferred: bool = False


class Problem(BaseModel):
    code: str
    name: str
    severity: Severity
    message: str
    range: Range
    fixes: list[Fix] = []
    section: str | None = None

    def location(self, path: str) -> str:
        """`file:line:col: severity code message` (1-based), the format of `harness-ls check`."""
        p = self.range.start
        return f"{path}:{p.line + 1}:{p.character + 1}: {self.severity.value} {self.code} {self.message}"


class AcceptanceTest(BaseModel):
    """A runnable acceptance test from the spec: a shell command and the 0-based line it is on."""

    command: str
    line: int
    source: str  # "fence" | "inline"
