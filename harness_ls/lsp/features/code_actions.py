"""Quick fixes: one `quickfix` per fix of each problem in range, plus `source.fixAll.harness`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as t

from harness_ls.lsp.features.diagnostics import to_diagnostic
from harness_ls.lsp.positions import encoding_of, to_client_range
from harness_ls.spec import Problem, TextEdit, fix_all
from harness_ls.spec.model import Range

if TYPE_CHECKING:
    from harness_ls.lsp.server import HarnessLanguageServer

FIX_ALL = "source.fixAll.harness"


def _edits(lines: list[str], edits: list[TextEdit], enc: str) -> list[t.TextEdit]:
    return [
        t.TextEdit(range=to_client_range(lines, e.range, enc), new_text=e.new_text) for e in edits
    ]


def _workspace_edit(
    ls: HarnessLanguageServer, uri: str, version: int | None, edits: list[t.TextEdit]
) -> t.WorkspaceEdit:
    """Edits tied to the document version they were computed for, when the client can check it:
    a quick fix picked after the text changed is then refused instead of landing on other text."""
    ws = ls.client_capabilities.workspace
    versioned = ws and ws.workspace_edit and ws.workspace_edit.document_changes
    if not versioned or version is None:
        return t.WorkspaceEdit(changes={uri: edits})
    doc = t.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return t.WorkspaceEdit(document_changes=[t.TextDocumentEdit(text_document=doc, edits=edits)])


def _overlaps(problem: Problem, start_line: int, end_line: int) -> bool:
    return problem.range.start.line <= end_line and problem.range.end.line >= start_line


def _whole_document(lines: list[str]) -> Range:
    last = len(lines) - 1
    return Range.of(0, 0, last, len(lines[last]))


def register(server: HarnessLanguageServer) -> None:
    @server.feature(
        t.TEXT_DOCUMENT_CODE_ACTION,
        t.CodeActionOptions(
            code_action_kinds=[t.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=False
        ),
    )
    def code_actions(ls: HarnessLanguageServer, params: t.CodeActionParams):
        uri = params.text_document.uri
        actions: list[t.CodeAction] = []
        for provider in ls.code_action_providers:  # e.g. Approve / Deny
            actions.extend(provider(ls, params))
        state = ls.spec_state(uri)
        if state is None:
            return actions or None
        enc = encoding_of(ls)
        only = params.context.only
        want_quickfix = not only or any(str(k).startswith("quickfix") for k in only)
        want_fix_all = not only or any(FIX_ALL.startswith(str(k)) for k in only)
        if want_quickfix:
            rng = params.range
            for problem in state.problems:
                if not problem.fixes or not _overlaps(problem, rng.start.line, rng.end.line):
                    continue
                diag = to_diagnostic(problem, state.lines, enc)
                for fix in problem.fixes:
                    actions.append(
                        t.CodeAction(
                            title=fix.title,
                            kind=t.CodeActionKind.QuickFix,
                            diagnostics=[diag],
                            is_preferred=fix.preferred or None,
                            edit=_workspace_edit(
                                ls, uri, state.version, _edits(state.lines, fix.edits, enc)
                            ),
                        )
                    )
        if want_fix_all and any(p.fixes for p in state.problems):
            fixed = fix_all(state.text, ls.specs.schema_for(uri)[0])
            if fixed != state.text:
                edit = TextEdit(range=_whole_document(state.lines), new_text=fixed)
                actions.append(
                    t.CodeAction(
                        title="Fix all spec problems (harness-ls)",
                        kind=FIX_ALL,
                        edit=_workspace_edit(
                            ls, uri, state.version, _edits(state.lines, [edit], enc)
                        ),
                    )
                )
        return actions or None
