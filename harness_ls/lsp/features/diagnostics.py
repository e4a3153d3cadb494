"""Spec diagnostics, pushed or pulled according to the client's capabilities — never both.

Neovim >= 0.11 and VS Code pull (`textDocument/diagnostic`); clients without that capability get
`publishDiagnostics` on open and change. Large documents validate off the event loop, debounced,
so the server keeps answering while a 10 MB file is checked.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

from harness_ls.lsp.positions import encoding_of, to_client_character, to_client_range
from harness_ls.spec import Problem, Severity

if TYPE_CHECKING:
    from harness_ls.lsp.documents import SpecState
    from harness_ls.lsp.server import HarnessLanguageServer

SEVERITY = {
    Severity.error: t.DiagnosticSeverity.Error,
    Severity.warning: t.DiagnosticSeverity.Warning,
    Severity.info: t.DiagnosticSeverity.Information,
    Severity.hint: t.DiagnosticSeverity.Hint,
}
SOURCE = "harness-ls"


def to_diagnostic(problem: Problem, lines: list[str], encoding: str) -> t.Diagnostic:
    return t.Diagnostic(
        range=to_client_range(lines, problem.range, encoding),
        message=problem.message,
        severity=SEVERITY[problem.severity],
        code=problem.code,
        source=SOURCE,
        data={"name": problem.name, "fixable": bool(problem.fixes)},
    )


def _position(lines: list[str], line: int, character: int, encoding: str) -> dict[str, int]:
    text = lines[line] if line < len(lines) else ""
    return {"line": line, "character": to_client_character(text, character, encoding)}


def diagnostic_json(problem: Problem, lines: list[str], encoding: str) -> dict[str, Any]:
    """`to_diagnostic` in its wire form, built directly: the keystroke path skips lsprotocol's
    objects and cattrs (whose first use alone generates code for ~10 ms)."""
    start, end = problem.range.start, problem.range.end
    return {
        "range": {
            "start": _position(lines, start.line, start.character, encoding),
            "end": _position(lines, end.line, end.character, encoding),
        },
        "message": problem.message,
        "severity": SEVERITY[problem.severity].value,
        "code": problem.code,
        "source": SOURCE,
        "data": {"name": problem.name, "fixable": bool(problem.fixes)},
    }


def diagnostics_for(ls: HarnessLanguageServer, state: SpecState) -> list[dict[str, Any]]:
    """The spec's diagnostics, in wire form."""
    enc = encoding_of(ls)
    out = [diagnostic_json(p, state.lines, enc) for p in state.problems]
    if state.schema_error:
        at = {"line": 0, "character": 0}
        out.insert(
            0,
            {
                "range": {"start": at, "end": at},
                "message": f"Workspace spec schema ignored, using the built-in one: {state.schema_error}",
                "severity": t.DiagnosticSeverity.Warning.value,
                "code": "HLS000",
                "source": SOURCE,
            },
        )
    return out


def _wire(ls: HarnessLanguageServer, items: list[t.Diagnostic]) -> list[dict[str, Any]]:
    """Other features' lsprotocol diagnostics (approvals), in wire form."""
    return [ls.protocol._converter.unstructure(d) for d in items]


def send_diagnostics(
    ls: HarnessLanguageServer, uri: str, items: list[dict[str, Any]], version: int | None
) -> None:
    """textDocument/publishDiagnostics with wire-form items (no cattrs on the way)."""
    params: dict[str, Any] = {"uri": uri, "diagnostics": items}
    if version is not None:
        params["version"] = version
    ls.protocol._send_data(
        {"jsonrpc": "2.0", "method": t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, "params": params}
    )


async def compute(ls: HarnessLanguageServer, uri: str) -> SpecState | None:
    """Parse + validate, off the loop for large documents."""
    if not ls.specs.is_spec(uri):
        return None
    doc = ls.workspace.get_text_document(uri)
    if len(doc.source) <= LARGE:
        return ls.specs.get(uri, doc.version, doc.source)
    return await asyncio.get_running_loop().run_in_executor(
        None, ls.specs.get, uri, doc.version, doc.source
    )


