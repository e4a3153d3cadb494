"""The ACP agent: an editor speaking the Agent Client Protocol (Zed, JetBrains, Neovim and Emacs
clients) drives harness sessions and runs with native UI.

A thin host over the harness's HTTP API (a running daemon's, or the private host `agentctl acp`
starts in its own process when there is none), so an ACP session is a normal harness session: in
the event log, on the dashboard, and its approvals can be answered from any surface — the first
answer wins. Mapping:

- `session/new` (cwd = workspace) → a chat session; `session/prompt` → a message, its events
  streamed back as `session/update` (agent text, tool calls with status and diffs);
- a prompt starting with `/run <spec>` → a spec run, streamed the same way with its plan;
- an approval → `session/request_permission` (allow once / allow always = "approve similar" /
  reject); when another surface answers first, the tool call is updated and the editor's
  late answer is ignored;
- `session/cancel` → cancels the turn or the run;
- a run that fails or is interrupted, a turn the harness cannot complete → a JSON-RPC error on
  the prompt (ACP v1 has no "error" stop reason; `end_turn` would say all went well).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from acp import RequestError

from harness_ls.acp.translate import Translator, approval_call_id

log = logging.getLogger("harness_ls.acp")

TURN_END = frozenset({"turn.completed", "turn.cancelled", "session.closed"})
RUN_END = frozenset({"run.completed", "run.failed", "run.cancelled", "run.interrupted"})


class Api(Protocol):
    """What the agent needs of the harness HTTP API (cli/commands/acp.py provides it)."""

    async def get(self, path: str) -> Any: ...

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any: ...

    def events(self, path: str, after: int) -> Any: ...  # async iterator of event dicts


class ApiError(Exception):
    """An HTTP API error with the server's message (e.g. "already answered"); status 0 when the
    harness could not be reached at all."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def as_request_error(exc: ApiError, what: str) -> RequestError:
    """What the editor shows: our message, not "Internal error: All connection attempts failed"."""
    code = -32602 if 400 <= exc.status < 500 and exc.status not in (401, 403) else -32603
    return RequestError(code, f"{what}: {exc}", {"status": exc.status})


