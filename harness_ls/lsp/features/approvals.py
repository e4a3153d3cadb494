"""Approvals in the editor: each pending approval is a diagnostic (source `harness`) with
Approve / Deny / "Approve similar for this run" code actions.

A write is anchored on the lines it would change in the target file (the diff is in the message);
a shell command on the spec line of its step. Approval diagnostics are always *pushed* (they can
concern files the client never pulls); lint diagnostics keep their own push/pull channel, so a
client never sees one diagnostic twice. When an approval is answered anywhere (HTTP, CLI, another
editor) the broker tells us and the diagnostic is withdrawn at once.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

if TYPE_CHECKING:
    from harness_ls.core import Harness
    from harness_ls.lsp.server import HarnessLanguageServer

log = logging.getLogger("harness_ls.lsp.approvals")
SOURCE = "harness"
MAX_DIFF_LINES = 40


def _attr(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def anchor(approval: Any) -> tuple[str, int, int] | None:
    """(uri, start_line, end_line) 0-based for an approval, or None when there is nothing to anchor."""
    preview = approval.preview
    ws = Path(approval.workspace) if approval.workspace else None
    if ws is None:
        return None
    path = _attr(preview, "path")
    if _attr(preview, "kind") == "write" and path:
        rng = _attr(preview, "range")
        start = max((_attr(rng, "start_line") or 1) - 1, 0) if rng else 0
        end = max((_attr(rng, "end_line") or 1) - 1, start) if rng else start
        target = ws / path
        if not target.exists():
            start = end = 0
        return target.as_uri(), start, end
    if approval.spec_path:
        line = approval.spec_line or 0
        return (ws / approval.spec_path).as_uri(), line, line
    return None


def message(approval: Any, *, max_body_lines: int | None = MAX_DIFF_LINES) -> str:
    """The approval view as text (tools.consent_text): the same parts and flags as the CLI."""
    # lazy: harness_ls.tools (and pydantic) load only when there is an approval to show,
    # not in a lint-only session (cold start, RSS: benchmarks/lsp_latency.py)
    from harness_ls.tools.consent_text import as_view, safe, text_lines

    view = as_view(approval)
    lines = [f"Approval needed ({safe(approval.tool)}): {view.title}"]
    lines += [text for _, text in text_lines(view, max_body_lines=max_body_lines)]
    lines.append(f"id {approval.id}: use the Approve / Deny code actions, or `agentctl approve`")
    return "\n".join(lines)


def hover(ls: HarnessLanguageServer, uri: str, line: int) -> t.Hover | None:
    """Hover on an approval's lines: the whole view, nothing cut, in a fence it cannot escape."""
    from harness_ls.lsp.runtime import runtime

    rt = runtime(ls)
    if rt.harness is None:
        return None
    texts = []
    for approval in rt.harness.pending_approvals():
        where = anchor(approval)
        if where is None or where[0] != uri or not (where[1] <= line <= where[2]):
            continue
        texts.append(message(approval, max_body_lines=None))
    if not texts:
        return None
    return t.Hover(
        contents=t.MarkupContent(kind=t.MarkupKind.Markdown, value=fenced("\n\n".join(texts)))
    )


def fenced(body: str) -> str:
    """`body` in a code fence longer than any backtick run inside it."""
    best = run = 0
    for ch in body:
        run = run + 1 if ch == "`" else 0
        best = max(best, run)
    fence = "`" * max(3, best + 1)
    return f"{fence}text\n{body}\n{fence}"


def approval_diagnostics(ls: HarnessLanguageServer, uri: str) -> list[t.Diagnostic]:
    from harness_ls.lsp.runtime import runtime

    rt = runtime(ls)
    if rt.harness is None:
        return []
    out = []
    for approval in rt.harness.pending_approvals():
        where = anchor(approval)
        if where is None or where[0] != uri:
            continue
        _, start, end = where
        out.append(
            t.Diagnostic(
                range=t.Range(
                    start=t.Position(line=start, character=0),
                    end=t.Position(line=end + 1, character=0),
                ),
                message=message(approval),
                severity=t.DiagnosticSeverity.Warning,
                source=SOURCE,
                code="approval",
                data={
                    "approval_id": approval.id,
                    "run_id": approval.run_id,
                    "session_id": approval.session_id,
                },
            )
        )
    return out


