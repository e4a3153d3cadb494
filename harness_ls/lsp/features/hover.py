"""Hover on a section heading says what belongs in that section; on a pending approval's
lines, the whole approval view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as t

from harness_ls.lsp.positions import encoding_of, to_client_range
from harness_ls.spec.model import Range
from harness_ls.spec.validate import normalize

if TYPE_CHECKING:
    from harness_ls.lsp.server import HarnessLanguageServer


def register(server: HarnessLanguageServer) -> None:
    @server.feature(t.TEXT_DOCUMENT_HOVER)
    def hover(ls: HarnessLanguageServer, params: t.HoverParams):
        from harness_ls.lsp.features import approvals

        shown = approvals.hover(ls, params.text_document.uri, params.position.line)
        if shown is not None:
            return shown
        state = ls.spec_state(params.text_document.uri)
        if state is None:
            return None
        line = params.position.line
        heading = next((h for h in state.parsed.headings if h.line <= line < h.end_line), None)
        if heading is None:
            return None
        schema, _ = ls.specs.schema_for(params.text_document.uri)
        norm = normalize(heading.text)
        text = None
        for section in schema.sections:
            if norm == normalize(section.heading) or norm in {
                normalize(a) for a in section.aliases
            }:
                req = "Required section" if section.required else "Section"
                text = f"**{section.heading}** — {req}.\n\n{section.hover}"
                break
        else:
            for opt in schema.optional_sections:
                if norm == normalize(opt.heading):
                    text = f"**{opt.heading}** — optional section.\n\n{opt.hover}"
        if text is None:
            return None
        rng = Range.of(heading.line, heading.text_start, heading.line, heading.text_end)
        return t.Hover(
            contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text),
            range=to_client_range(state.lines, rng, encoding_of(ls)),
        )
