"""Following a run in the editor: `$/progress` begin / report / end (or `window/showMessage`
for clients without progress), `harness/runStatus` notifications, lens refreshes, and the end
message; cancelling the progress cancels the run. What is said is run_progress.py's.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types as t

from harness_ls.lsp.features import lenses
from harness_ls.lsp.features.run_end import client_shows_run_ends, end_message
from harness_ls.lsp.features.run_progress import RunProgress
from harness_ls.lsp.runtime import RunView, runtime

if TYPE_CHECKING:
    from harness_ls.lsp.server import HarnessLanguageServer

from harness_ls.lsp.tasks import spawn

log = logging.getLogger("harness_ls.lsp.runs")
TERMINAL = {
    "run.completed": "completed",
    "run.failed": "failed",
    "run.cancelled": "cancelled",
    "run.interrupted": "interrupted",
}


async def progress_token(ls: HarnessLanguageServer) -> str | int | None:
    token = getattr(ls.protocol, "last_work_done_token", None)
    if token is not None:
        return token
    window = ls.client_capabilities.window if ls.client_capabilities else None
    if not (window and window.work_done_progress):
        return None
    token = f"harness-run-{uuid.uuid4().hex[:12]}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception as exc:
        log.info("client refused a progress token: %s", exc)
        return None
    return token


async def follow(ls: HarnessLanguageServer, view: RunView) -> None:
    """Tell the editor each change of the run's state once (run_progress.py): `$/progress`
    reports on the run's token, or — for a client without `window.workDoneProgress` (eglot 1.9)
    — a `window/showMessage` at each phase, step and approval; `harness/runStatus` and a lens
    refresh either way. The end closes the progress with the outcome."""
    rt = runtime(ls)
    harness = rt.harness
    assert harness is not None
    progress = ls.work_done_progress
    token = view.token
    if token is not None:
        progress.begin(
            token,
            t.WorkDoneProgressBegin(
                title=f"harness: {view.spec_name}",
                cancellable=True,
                message="starting",
                percentage=0,
            ),
        )
        fut = progress.tokens.get(token)
        if fut is not None:
            fut.add_done_callback(
                lambda f: (
                    f.cancelled()
                    and spawn(cancel_quietly(ls, view.run_id), f"cancel {view.run_id}")
                )
            )
    outcome = "ended"
    offline = False
    tracker = RunProgress()
    try:
        async for event in harness.store.reader("run", view.run_id).subscribe(0):
            data = event.data or {}
            if event.type in ("run.started", "run.resumed"):
                offline = bool(data.get("offline"))
            if event.type in TERMINAL:
                view.state = TERMINAL[event.type]
                outcome = end_message(view.state, data, offline, view)
                break
            if event.type == "approval.requested":
                view.state = "waiting_approval"
            elif event.type == "approval.resolved" and view.state == "waiting_approval":
                view.state = "running"
            now = tracker.apply(event.type, data, event.step_id)
            if now is None:
                continue
            view.step, view.message, view.percentage = tracker.step, now.message, now.percentage
            view.steps_total, view.steps_done = len(tracker.plan), len(tracker.done)
            if token is not None:
                progress.report(
                    token,
                    t.WorkDoneProgressReport(
                        message=now.message, percentage=now.percentage, cancellable=True
                    ),
                )
            elif now.boundary:
                say = f"harness: {view.spec_name} — {now.message} ({now.percentage}%)"
                ls.show_message(say, t.MessageType.Info)
            _notify_status(ls, view)
            lenses.refresh(ls)
    finally:
        if token is not None:
            progress.end(token, t.WorkDoneProgressEnd(message=outcome))
        view.task = None
        view.outcome = outcome
        _notify_status(ls, view)
        lenses.refresh(ls)
        if client_shows_run_ends(ls):
            pass  # its own notification says it (with the reason): one message, not two
        elif view.state == "completed":
            ls.show_message(f"harness: {view.spec_name} {outcome}", t.MessageType.Info)
        elif view.state in ("failed", "interrupted", "cancelled"):
            ls.show_message(f"harness: {view.spec_name} {outcome}", t.MessageType.Warning)


def _notify_status(ls: HarnessLanguageServer, view: RunView) -> None:
    """harness/runStatus; its approval part is specs-schema/approval-protocol.schema.json's
    RunStatusApprovals (the ids, so a client knows which approvals are no longer pending)."""
    pending = runtime(ls).pending_ids(view.run_id)
    try:
        ls.protocol.notify(
            "harness/runStatus",
            {
                "runId": view.run_id,
                "specUri": view.spec_uri,
                "state": view.state,
                "step": view.step,
                "message": view.message,
                "pendingApprovals": len(pending),
                "pendingApprovalIds": pending,
                "percentage": view.percentage,
                "outcome": view.outcome,
            },
        )
    except Exception:
        pass


async def cancel_quietly(ls: HarnessLanguageServer, run_id: str) -> None:
    rt = runtime(ls)
    harness = rt.harness
    if run_id in rt.runs:
        rt.runs[run_id].cancelled_here = True
    if harness is not None:
        try:
            await harness.cancel_run(run_id)
        except Exception as exc:
            log.info("cancel %s: %s", run_id, exc)
