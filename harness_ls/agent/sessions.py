"""Chat and spec-mode sessions: each user message runs one agent turn; the log is the state.

A live session holds the writer end of its stream and a queue: a message that arrives while a
turn runs is recorded (`user.message`, `turn.queued`) and runs after it. The conversation is
rebuilt from the log for every turn, so a session continues after a daemon restart; histories
longer than the model's context are trimmed from the oldest turn (`context.trimmed`). Tool calls
are gated exactly like runs, with `call_<ulid>` approval ids. In spec mode the agent may only
read the workspace and replace the spec through `write_spec` (validated, repaired, atomic).
What a turn runs with (model, policy, tools, prompt) is agent/session_turn.py.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness_ls.agent import attachments as att
from harness_ls.agent.ids import new_id
from harness_ls.agent.loop import LoopContext, run_loop
from harness_ls.agent.replay import close_open
from harness_ls.agent.session_turn import spec_rel, turn_context, turn_messages
from harness_ls.errors import Conflict, HarnessError, InvalidInput

if TYPE_CHECKING:
    from harness_ls.agent.host import AgentHost as Harness


@dataclass
class _Live:
    session_id: str
    stream: Any
    queue: asyncio.Queue[tuple[int, str]] = field(default_factory=asyncio.Queue)
    turns: int = 0  # user messages so far (the turn number of the next one is turns + 1)
    worker: asyncio.Task[None] | None = None
    turn: asyncio.Task[None] | None = None
    busy: bool = False
    policy: Any = None  # kept across turns so "approve similar" lasts for the session
    sandbox: Any = None  # tools.sandbox.Settings, read with the policy
    turn_shutdown: bool = False


class SessionManager:
    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self._live: dict[str, _Live] = {}

    # ---- public API (via Harness) -----------------------------------------------------------
    async def create(
        self,
        workspace: str,
        *,
        mode: str = "chat",
        spec_path: str | None = None,
        model: str | None = None,
        title: str | None = None,
        surface: str | None = None,
    ) -> Any:
        from harness_ls.common import workspace_dir

        ws = workspace_dir(workspace)
        if mode not in ("chat", "spec"):
            raise InvalidInput(f"mode must be 'chat' or 'spec', not {mode!r}")
        rel = None
        if mode == "spec":
            rel = spec_rel(ws, spec_path)
        return await asyncio.to_thread(
            self.harness.store.create_session,
            workspace=str(ws),
            mode=mode,
            spec_path=rel,
            model=model,
            title=title,
            surface=surface,
        )

    async def post_message(
        self,
        session_id: str,
        text: str,
        *,
        refs: list[Any] | None = None,
        surface: str | None = None,
    ) -> dict[str, Any]:
        """Record the message and run (or queue) its turn. Returns {turn_id, queued}."""
        meta = self.harness.store.get("session", session_id)
        if meta.status == "closed":
            raise Conflict(f"session {session_id} is closed", hint="start a new session")
        text = (text or "").strip()
        files = self._attachments(session_id, refs or [])
        if not text and not files:
            raise InvalidInput(
                "message is empty", hint="send some text (and optionally --ref attachments)"
            )
        # What the model can take is decided per turn, at send time (`_messages`): an
        # attachment it cannot take is left out of that turn with a note, never blocking it.
        live = await self._open(session_id)
        turn_id = new_id("turn")
        live.turns += 1
        turn = live.turns
        queued = live.busy or not live.queue.empty()
        await live.stream.append(
            "user.message",
            {
                "content": text,
                "refs": [f["ref"] for f in files],
                "attachments": files,
                "turn": turn,
                "turn_id": turn_id,
                "surface": surface,
            },
        )
        if queued:
            await live.stream.append(
                "turn.queued",
                {"turn": turn, "turn_id": turn_id, "position": live.queue.qsize() + 1},
            )
        live.queue.put_nowait((turn, turn_id))
        if live.worker is None or live.worker.done():
            live.worker = asyncio.create_task(self._work(live), name=f"session:{session_id}")
        return {"session_id": session_id, "turn": turn, "turn_id": turn_id, "queued": queued}

    async def cancel_turn(self, session_id: str) -> dict[str, Any]:
        self.harness.store.get("session", session_id)
        live = self._live.get(session_id)
        if live is None or live.turn is None or live.turn.done():
            raise Conflict(f"session {session_id} has no turn running", hint="nothing to cancel")
        self.harness.broker.cancel_for(session_id)
        live.turn.cancel("cancel")
        await asyncio.gather(live.turn, return_exceptions=True)
        return {"session_id": session_id, "cancelled": True}

    async def add_attachment(
        self, session_id: str, name: str, data: bytes, *, mime: str | None = None
    ) -> dict[str, Any]:
        self.harness.store.get("session", session_id)
        directory = self.harness.store.attachments_dir(session_id)
        info = await asyncio.to_thread(att.store_attachment, directory, name, data, mime)
        live = await self._open(session_id)
        await live.stream.append("attachment.added", info)
        return info

    async def close_session(self, session_id: str, reason: str | None = None) -> Any:
        """Stop the running turn, drop queued ones, record `session.closed`; later messages get Conflict."""
        meta = self.harness.store.get("session", session_id)
        if meta.status == "closed":
            raise Conflict(f"session {session_id} is already closed")
        live = await self._open(session_id)
        while not live.queue.empty():
            live.queue.get_nowait()
        for task in (live.turn, live.worker):
            if task is not None and not task.done():
                self.harness.broker.cancel_for(session_id)
                task.cancel("cancel")
                await asyncio.gather(task, return_exceptions=True)
        await live.stream.append("session.closed", {"reason": reason or "closed by the user"})
        await live.stream.close()
        self._live.pop(session_id, None)
        return self.harness.store.get("session", session_id)

    async def wait_idle(self, session_id: str) -> None:
        """Until the session's queue is drained (tests, CLI `--wait`)."""
        live = self._live.get(session_id)
        while live is not None and live.worker is not None and not live.worker.done():
            await asyncio.wait({live.worker})

    async def close(self) -> None:
        for live in list(self._live.values()):
            if live.worker is not None:
                live.worker.cancel("shutdown")
            if live.turn is not None:
                live.turn.cancel("shutdown")
        for live in list(self._live.values()):
            tasks = [t for t in (live.worker, live.turn) if t is not None]
            await asyncio.gather(*tasks, return_exceptions=True)
            await live.stream.close()
        self._live.clear()

    # ---- internals ----------------------------------------------------------------------------
    async def _open(self, session_id: str) -> _Live:
        live = self._live.get(session_id)
        if live is None:
            live = _Live(session_id, self.harness.store.stream("session", session_id))
            live.turns = sum(1 for e in live.stream.read() if e.type == "user.message")
            self._live[session_id] = live
        return live

    def _attachments(self, session_id: str, refs: list[Any]) -> list[dict[str, Any]]:
        directory = self.harness.store.attachments_dir(session_id)
        out = []
        for item in refs:
            ref, mime = (
                (item, None) if isinstance(item, str) else (item.get("ref", ""), item.get("mime"))
            )
            path = att.resolve_ref(directory, ref)
            data = path.read_bytes()
            out.append(
                {
                    "ref": f"attachments/{path.name}",
                    "mime": att.check_mime(data, path.name, mime),
                    "name": path.name,
                }
            )
        return out

    async def _work(self, live: _Live) -> None:
        while not live.queue.empty():
            turn, turn_id = live.queue.get_nowait()
            live.busy = True
            live.turn = asyncio.create_task(self._turn(live, turn, turn_id))
            try:
                await asyncio.gather(live.turn, return_exceptions=True)
            finally:
                live.busy = False
            if live.turn.cancelled() and live.turn_shutdown:
                return

    async def _turn(self, live: _Live, turn: int, turn_id: str) -> None:
        stream = live.stream
        started = time.monotonic()
        ids = {"turn": turn, "turn_id": turn_id}
        await stream.append("turn.started", ids)
        ctx: LoopContext | None = None
        try:
            meta = self.harness.store.get("session", live.session_id)
            ctx = await turn_context(self.harness, meta, live)
            if ctx is None:
                await stream.append("turn.completed", {**ids, "ok": False, "outcome": "no model"})
                return
            messages = await turn_messages(self.harness, meta, stream, ctx)
            text = await run_loop(ctx, messages)
            await stream.append(
                "turn.completed",
                {
                    **ids,
                    "ok": True,
                    "model": getattr(ctx.model_info, "qualified", ctx.model),
                    "text": text[:2000],
                    "usage": ctx.usage.as_dict(),
                    "tool_calls": ctx.tool_calls,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
        except asyncio.CancelledError as exc:
            self.harness.broker.cancel_for(live.session_id)
            reason = "the harness stopped" if "shutdown" in exc.args else "cancelled"
            if "shutdown" in exc.args:
                live.turn_shutdown = True
            await close_open(stream, "daemon stopped" if live.turn_shutdown else "turn cancelled")
            await stream.append("turn.cancelled", {**ids, "reason": reason})
            raise
        except Exception as exc:  # noqa: BLE001 - a turn failure is an event, the session lives on
            reason = (
                exc.one_line() if isinstance(exc, HarnessError) else f"{type(exc).__name__}: {exc}"
            )
            await stream.append(
                "log", {"level": "error", "code": getattr(exc, "code", "error"), "message": reason}
            )
            await stream.append(
                "turn.completed",
                {**ids, "ok": False, "error": reason, "usage": ctx.usage.as_dict() if ctx else {}},
            )
