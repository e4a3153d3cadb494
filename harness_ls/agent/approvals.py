"""The approval broker: one pending approval per gated action, answerable from any surface.

A run or session asks `request(...)`, which records `approval.requested`, tells subscribers (the
LSP shows a diagnostic + code action, the dashboard a card) and waits. The editor, the dashboard
and `agentctl approve` all call `answer(id, ...)`; the first answer wins atomically and later ones
get `Conflict("already answered (by dashboard, approve)")`. The requester records
`approval.resolved` in its own stream, so the log stays single-writer.

`answer()` and `cancel_for()` are safe to call from any thread: the winner is chosen under a lock
and the waiting future is completed on its own event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from harness_ls.errors import Conflict, InvalidInput, NotFound
from harness_ls.tools.consent import ApprovalView, view_of

if TYPE_CHECKING:
    from harness_ls.store import EventStream

Decision = Literal["approve", "deny"]
Status = Literal["pending", "approved", "denied", "cancelled"]
_STATUS_OF = {"approve": "approved", "deny": "denied", "cancelled": "cancelled"}
_KEEP_RESOLVED = 2048  # answered approvals remembered so late answers get Conflict, not NotFound


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PendingApproval(BaseModel):
    """What every surface shows for a gated action, and how it was answered."""

    id: str  # == step_id (runs) or call_id (sessions); globally unique
    run_id: str | None = None
    session_id: str | None = None
    tool: str
    preview: Any  # tools.ActionPreview (kind, summary, path, diff, command, range)
    view: ApprovalView | None = None  # what every surface shows (tools.consent)
    workspace: str | None = None
    spec_path: str | None = None
    spec_line: int | None = None
    requested_at: str = Field(default_factory=_now)
    status: Status = "pending"
    decision: str | None = None  # approve | deny | cancelled
    surface: str | None = None
    note: str | None = None
    scope: Literal["once", "similar"] = "once"
    # what "approve similar" adds, said before anyone picks it: "allow write_file '/src/*' for
    # the rest of this run"
    similar: str | None = None
    answered_at: str | None = None

    @property
    def owner_id(self) -> str:
        return self.run_id or self.session_id or ""


class Resolution(BaseModel):
    """The answer a requester receives."""

    decision: Literal["approve", "deny", "cancelled"]
    surface: str
    note: str | None = None
    scope: Literal["once", "similar"] = "once"

    @property
    def approved(self) -> bool:
        return self.decision == "approve"


class ApprovalChange(BaseModel):
    """One change for subscribers (LSP diagnostics, SSE approval feed)."""

    kind: Literal["requested", "resolved"]
    approval: PendingApproval


class _Entry:
    __slots__ = ("approval", "future", "loop")

    def __init__(self, approval: PendingApproval, loop: asyncio.AbstractEventLoop) -> None:
        self.approval = approval
        self.loop = loop
        self.future: asyncio.Future[Resolution] = loop.create_future()


class ApprovalBroker:
    """Holds pending approvals across all runs and sessions of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, _Entry] = {}
        self._resolved: OrderedDict[str, PendingApproval] = OrderedDict()
        self._subscribers: list[
            tuple[asyncio.AbstractEventLoop, asyncio.Queue[ApprovalChange]]
        ] = []

    # ---- requester side -------------------------------------------------------------------
    async def request(
        self,
        *,
        stream: EventStream | None,
        id: str,
        tool: str,
        preview: Any,
        run_id: str | None = None,
        session_id: str | None = None,
        workspace: str | None = None,
        spec_path: str | None = None,
        spec_line: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> Resolution:
        """Record the request, wait for the first answer, record the resolution, return it."""
        approval = PendingApproval(
            id=id,
            run_id=run_id,
            session_id=session_id,
            tool=tool,
            preview=preview,
            view=view_of(preview, workspace),
            workspace=workspace,
            spec_path=spec_path,
            spec_line=spec_line,
            similar=(data or {}).get("similar"),
        )
        entry = _Entry(approval, asyncio.get_running_loop())
        with self._lock:
            if id in self._pending or id in self._resolved:
                raise Conflict(f"approval id {id} is already in use")
            self._pending[id] = entry
        self._publish(ApprovalChange(kind="requested", approval=approval))
        ids = {"step_id": id} if run_id else {"call_id": id}
        try:
            if stream is not None:
                await asyncio.sleep(0)  # let subscribers show it before the durable (fsync) append
                await stream.append(
                    "approval.requested",
                    {
                        "approval_id": id,
                        "tool": tool,
                        "preview": _dump(preview),
                        "view": _dump(approval.view),
                        "spec_path": spec_path,
                        "spec_line": spec_line,
                        **(data or {}),
                    },
                    **ids,
                )
            resolution = await entry.future
        except BaseException:
            # The requester died (task cancelled, storage failure): nobody waits any more.
            try:
                self._finish(id, "cancelled", "system", "the run stopped before an answer", "once")
            except (Conflict, NotFound):
                pass  # answered just before the requester stopped: record that answer
            if stream is not None:
                await _append_quietly(stream, ids, entry.approval)
            raise
        if stream is not None:
            await stream.append("approval.resolved", _resolved_data(entry.approval), **ids)
        return resolution

    # ---- answering side -------------------------------------------------------------------
    def answer(
        self,
        id: str,
        decision: str,
        surface: str,
        note: str | None = None,
        *,
        scope: str = "once",
    ) -> PendingApproval:
        """First answer wins; later answers raise Conflict naming who answered and how."""
        if decision not in ("approve", "deny"):
            raise InvalidInput(
                f"decision must be 'approve' or 'deny', not {decision!r}",
                hint='send {"decision": "approve"} or {"decision": "deny"}',
            )
        if scope not in ("once", "similar"):
            raise InvalidInput(f"scope must be 'once' or 'similar', not {scope!r}")
        if not surface:
            raise InvalidInput("surface is required (editor, dashboard, cli, ...)")
        return self._finish(id, decision, surface, note, scope)  # type: ignore[arg-type]

    def cancel_for(self, owner_id: str) -> list[PendingApproval]:
        """Resolve every pending approval of a run or session as cancelled."""
        with self._lock:
            ids = [i for i, e in self._pending.items() if e.approval.owner_id == owner_id]
        out = []
        for i in ids:
            try:
                out.append(self._finish(i, "cancelled", "system", "run cancelled", "once"))
            except (Conflict, NotFound):
                pass
        return out

    def pending(self, owner_id: str | None = None) -> list[PendingApproval]:
        """Pending approvals across all runs and sessions (oldest first)."""
        with self._lock:
            items = [e.approval for e in self._pending.values()]
        if owner_id:
            items = [a for a in items if a.owner_id == owner_id]
        return sorted(items, key=lambda a: a.requested_at)

    def get(self, id: str) -> PendingApproval:
        with self._lock:
            entry = self._pending.get(id)
            if entry is not None:
                return entry.approval
            if id in self._resolved:
                return self._resolved[id]
        raise NotFound(
            f"no approval {id!r}",
            hint="list pending approvals with `agentctl approvals` or GET /v1/approvals",
        )

    async def subscribe(self, *, replay: bool = True) -> AsyncIterator[ApprovalChange]:
        """Changes as they happen; with replay, current pending approvals come first."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[ApprovalChange] = asyncio.Queue()
        with self._lock:
            self._subscribers.append((loop, queue))
            current = [e.approval for e in self._pending.values()] if replay else []
        try:
            for approval in current:
                yield ApprovalChange(kind="requested", approval=approval)
            while True:
                yield await queue.get()
        finally:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s[1] is not queue]

    # ---- internals ------------------------------------------------------------------------
    def _finish(
        self, id: str, decision: str, surface: str, note: str | None, scope: str
    ) -> PendingApproval:
        with self._lock:
            entry = self._pending.pop(id, None)
            if entry is None:
                done = self._resolved.get(id)
                if done is not None:
                    raise Conflict(
                        f"already answered (by {done.surface}, {done.decision})",
                        hint="the first answer wins; nothing was changed",
                        details=done.model_dump(mode="json"),
                    )
                raise NotFound(
                    f"no pending approval {id!r}",
                    hint="it may belong to a run that ended or was interrupted; "
                    "list pending ones with GET /v1/approvals",
                )
            approval = entry.approval.model_copy(
                update={
                    "status": _STATUS_OF[decision],
                    "decision": decision,
                    "surface": surface,
                    "note": note,
                    "scope": scope,
                    "answered_at": _now(),
                }
            )
            entry.approval = approval
            self._resolved[id] = approval
            while len(self._resolved) > _KEEP_RESOLVED:
                self._resolved.popitem(last=False)
        resolution = Resolution(decision=decision, surface=surface, note=note, scope=scope)  # type: ignore[arg-type]
        _call_in(entry.loop, _set_result, entry.future, resolution)
        self._publish(ApprovalChange(kind="resolved", approval=approval))
        return approval

    def _publish(self, change: ApprovalChange) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            _call_in(loop, queue.put_nowait, change)


def _set_result(future: asyncio.Future[Resolution], value: Resolution) -> None:
    if not future.done():
        future.set_result(value)


def _call_in(loop: asyncio.AbstractEventLoop, fn: Any, *args: Any) -> None:
    """Run fn on loop: directly when we are on it, else thread-safely."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        fn(*args)
    elif not loop.is_closed():
        loop.call_soon_threadsafe(fn, *args)


def _dump(preview: Any) -> Any:
    return preview.model_dump(mode="json") if isinstance(preview, BaseModel) else preview


def _resolved_data(approval: PendingApproval) -> dict[str, Any]:
    return {
        "approval_id": approval.id,
        "decision": approval.decision,
        "surface": approval.surface,
        "note": approval.note,
        "scope": approval.scope,
    }


async def _append_quietly(
    stream: EventStream, ids: dict[str, str], approval: PendingApproval
) -> None:
    """Best effort record of the resolution while the requester unwinds."""
    try:
        await stream.append("approval.resolved", _resolved_data(approval), **ids)
    except Exception:  # noqa: BLE001 - the original error is what matters
        pass
