"""Approvals in the editor: one presenter, three channels.

1. Diagnostics (source `harness`) with Approve / Deny / Approve similar / Show diff code actions,
   anchored in the spec buffer on the line of the plan step that asked, and on the target file
   when it exists (never on a file that does not). They travel by *pull* to clients that pull
   and can be told to re-pull (`workspace/diagnostic/refresh`), by *push* to everyone else —
   one channel per client, so a client never sees an approval twice.
2. `window/showMessageRequest` with Approve / Deny / Show diff: every LSP client implements it.
3. Code lenses on the spec (see lenses.py).

`harness.approvals.prompt` picks: "auto" (diagnostics when the client has code actions, else the
message), "diagnostic", "message" or "both". When an approval is answered anywhere (HTTP, CLI,
another editor) the broker tells us and the diagnostic is withdrawn at once.
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

from harness_ls.lsp.features import approval_diff
from harness_ls.lsp.tasks import spawn

log = logging.getLogger("harness_ls.lsp.approvals")
SOURCE = "harness"
MAX_DIFF_LINES = 40


def _attr(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def anchors(approval: Any) -> list[tuple[str, int, int]]:
    """(uri, start_line, end_line) 0-based places to show an approval: the spec line of the
    step that asked, plus the written file's changed lines when that file exists."""
    preview = approval.preview
    ws = Path(approval.workspace) if approval.workspace else None
    if ws is None:
        return []
    out: list[tuple[str, int, int]] = []
    if approval.spec_path:
        line = max(approval.spec_line or 0, 0)
        out.append(((ws / approval.spec_path).as_uri(), line, line))
    path = _attr(preview, "path")
    if _attr(preview, "kind") == "write" and path and (ws / path).is_file():
        rng = _attr(preview, "range")
        start = max((_attr(rng, "start_line") or 1) - 1, 0) if rng else 0
        end = max((_attr(rng, "end_line") or 1) - 1, start) if rng else start
        out.append(((ws / path).as_uri(), start, end))
    return out


def anchor(approval: Any) -> tuple[str, int, int] | None:
    """The first place an approval is shown (the spec line when there is one)."""
    found = anchors(approval)
    return found[0] if found else None


def channels(ls: HarnessLanguageServer) -> set[str]:
    """Which channels show approvals to this client: {"diagnostic"}, {"message"} or both."""
    mode = ls.settings.approval_prompt
    if mode == "both":
        return {"diagnostic", "message"}
    if mode in ("diagnostic", "message"):
        return {mode}
    td = ls.client_capabilities.text_document if ls.client_capabilities else None
    return {"diagnostic"} if td is not None and td.code_action is not None else {"message"}


def by_pull(ls: HarnessLanguageServer) -> bool:
    """Approvals ride the pull channel only when the client pulls *and* can be told to re-pull;
    a pull client without refresh support (Neovim 0.11) gets them pushed instead."""
    if not ls.uses_pull_diagnostics:
        return False
    ws = ls.client_capabilities.workspace if ls.client_capabilities else None
    return bool(ws and ws.diagnostics and ws.diagnostics.refresh_support)


def message(approval: Any, *, max_body_lines: int | None = MAX_DIFF_LINES) -> str:
    """The approval view as text (tools.consent_text): the same parts and flags as the CLI."""
    # lazy: harness_ls.tools (and pydantic) load only when there is an approval to show,
    # not in a lint-only session (cold start, RSS: benchmarks/lsp_latency.py)
    from harness_ls.core.views import as_view, text_lines
    from harness_ls.lsp.features.approval_wire import headline

    view = as_view(approval)
    lines = [f"Approval needed {headline(approval)}"]
    lines += [text for _, text in text_lines(view, max_body_lines=max_body_lines)]
    lines.append(f"id {approval.id}: use the Approve / Deny code actions, or `agentctl approve`")
    return "\n".join(lines)


def hover(ls: HarnessLanguageServer, uri: str, line: int) -> t.Hover | None:
    """Hover on an approval's lines: the whole view, nothing cut, in a fence it cannot escape."""
    from harness_ls.lsp.runtime import runtime

    rt = runtime(ls)
    if rt.harness is None:
        return None
    from harness_ls.lsp.documents import uri_key

    texts, key = [], uri_key(uri)
    for approval in rt.harness.pending_approvals():
        if any(uri_key(u) == key and a <= line <= b for u, a, b in anchors(approval)):
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