def publish(ls: HarnessLanguageServer, uri: str) -> None:
    """Push approval diagnostics for `uri` (with lint diagnostics too for push clients)."""
    from harness_ls.lsp.features import diagnostics

    if (
        not ls.uses_pull_diagnostics
        and ls.specs.is_spec(uri)
        and uri in ls.workspace.text_documents
    ):
        doc = ls.workspace.get_text_document(uri)
        diagnostics.publish(ls, uri, ls.specs.get(uri, doc.version, doc.source))
        return
    ls.text_document_publish_diagnostics(
        t.PublishDiagnosticsParams(uri=uri, diagnostics=approval_diagnostics(ls, uri))
    )


def code_actions(ls: HarnessLanguageServer, params: t.CodeActionParams) -> list[t.CodeAction]:
    uri = params.text_document.uri
    out: list[t.CodeAction] = []
    rng = params.range
    for diag in approval_diagnostics(ls, uri):
        if diag.range.start.line > rng.end.line or diag.range.end.line < rng.start.line:
            continue
        aid = diag.data["approval_id"]
        first = diag.message.splitlines()[0].removeprefix("Approval needed ")
        for title, cmd, preferred in (
            (f"Approve {first}", "harness.approve", True),
            (f"Deny {first}", "harness.deny", False),
            ("Approve similar for this run", "harness.approveSimilar", False),
        ):
            out.append(
                t.CodeAction(
                    title=title,
                    kind=t.CodeActionKind.QuickFix,
                    diagnostics=[diag],
                    is_preferred=preferred or None,
                    command=t.Command(title=title, command=cmd, arguments=[aid]),
                )
            )
    return out


async def ask_with_message(ls: HarnessLanguageServer, harness: Harness, approval: Any) -> None:
    """Fallback for clients without convenient code actions: window/showMessageRequest."""
    try:
        choice = await ls.window_show_message_request_async(
            t.ShowMessageRequestParams(
                type=t.MessageType.Warning,
                message=message(approval),
                actions=[t.MessageActionItem(title="Approve"), t.MessageActionItem(title="Deny")],
            )
        )
    except Exception as exc:  # the client went away or cannot show it
        log.info("showMessageRequest failed: %s", exc)
        return
    if choice is None:
        return
    decision = "approve" if choice.title == "Approve" else "deny"
    from harness_ls.errors import HarnessError

    try:
        await harness.answer_approval(approval.id, decision, "editor")
    except HarnessError as exc:
        ls.show_message(exc.one_line(), t.MessageType.Info)


async def watch(ls: HarnessLanguageServer, harness: Harness) -> None:
    """Follow the broker: show new approvals, withdraw answered ones, refresh lenses."""
    from harness_ls.lsp.features import lenses

    try:
        async for change in harness.subscribe_approvals():
            approval = change.approval
            where = anchor(approval)
            if where is not None:
                publish(ls, where[0])
            lenses.refresh(ls)
            if change.kind == "requested" and approval.status == "pending":
                if ls.settings.approval_prompt == "messageRequest":
                    asyncio.ensure_future(ask_with_message(ls, harness, approval))
                try:
                    ls.protocol.notify(
                        "harness/approvalRequested",
                        {
                            "id": approval.id,
                            "runId": approval.run_id,
                            "summary": message(approval).splitlines()[0],
                            "specUri": (Path(approval.workspace) / approval.spec_path).as_uri()
                            if approval.workspace and approval.spec_path
                            else None,
                        },
                    )
                except Exception:
                    pass
    except asyncio.CancelledError:
        raise
    except Exception:  # keep the server alive; log why approvals stopped updating
        log.exception("approval watcher stopped")
        ls.log_info("harness-ls: approval updates stopped (see stderr)", t.MessageType.Error)
