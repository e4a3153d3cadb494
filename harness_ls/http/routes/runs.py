"""/v1/runs: list, create, get, cancel, export (zip), events (SSE), diff."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import FileResponse

from harness_ls.core.changes import run_agent_diff
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
    """The agent's change set (core.changes: the same diff `agentctl diff` shows): from the
    per-call checkpoints in the run's log, else the diffs its events carry."""
    run_id = call.params["run_id"]
    call.harness.store.get("run", run_id)  # 404 before any work
    out = await asyncio.to_thread(run_agent_diff, call.harness.store, call.harness.data_dir, run_id)
    return Diff(run_id=run_id, diff=out.diff, source=out.source)


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