def placed(ls: HarnessLanguageServer, uri: str) -> list[tuple[Any, int, int]]:
    """(approval, start, end) for each pending approval shown on `uri` (none when this client's
    channel is not diagnostics)."""
    from harness_ls.lsp.runtime import runtime

    rt = runtime(ls)
    if rt.harness is None or "diagnostic" not in channels(ls):
        return []
    from harness_ls.lsp.documents import uri_key

    out, key = [], uri_key(uri)
    for approval in rt.harness.pending_approvals():
        for where_uri, start, end in anchors(approval):
            if uri_key(where_uri) == key:
                out.append((approval, start, end))
    return out


def approval_diagnostics(ls: HarnessLanguageServer, uri: str) -> list[t.Diagnostic]:
    return [_diagnostic(approval, start, end) for approval, start, end in placed(ls, uri)]


def _range(start: int, end: int) -> t.Range:
    return t.Range(
        start=t.Position(line=start, character=0), end=t.Position(line=end + 1, character=0)
    )


def _diagnostic(approval: Any, start: int, end: int) -> t.Diagnostic:
    from harness_ls.lsp.features.approval_wire import ids

    return t.Diagnostic(
        range=_range(start, end),
        message=message(approval),
        severity=t.DiagnosticSeverity.Warning,
        source=SOURCE,
        code="approval",
        data={
            **ids(approval),
            "session_id": approval.session_id,
            "has_diff": bool(_attr(approval.preview, "diff")),
        },
    )


def publish(ls: HarnessLanguageServer, uri: str) -> None:
    """Show the current approvals of `uri` through this client's diagnostic channel."""
    from harness_ls.lsp.features import diagnostics

    if by_pull(ls):
        return  # refresh() asks the client to pull; the pull handler adds approvals
    uri = ls.open_uri(uri) or uri  # an open document: under the uri the client knows it by
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


def refresh(ls: HarnessLanguageServer, uris: set[str]) -> None:
    """Approvals changed on `uris`: re-push them, or ask a pull client to pull again."""
    if by_pull(ls):
        try:
            ls.workspace_diagnostic_refresh(None)
        except Exception as exc:  # the client went away
            log.info("workspace/diagnostic/refresh failed: %s", exc)
        return
    for uri in uris:
        publish(ls, uri)


def code_actions(ls: HarnessLanguageServer, params: t.CodeActionParams) -> list[t.CodeAction]:
    """Approve / Deny / Approve similar (/ Show diff) for the approvals in range, and anywhere in
    the proposed change show_diff opened: titles from the approval itself, `data` and the
    command argument from its id (approval_wire.py)."""
    from harness_ls.lsp.features.approval_wire import action_data, headline

    out: list[t.CodeAction] = []
    rng = params.range
    uri = params.text_document.uri
    found = [
        (a, s, e) for a, s, e in placed(ls, uri) if s <= rng.end.line and e + 1 >= rng.start.line
    ]
    in_diff = approval_diff.in_diff(ls, uri)
    for approval, start, end in found + [(a, 0, 0) for a in in_diff]:
        diag = _diagnostic(approval, start, end)
        first = headline(approval)
        choices = [
            (f"Approve {first}", "harness.approve", True),
            (f"Deny {first}", "harness.deny", False),
            ("Approve similar for this run", "harness.approveSimilar", False),
        ]
        if _attr(approval.preview, "diff") and approval not in in_diff:
            choices.append(("Show diff", "harness.showDiff", False))
        for title, cmd, preferred in choices:
            out.append(
                t.CodeAction(
                    title=title,
                    kind=t.CodeActionKind.QuickFix,
                    diagnostics=[diag],
                    is_preferred=preferred or None,
                    data=action_data(approval),
                    command=t.Command(title=title, command=cmd, arguments=[approval.id]),
                )
            )
    return out


