"""/v1/runs: list, create, get, cancel, export (zip), events (SSE), diff."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import FileResponse

from harness_ls.errors import HarnessError
from harness_ls.http.api import Call, Endpoint
from harness_ls.http.models import Diff, EventsQuery, RunCreate, RunListQuery
from harness_ls.http.routes.common import cached_list, event_stream, meta_model, zip_response
from harness_ls.http.sse import TERMINAL_RUN_EVENTS, TERMINAL_RUN_STATUSES

RunMeta: Any = meta_model("RunMeta")


async def list_runs(call: Call) -> Any:
    q: RunListQuery = call.query
    return cached_list(call, "run", q.status, q.limit)


async def create_run(call: Call) -> Any:
    b: RunCreate = call.body
    return await call.harness.start_run(
        b.workspace, b.spec, model=b.model, resume=b.resume, branch=b.branch
    )


async def get_run(call: Call) -> Any:
    return call.harness.get_run(call.params["run_id"])


async def cancel_run(call: Call) -> Any:
    return await call.harness.cancel_run(call.params["run_id"])


async def export_run(call: Call) -> FileResponse:
    run_id = call.params["run_id"]
    call.harness.store.get("run", run_id)
    return await zip_response(call.harness.store.export_run, run_id)


async def run_events(call: Call) -> Any:
    return event_stream(
        call, "run", call.params["run_id"], TERMINAL_RUN_EVENTS, TERMINAL_RUN_STATUSES
    )


async def run_diff(call: Call) -> Diff:
    """The agent's change set: from the per-call checkpoints in the run's log (only the agent's
    files, without harness bookkeeping), else the diffs its events carry (approved previews and
    tool results), so a run without checkpoints still shows one."""
    run_id = call.params["run_id"]
    meta = call.harness.store.get("run", run_id)
    producer = getattr(call.harness, "run_diff", None)
    if producer is not None:
        out = producer(run_id)
        if asyncio.iscoroutine(out):
            out = await out
        return Diff(run_id=run_id, diff=out or "", source="harness")
    try:
        text = await asyncio.to_thread(_agent_diff, call.harness, meta.workspace, run_id)
        if text is not None:
            return Diff(run_id=run_id, diff=text, source="checkpoints")
    except (ImportError, HarnessError):
        pass
    return Diff(run_id=run_id, diff=events_diff(call.harness.store, run_id), source="events")


def _agent_diff(harness: Any, workspace: str, run_id: str) -> str | None:
    from harness_ls.workspace import combined_diff, load_changes
    from harness_ls.workspace.changeset import full_events

    events = full_events(harness.store.reader("run", run_id))
    if not any(e.type == "checkpoint.before" for e in events):
        return None
    return combined_diff(load_changes(harness.data_dir, workspace, run_id, events))


def events_diff(store: Any, run_id: str) -> str:
    """Diffs of approved writes (approval previews) and of tool results, in order."""
    previews: dict[str, str] = {}
    parts: list[str] = []
    for ev in store.reader("run", run_id).read():
        data = ev.data or {}
        if ev.type == "approval.requested":
            diff = (data.get("preview") or {}).get("diff")
            if isinstance(diff, str):
                previews[data.get("approval_id") or ev.step_id or ""] = diff
        elif ev.type == "approval.resolved" and data.get("decision") == "approve":
            diff = previews.pop(data.get("approval_id") or ev.step_id or "", None)
            if diff:
                parts.append(diff if diff.endswith("\n") else diff + "\n")
        elif ev.type == "tool.result":
            diff = (data.get("data") or {}).get("diff")
            if isinstance(diff, str) and diff not in parts:
                parts.append(diff if diff.endswith("\n") else diff + "\n")
    return "".join(parts)


ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/runs",
        list_runs,
        "List runs, newest first",
        query=RunListQuery,
        response=list[RunMeta],
        tag="runs",
    ),
    Endpoint(
        "POST",
        "/v1/runs",
        create_run,
        "Start a run from a spec",
        body=RunCreate,
        response=RunMeta,
        status=201,
        tag="runs",
    ),
    Endpoint("GET", "/v1/runs/{run_id}", get_run, "One run", response=RunMeta, tag="runs"),
    Endpoint(
        "POST", "/v1/runs/{run_id}/cancel", cancel_run, "Cancel a run", response=RunMeta, tag="runs"
    ),
    Endpoint(
        "GET",
        "/v1/runs/{run_id}/export",
        export_run,
        "Export a run as a zip",
        kind="file",
        tag="runs",
    ),
    Endpoint(
        "GET",
        "/v1/runs/{run_id}/events",
        run_events,
        "Run events as SSE; ends after the terminal event",
        query=EventsQuery,
        kind="sse",
        tag="runs",
    ),
    Endpoint(
        "GET", "/v1/runs/{run_id}/diff", run_diff, "The run's diff", response=Diff, tag="runs"
    ),
]