LARGE = 256 * 1024


def _noted(ls: HarnessLanguageServer, state: SpecState | None) -> SpecState | None:
    if state is not None:
        from harness_ls.lsp.features import lenses

        lenses.note_state(ls, state)
    return state


def publish(ls: HarnessLanguageServer, uri: str, state: SpecState | None) -> None:
    if ls.uses_pull_diagnostics:
        return
    items = diagnostics_for(ls, state) if state else []
    for provider in ls.diagnostic_providers:  # e.g. pending approvals anchored in this file
        items = items + _wire(ls, provider(ls, uri))
    send_diagnostics(ls, uri, items, state.version if state else None)


def schedule(ls: HarnessLanguageServer, uri: str) -> None:
    """Validate now for normal documents; debounce large ones (latest version wins)."""
    if not ls.specs.is_spec(uri):
        return
    doc = ls.workspace.get_text_document(uri)
    delay = ls.settings.debounce_ms / 1000
    if len(doc.source) <= LARGE and not delay:
        state = _noted(ls, ls.specs.get(uri, doc.version, doc.source))
        if not ls.uses_pull_diagnostics:
            publish(ls, uri, state)
        return
    if ls.uses_pull_diagnostics:
        return  # the client will pull; compute() runs off the loop then
    prev = ls.pending.pop(uri, None)
    if prev is not None:
        prev.cancel()

    async def later() -> None:
        await asyncio.sleep(max(delay, 0.15 if len(doc.source) > LARGE else 0))
        state = _noted(ls, await compute(ls, uri))
        publish(ls, uri, state)

    ls.pending[uri] = asyncio.ensure_future(later())


def refresh_all(ls: HarnessLanguageServer) -> None:
    """Settings or schema changed: recompute every open document."""
    ls.specs.invalidate_all()
    if ls.uses_pull_diagnostics:
        ws = ls.client_capabilities.workspace
        if ws and ws.diagnostics and ws.diagnostics.refresh_support:
            ls.workspace_diagnostic_refresh(None)
        return
    for uri in list(ls.workspace.text_documents):
        if ls.specs.is_spec(uri):
            schedule(ls, uri)
        else:
            publish(ls, uri, None)


def register(server: HarnessLanguageServer) -> None:
    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: HarnessLanguageServer, params: t.DidOpenTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: HarnessLanguageServer, params: t.DidChangeTextDocumentParams) -> None:
        schedule(ls, params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: HarnessLanguageServer, params: t.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri.endswith(".harness/spec.schema.json"):
            refresh_all(ls)

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: HarnessLanguageServer, params: t.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.specs.forget(uri)
        from harness_ls.lsp.features.lenses import LensKeys

        ls.parts.get(LensKeys, LensKeys).pop(uri, None)
        task = ls.pending.pop(uri, None)
        if task:
            task.cancel()
        if not ls.uses_pull_diagnostics and ls.specs.is_spec(uri):
            ls.text_document_publish_diagnostics(
                t.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    @server.feature(
        t.TEXT_DOCUMENT_DIAGNOSTIC,
        t.DiagnosticOptions(
            identifier="harness-ls", inter_file_dependencies=False, workspace_diagnostics=False
        ),
    )
    async def pull(ls: HarnessLanguageServer, params: t.DocumentDiagnosticParams):
        uri = params.text_document.uri
        state = _noted(ls, await compute(ls, uri))
        items = diagnostics_for(ls, state) if state else []
        from harness_ls.lsp.features import approvals

        if approvals.by_pull(ls):  # else they are pushed (see features/approvals.py)
            items = items + _wire(ls, approvals.approval_diagnostics(ls, uri))
        return {"kind": "full", "items": items}  # a RelatedFullDocumentDiagnosticReport