async def show_diff(ls: HarnessLanguageServer, harness: Harness, approval_id: str) -> str | None:
    """Open the proposed change with window/showDocument; the file's uri, or None (no diff)."""
    approval = next((a for a in harness.pending_approvals() if a.id == approval_id), None)
    if approval is None:
        ls.show_message(f"approval {approval_id} is no longer pending", t.MessageType.Info)
        return None
    path = approval_diff.diff_file(harness.data_dir, approval)
    if path is None:
        ls.show_message(f"approval {approval_id} has no diff to show", t.MessageType.Info)
        return None
    try:
        await ls.window_show_document_async(
            t.ShowDocumentParams(uri=path.as_uri(), take_focus=True)
        )
    except Exception as exc:  # a client without showDocument: say where the file is
        log.info("showDocument failed: %s", exc)
        ls.show_message(f"the proposed change is in {path}", t.MessageType.Info)
    return path.as_uri()


def prompt_text(approval: Any) -> str:
    """The question of the message channel: what is asked, without the code-action hint."""
    lines = message(approval).splitlines()
    body = [ln for ln in lines[:-1] if ln][: 1 + MAX_DIFF_LINES]
    return "\n".join(body)


async def ask_with_message(ls: HarnessLanguageServer, harness: Harness, approval: Any) -> None:
    """The universal channel: window/showMessageRequest with Approve / Deny (/ Show diff).
    "Show diff" opens the change and asks again while the approval is still pending."""
    from harness_ls.errors import HarnessError

    has_diff = bool(_attr(approval.preview, "diff"))
    titles = ["Approve", "Deny"] + (["Show diff"] if has_diff else [])
    while any(a.id == approval.id for a in harness.pending_approvals()):
        try:
            choice = await ls.window_show_message_request_async(
                t.ShowMessageRequestParams(
                    type=t.MessageType.Warning,
                    message=prompt_text(approval),
                    actions=[t.MessageActionItem(title=x) for x in titles],
                )
            )
        except Exception as exc:  # the client went away or cannot show it
            log.info("showMessageRequest failed: %s", exc)
            return
        if choice is None:  # dismissed: the diagnostic / lens / dashboard still offer it
            return
        if choice.title == "Show diff":
            await show_diff(ls, harness, approval.id)
            continue
        if choice.title not in ("Approve", "Deny"):
            return
        decision = "approve" if choice.title == "Approve" else "deny"
        try:
            await harness.answer_approval(approval.id, decision, "editor")
        except HarnessError as exc:  # answered elsewhere meanwhile
            ls.show_message(exc.one_line(), t.MessageType.Info)
        return


async def watch(ls: HarnessLanguageServer, harness: Harness) -> None:
    """Follow the broker: show new approvals, withdraw answered ones, refresh lenses."""
    from harness_ls.lsp.features import lenses

    shown: dict[str, set[str]] = {}  # approval id -> uris it was shown on
    try:
        async for change in harness.subscribe_approvals():
            approval = change.approval
            uris = {where[0] for where in anchors(approval)}
            if approval.status == "pending":
                shown[approval.id] = shown.get(approval.id, set()) | uris
            else:
                uris |= shown.pop(approval.id, set())
            refresh(ls, uris)
            lenses.refresh(ls)
            if change.kind == "requested" and approval.status == "pending":
                if "message" in channels(ls):
                    spawn(ask_with_message(ls, harness, approval), f"ask about {approval.id}")
                _notify(ls, "requested", approval)
            elif approval.status != "pending":
                _notify(ls, "resolved", approval)
    except asyncio.CancelledError:
        raise
    except Exception:  # keep the server alive; log why approvals stopped updating
        log.exception("approval watcher stopped")
        ls.log_info("harness-ls: approval updates stopped (see stderr)", t.MessageType.Error)


def _notify(ls: HarnessLanguageServer, kind: str, approval: Any) -> None:
    """harness/approvalRequested or harness/approvalResolved, as the schema says."""
    from harness_ls.lsp.features import approval_wire as wire

    try:
        if kind == "requested":
            ls.protocol.notify(wire.REQUESTED, wire.requested(approval))
        else:
            ls.protocol.notify(wire.RESOLVED, wire.resolved(approval))
    except Exception:  # the client went away
        log.info("approval notification failed", exc_info=True)
