"""Following a run in the editor: `$/progress` begin / report / end, `harness/runStatus`
notifications, lens refreshes, and the end message; cancelling the progress cancels the run.

percentage = completed plan steps / plan steps; the message names the phase and the step.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types as t

from harness_ls.lsp.features import lenses
from harness_ls.lsp.features.run_end import client_shows_run_ends, end_message
from harness_ls.lsp.runtime import RunView, runtime

if TYPE_CHECKING:
    from harness_ls.lsp.server import HarnessLanguageServer

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


def _step_title(data: dict[str, Any]) -> str:
    return str(data.get("title") or data.get("name") or data.get("phase") or "step")


def _progress_message(view: RunView, phase: str) -> str:
    if phase == "execute" and view.steps_total:
        n = min(view.steps_done + 1, view.steps_total)
        return f"execute: step {n}/{view.steps_total} — {view.step}"
    return f"{phase}: {view.step}" if view.step else phase


async def follow(ls: HarnessLanguageServer, view: RunView) -> None:
    """Map the run's events to $/progress begin / report / end and lens refreshes.

    percentage = completed plan steps / plan steps; the message names the phase and the step.
    """
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
                lambda f: f.cancelled() and asyncio.ensure_future(cancel_quietly(ls, view.run_id))
            )
    outcome = "ended"
    phase = "plan"
    offline = False
    plan_ids: set[str] = set()
    try:
        async for event in harness.store.reader("run", view.run_id).subscribe(0):
            data = event.data or {}
            if event.type in ("run.started", "run.resumed"):
                offline = bool(data.get("offline"))
                view.step = "planning"
            elif event.type == "plan.updated":
                steps = data.get("steps") or []
                plan_ids = {str(s.get("id")) for s in steps if isinstance(s, dict)}
                view.steps_total = len(steps)
                view.steps_done = len(data.get("completed") or [])
                view.step = "plan ready"
            elif event.type == "step.started":
                phase = str(data.get("phase") or "execute")
                view.step = _step_title(data)
            elif event.type == "step.completed":
                if event.step_id in plan_ids:
                    view.steps_done += 1
            elif event.type == "approval.requested":
                view.state = "waiting_approval"
                shown = (data.get("view") or {}).get("title") or data.get("tool")
                view.step = f"waiting for approval: {shown}"  # the approval view's title
            elif event.type == "approval.resolved":
                view.state = "running"
            elif event.type == "model.unavailable":
                phase, view.step = "execute", "skipped (no model configured)"
            elif event.type == "verify.started":
                phase, view.step = "verify", "running acceptance tests"
            elif event.type == "docs.updated":
                phase, view.step = "docs", "documentation updated"
            elif event.type in TERMINAL:
                view.state = TERMINAL[event.type]
                outcome = end_message(view.state, data, offline, view)
                break
            else:
                continue
            if view.steps_total:
                view.percentage = min(100, int(100 * view.steps_done / view.steps_total))
            if token is not None:
                progress.report(
                    token,
                    t.WorkDoneProgressReport(
                        message=_progress_message(view, phase),
                        percentage=view.percentage,
                        cancellable=True,
                    ),
                )
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
    try:
        ls.protocol.notify(
            "harness/runStatus",
            {
                "runId": view.run_id,
                "specUri": view.spec_uri,
                "state": view.state,
                "step": view.step,
                "pendingApprovals": runtime(ls).pending_count(view.run_id),
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
