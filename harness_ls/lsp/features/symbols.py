"""Document symbols: the outline of a spec's sections."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as t

from harness_ls.lsp.positions import encoding_of, to_client_range
from harness_ls.spec.model import Range

if TYPE_CHECKING:
    from harness_ls.lsp.server import HarnessLanguageServer


def register(server: HarnessLanguageServer) -> None:
    @server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(ls: HarnessLanguageServer, params: t.DocumentSymbolParams):
        state = ls.spec_state(params.text_document.uri)
        if state is None:
            return None
        enc = encoding_of(ls)
        parsed = state.parsed
        roots: list[t.DocumentSymbol] = []
        stack: list[tuple[int, t.DocumentSymbol]] = []
        for idx, h in enumerate(parsed.headings):
            end = max(parsed.section_end(idx) - 1, h.line)
            full = Range.of(h.line, 0, end, len(parsed.lines[end]))
            sym = t.DocumentSymbol(
                name=h.text or "(empty heading)",
                kind=t.SymbolKind.String if h.level == 1 else t.SymbolKind.Key,
                range=to_client_range(state.lines, full, enc),
                selection_range=to_client_range(
                    state.lines, Range.of(h.line, h.text_start, h.line, h.text_end), enc
                ),
                detail=f"h{h.level}",
                children=[],
            )
            while stack and stack[-1][0] >= h.level:
                stack.pop()
            (stack[-1][1].children if stack else roots).append(sym)
            stack.append((h.level, sym))
        return roots
