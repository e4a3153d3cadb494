"""Completion of missing headings on a line starting with `#`, and a template for an empty spec."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as t

from harness_ls.lsp.positions import encoding_of, from_client_position, to_client_character
from harness_ls.spec import render_template

if TYPE_CHECKING:
    from harness_ls.lsp.server import HarnessLanguageServer


def register(server: HarnessLanguageServer) -> None:
    @server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=["#"]))
    def complete(ls: HarnessLanguageServer, params: t.CompletionParams):
        state = ls.spec_state(params.text_document.uri)
        if state is None:
            return None
        enc = encoding_of(ls)
        line_no, _ = from_client_position(state.lines, params.position, enc)
        line = state.lines[line_no] if line_no < len(state.lines) else ""
        whole = t.Range(
            start=t.Position(line=line_no, character=0),
            end=t.Position(line=line_no, character=to_client_character(line, len(line), enc)),
        )
        items: list[t.CompletionItem] = []
        schema, _ = ls.specs.schema_for(params.text_document.uri)
        if not state.text.strip():
            items.append(
                t.CompletionItem(
                    label="spec template",
                    kind=t.CompletionItemKind.Snippet,
                    detail="All required sections",
                    documentation="Insert the Goal / Constraints / Acceptance tests skeleton.",
                    text_edit=t.TextEdit(range=whole, new_text=render_template(schema=schema)),
                )
            )
            return t.CompletionList(is_incomplete=False, items=items)
        if not line.lstrip().startswith("#"):
            return None
        if any(f.line < line_no < f.end_line for f in state.parsed.fences):
            return None  # a comment in a fenced command block, where `#` is no heading
        present = {(h.level, h.text) for h in state.parsed.headings if h.line != line_no}
        for order, section in enumerate(schema.sections):
            if (section.level, section.heading) in present:
                continue
            heading = f"{'#' * section.level} {section.heading}"
            items.append(
                t.CompletionItem(
                    label=heading,
                    kind=t.CompletionItemKind.Keyword,
                    detail="required section" if section.required else "section",
                    documentation=t.MarkupContent(kind=t.MarkupKind.Markdown, value=section.hover),
                    filter_text=heading,
                    sort_text=f"0{order}",
                    text_edit=t.TextEdit(range=whole, new_text=heading),
                )
            )
        for order, opt in enumerate(schema.optional_sections):
            heading = f"# {opt.heading}"
            items.append(
                t.CompletionItem(
                    label=heading,
                    kind=t.CompletionItemKind.Keyword,
                    detail="optional section",
                    documentation=opt.hover,
                    filter_text=heading,
                    sort_text=f"1{order}",
                    text_edit=t.TextEdit(range=whole, new_text=heading),
                )
            )
        return t.CompletionList(is_incomplete=False, items=items)
