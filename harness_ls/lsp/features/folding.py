"""Folding ranges: each section (its heading to its last non-blank line) and each fenced block,
for Neovim's `vim.lsp.foldexpr()` and VS Code's folding. Lines only, so no position encoding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as t

if TYPE_CHECKING:
    from harness_ls.lsp.server import HarnessLanguageServer
    from harness_ls.spec import ParsedSpec


def folds(parsed: ParsedSpec) -> list[tuple[int, int]]:
    """(first, last) 0-based lines of each section and fenced block that spans 2+ lines."""
    out: list[tuple[int, int]] = []
    for idx, h in enumerate(parsed.headings):
        end = parsed.section_end(idx) - 1
        while end > h.line and not parsed.lines[end].strip():
            end -= 1  # blank lines before the next heading stay visible
        if end > h.line:
            out.append((h.line, end))
    for f in parsed.fences:
        end = f.end_line - 1
        while end > f.line and not f.closed and not parsed.lines[end].strip():
            end -= 1
        if end > f.line:
            out.append((f.line, end))
    return sorted(out)


def register(server: HarnessLanguageServer) -> None:
    @server.feature(t.TEXT_DOCUMENT_FOLDING_RANGE)
    def folding(ls: HarnessLanguageServer, params: t.FoldingRangeParams):
        state = ls.spec_state(params.text_document.uri)
        if state is None:
            return None
        return [
            t.FoldingRange(start_line=a, end_line=b, kind=t.FoldingRangeKind.Region)
            for a, b in folds(state.parsed)
        ]
