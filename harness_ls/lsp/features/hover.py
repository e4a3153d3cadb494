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
        schema, _ = ls.specs.schema_for(params.text_document.uri)
        missing, rng = _missing_here(state.problems, schema, line)
        heading = next((h for h in state.parsed.headings if h.line <= line < h.end_line), None)
        text = _heading_text(heading.text, schema) if heading is not None else None
        if heading is not None:
            rng = Range.of(heading.line, heading.text_start, heading.line, heading.text_end)
        text = "\n\n---\n\n".join(x for x in (text, missing) if x) or None
        if text is None or rng is None:
            return None
        return t.Hover(
            contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=text),
            range=to_client_range(state.lines, rng, encoding_of(ls)),
        )


def _heading_text(heading: str, schema) -> str | None:
    norm = normalize(heading)
    for section in schema.sections:
        if norm == normalize(section.heading) or norm in {normalize(a) for a in section.aliases}:
            req = "Required section" if section.required else "Section"
            return f"**{section.heading}** — {req}.\n\n{section.hover}"
    for opt in schema.optional_sections:
        if norm == normalize(opt.heading):
            return f"**{opt.heading}** — optional section.\n\n{opt.hover}"
    return None


def _missing_here(problems, schema, line: int) -> tuple[str | None, Range | None]:
    """The required sections reported missing on this line. The problem sits where its fix
    inserts the heading (before the next section, or at the end), so hover there explains
    the missing section rather than only the heading nearby."""
    by_id = {s.id: s for s in schema.sections}
    here = [
        p
        for p in problems
        if p.code == "HLS001" and p.range.start.line == line and p.section in by_id
    ]
    if not here:
        return None, None
    parts = [
        f"**{by_id[p.section].heading}** — required section, missing "
        f"(the quick fix inserts it in schema order).\n\n{by_id[p.section].hover}"
        for p in here
    ]
    return "\n\n---\n\n".join(parts), here[0].range
