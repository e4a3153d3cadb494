"""Helpers shared by resource routes: SSE over a store stream, zip export, optional models."""

from __future__ import annotations

import contextlib
import importlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from harness_ls.http.api import Call, to_jsonable
from harness_ls.http.errors import dumps
from harness_ls.http.listcache import cache_for
from harness_ls.http.sse import SSEResponse, resume_point


def meta_model(name: str, module: str = "harness_ls.store") -> Any:
    """A contract model for the OpenAPI document, or `dict` while its package is not there."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return dict


def cached_list(call: Call, kind: str, status: str | None, limit: int) -> Response:
    """The listing as JSON, served from the fingerprinted cache while nothing changed.

    Runs are listed through the harness, which overlays what only memory knows (a run whose
    log could not be written shows as failed), so the list says what `GET /v1/runs/{id}` says.
    """
    harness = call.harness
    store = harness.store

    def render() -> bytes:
        if kind == "run":
            return dumps(to_jsonable(harness.list_runs(status, limit)))
        return dumps(to_jsonable(store.list(kind, status=status, limit=limit)))

    overlay = tuple(sorted(harness.unrecorded_failures.items()))
    root = str(getattr(store, "root", "") or "")
    body = (
        cache_for(call.request.app.state, root).get(kind, status, limit, render, overlay)
        if root
        else render()
    )
    return Response(body, media_type="application/json", headers={"cache-control": "no-store"})


def surface_of(request: Any) -> str:
    """Who answered, for the record: an explicit `X-Harness-Surface` (agentctl), else the
    dashboard for same-origin browser requests, else plain `http`."""
    explicit = request.headers.get("x-harness-surface", "").strip().lower()
    if explicit and explicit.replace("-", "").isalnum() and len(explicit) <= 32:
        return explicit
    if request.headers.get("sec-fetch-site") == "same-origin" or request.headers.get("origin"):
        return "dashboard"
    return "http"


def event_stream(
    call: Call,
    kind: str,
    stream_id: str,
    terminal: frozenset[str],
    terminal_statuses: frozenset[str],
) -> SSEResponse:
    store = call.harness.store
    meta = store.get(kind, stream_id)  # NotFound -> 404 before any byte is streamed
    after = resume_point(call.request)
    follow = call.query.follow if call.query is not None else True
    until = None
    if not follow or meta.status in terminal_statuses:
        until = meta.last_seq
    reader = store.reader(kind, stream_id)
    return SSEResponse(
        lambda: reader.subscribe(after),
        terminal=terminal,
        keepalive=call.request.app.state.keepalive,
        retry_ms=call.settings.retry_ms,
        closing=call.request.app.state.closing,
        after=after,
        until=until,
        stats=call.request.app.state.streams,
        known=meta.last_seq,
    )


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


async def zip_response(exporter: Callable[..., Path], stream_id: str) -> FileResponse:
    fd, name = tempfile.mkstemp(prefix=f"{stream_id}-", suffix=".zip")
    os.close(fd)
    out = Path(name)
    try:
        path = Path(exporter(stream_id, out))
    except BaseException:
        _unlink(out)
        raise
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"{stream_id}.zip",
        headers={"cache-control": "no-store"},
        background=BackgroundTask(_unlink, path),
    )