class HarnessAcpAgent:
    def __init__(self, api: Api, version: str) -> None:
        self.api = api
        self.version = version
        self.conn: Any = None
        self.workspaces: dict[str, str] = {}  # session id -> workspace
        self.active_run: dict[str, str] = {}  # session id -> run id being followed
        self.pending: dict[str, asyncio.Task[None]] = {}  # approval id -> permission request

    def on_connect(self, conn: Any) -> None:
        self.conn = conn

    async def initialize(self, protocol_version: int, **_: Any) -> Any:
        from acp import PROTOCOL_VERSION, InitializeResponse
        from acp.schema import AgentCapabilities, Implementation, PromptCapabilities

        return InitializeResponse(
            protocol_version=min(protocol_version, PROTOCOL_VERSION),
            agent_capabilities=AgentCapabilities(
                load_session=False, prompt_capabilities=PromptCapabilities(embedded_context=True)
            ),
            agent_info=Implementation(name="harness-ls", title="harness-ls", version=self.version),
        )

    async def new_session(self, cwd: str, **_: Any) -> Any:
        from acp import NewSessionResponse

        try:
            meta = await self.api.post("/v1/sessions", {"workspace": cwd, "mode": "chat"})
        except ApiError as exc:
            raise as_request_error(exc, "cannot start a session") from None
        self.workspaces[meta["id"]] = cwd
        return NewSessionResponse(session_id=meta["id"])

    def _known(self, session_id: str) -> str:
        """`session_id` if this connection created it, else a -32602. The id becomes part of
        API paths: `../runs/<id>` in a `session/cancel` cancelled any run of the daemon, and
        `../x` sent a prompt's requests to whatever route the client named."""
        if not isinstance(session_id, str) or session_id not in self.workspaces:
            raise RequestError(
                -32602,
                f"unknown session {str(session_id)[:80]!r}",
                {"hint": "use a sessionId that session/new returned on this connection"},
            )
        return session_id

    async def prompt(self, session_id: str, prompt: list[Any], **_: Any) -> Any:
        from acp import PromptResponse

        session_id = self._known(session_id)
        text = "\n".join(_block_text(b) for b in prompt).strip()
        try:
            if text.startswith("/run"):
                reason = await self._run(session_id, text[4:].strip())
            else:
                reason = await self._turn(session_id, text)
        except ApiError as exc:
            raise as_request_error(exc, "the harness refused the prompt") from None
        return PromptResponse(stop_reason=reason)

    async def cancel(self, session_id: str, **_: Any) -> None:
        if session_id not in self.workspaces:
            log.info("cancel of unknown session %r ignored", str(session_id)[:80])
            return
        run_id = self.active_run.get(session_id)
        path = f"/v1/runs/{run_id}/cancel" if run_id else f"/v1/sessions/{session_id}/cancel"
        try:
            await self.api.post(path)
        except ApiError as exc:
            log.info("cancel %s: %s", session_id, exc)

    # ---- turns and runs -------------------------------------------------------------------
    async def _turn(self, session_id: str, text: str) -> str:
        meta = await self.api.get(f"/v1/sessions/{session_id}")
        after = int(meta.get("last_seq") or 0)
        sent = await self.api.post(f"/v1/sessions/{session_id}/messages", {"text": text or "…"})
        turn_id = sent.get("turn_id")
        tr = Translator()
        unavailable: dict[str, Any] = {}
        async for ev in self.api.events(f"/v1/sessions/{session_id}/events", after):
            await self._show(session_id, tr, ev)
            t, d = ev.get("type"), ev.get("data") or {}
            if t == "model.unavailable":
                unavailable = d
            if t in TURN_END and d.get("turn_id", turn_id) == turn_id:
                if t == "turn.cancelled":
                    return "cancelled"
                if t == "turn.completed" and d.get("ok") is False:
                    raise turn_failed(session_id, d, unavailable)
                return "end_turn"
        return "end_turn"

    async def _run(self, session_id: str, spec: str) -> str:
        from acp import update_agent_message_text

        workspace = self.workspaces.get(session_id) or "."
        if not spec:
            raise RequestError(-32602, "usage: /run specs/<name>/spec.md", {"hint": "name a spec"})
        try:
            meta = await self.api.post("/v1/runs", {"workspace": workspace, "spec": spec})
        except ApiError as exc:
            raise as_request_error(exc, "cannot start the run") from None
        run_id = meta["id"]
        self.active_run[session_id] = run_id
        await self._send(session_id, update_agent_message_text(f"run {run_id} started\n"))
        tr = Translator()
        try:
            async for ev in self.api.events(f"/v1/runs/{run_id}/events", 0):
                await self._show(session_id, tr, ev)
                t = ev.get("type")
                if t in RUN_END:
                    if t == "run.cancelled":
                        return "cancelled"
                    if t in ("run.failed", "run.interrupted"):
                        raise run_failed(run_id, t, ev.get("data") or {})
                    return "end_turn"
        finally:
            self.active_run.pop(session_id, None)
        return "end_turn"

    async def _show(self, session_id: str, tr: Translator, ev: dict[str, Any]) -> None:
        for update in tr.updates(ev):
            await self._send(session_id, update)
        t, d = ev.get("type"), ev.get("data") or {}
        if t == "approval.requested":
            aid = d.get("approval_id") or ev.get("call_id")
            if aid and aid not in self.pending:
                task = asyncio.create_task(self._ask(session_id, ev, tr))
                self.pending[aid] = task
                task.add_done_callback(lambda _t, a=aid: self.pending.pop(a, None))
        elif t == "approval.resolved":
            task = self.pending.get(d.get("approval_id") or "")
            if task is not None and d.get("surface") != "acp":
                task.cancel()  # answered elsewhere first: the editor's answer no longer matters

    async def _ask(self, session_id: str, ev: dict[str, Any], tr: Translator) -> None:
        from acp import text_block, tool_content
        from acp.schema import PermissionOption, ToolCallUpdate

        from harness_ls.core.views import as_view, plain, safe

        d = ev.get("data") or {}
        aid = d.get("approval_id") or ev.get("call_id")
        options = [
            PermissionOption(option_id="allow_once", name="Allow once", kind="allow_once"),
            PermissionOption(option_id="allow_always", name="Allow similar", kind="allow_always"),
            PermissionOption(option_id="reject_once", name="Reject", kind="reject_once"),
        ]
        # the call the client was shown as `tool_call` (tr.updates started one if it had not)
        call_id = approval_call_id(ev)
        # the same approval view as the dashboard, the CLI and the LSP (tools/consent_text.py)
        view = as_view(d)
        tool_call = ToolCallUpdate(
            tool_call_id=call_id,
            title=view.title or safe(d.get("tool") or "approval"),
            status="pending",
            content=[tool_content(text_block(plain(view)))],
        )
        try:
            response = await self.conn.request_permission(
                session_id=session_id, tool_call=tool_call, options=options
            )
        except (RequestError, ConnectionError) as exc:  # the editor could not ask: others can
            log.warning("permission request %s failed in the client: %s", aid, exc)
            await self._note(session_id, f"the editor could not show approval {aid} ({exc}); "
                             f"answer it on the dashboard or with `agentctl approvals`")  # fmt: skip
            return
        outcome = response.outcome
        chosen = getattr(outcome, "option_id", None) if outcome.outcome == "selected" else None
        body: dict[str, Any] = {
            "decision": "approve" if chosen in ("allow_once", "allow_always") else "deny",
            "scope": "similar" if chosen == "allow_always" else "once",
        }
        if chosen is None:
            body["note"] = "cancelled in the editor"
        owner = ("runs", ev["run_id"]) if ev.get("run_id") else ("sessions", ev.get("session_id"))
        try:
            await self.api.post(f"/v1/{owner[0]}/{owner[1]}/approvals/{aid}", body)
        except ApiError as exc:  # e.g. already answered from the dashboard: first answer wins
            log.info("approval %s: %s", aid, exc)

    async def _send(self, session_id: str, update: Any) -> None:
        await self.conn.session_update(session_id=session_id, update=update)

    async def _note(self, session_id: str, text: str) -> None:
        from acp import update_agent_message_text

        try:
            await self._send(session_id, update_agent_message_text(f"\n[{text}]\n"))
        except (RequestError, ConnectionError):
            pass


def run_failed(run_id: str, kind: str, d: dict[str, Any]) -> RequestError:
    """A run that failed or was interrupted ends the prompt with a JSON-RPC error: ACP v1 has no
    "error" stop reason, and `end_turn` would tell the client all went well."""
    what = "failed" if kind == "run.failed" else "was interrupted"
    why = d.get("outcome") or d.get("error") or d.get("reason") or what
    hint = "see the run on the dashboard, or `agentctl attach " + run_id + "`"
    if kind == "run.interrupted":
        hint = f"resume it with `agentctl run --resume {run_id} --workspace <dir>`"
    data = {"run_id": run_id, "status": kind.split(".")[1], "outcome": why, "hint": hint}
    return RequestError(-32603, f"run {run_id} {what}: {why}", data)


def turn_failed(session_id: str, d: dict[str, Any], unavailable: dict[str, Any]) -> RequestError:
    """A turn the harness could not complete (no model, a provider error) as a JSON-RPC error."""
    if unavailable:
        message = str(unavailable.get("message") or "no model to answer")
        hint = unavailable.get("hint")
    else:
        message = str(d.get("error") or d.get("outcome") or "the turn failed")
        hint = None
    data = {"session_id": session_id, "turn_id": d.get("turn_id"), "hint": hint}
    return RequestError(-32603, message + (f" ({hint})" if hint else ""), data)


def _block_text(block: Any) -> str:
    kind = getattr(block, "type", "")
    if kind == "text":
        return block.text
    if kind == "resource":
        res = getattr(block, "resource", None)
        text = getattr(res, "text", None)
        return f"\n{getattr(res, 'uri', '')}:\n{text}" if text else ""
    if kind == "resource_link":
        return f" {getattr(block, 'uri', '')}"
    return ""
