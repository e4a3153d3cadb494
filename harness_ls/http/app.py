"""`create_app(harness, ...)`: the Starlette app shared by agentd and the harness-ls sidecar."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from harness_ls.core.attachments import MAX_UPLOAD_BYTES as MAX_ATTACHMENT_BYTES
from harness_ls.errors import HarnessError, NotFound
from harness_ls.http import openapi
from harness_ls.http.api import Endpoint, Settings, adapt
from harness_ls.http.errors import MethodNotAllowed, error_response
from harness_ls.http.guards import SecurityGuard
from harness_ls.http.host import HarnessHost
from harness_ls.http.logins import Logins
from harness_ls.http.routes import (
    approvals,
    attempts,
    dashboard,
    runs,
    sessions,
    specs,
    system,
)
from harness_ls.http.sse import KeepAlive, StreamStats

log = logging.getLogger("harness_ls.http")


def all_endpoints() -> list[Endpoint]:
    return [
        *system.ENDPOINTS,
        *runs.ENDPOINTS,
        *attempts.ENDPOINTS,
        *approvals.ENDPOINTS,
        *sessions.ENDPOINTS,
        *specs.ENDPOINTS,
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error_response(
            MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
        )
    if exc.status_code == 404:
        return error_response(
            NotFound(f"no such route: {request.url.path}", hint="see /v1/openapi.json")
        )
    err = HarnessError(str(exc.detail))
    err.status = exc.status_code
    err.code = "http_error"
    return error_response(err)


async def _harness_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HarnessError)
    return error_response(exc)


async def _crash(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    err = HarnessError(
        f"internal error: {type(exc).__name__}",
        hint="see the server log; this is a bug worth reporting",
    )
    err.code = "internal"
    return error_response(err)


def create_app(
    harness: HarnessHost,
    *,
    token: str | None = None,
    allowed_hosts: Iterable[str] = (),
    keepalive: float = 15.0,
    retry_ms: int = 2000,
    max_upload_bytes: int = MAX_ATTACHMENT_BYTES,
    max_json_bytes: int = 1 << 20,
    body_seconds: float = 30.0,
    kind: str = "agentd",
    logins: Logins | None = None,
) -> Starlette:
    """Build the app. `token=None` means no auth (`--no-auth`: loopback only, hosts enforce it).

    Dashboard sessions live in `<harness.data_dir>/auth/sessions.json` (memory when the harness
    has no data dir), unless `logins` is given.
    """
    if logins is None:
        data = getattr(harness, "data_dir", None)
        logins = Logins(Path(data) / "auth" / "sessions.json" if data else None)
    settings = Settings(
        token=token or None,
        allowed_hosts=tuple(h.strip().lower() for h in allowed_hosts if h.strip()),
        keepalive=keepalive,
        retry_ms=retry_ms,
        max_json_bytes=max_json_bytes,
        body_seconds=body_seconds,
        max_upload_bytes=max_upload_bytes,
        kind=kind,
        logins=logins,
        started_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )
    endpoints = all_endpoints()
    routes: list[BaseRoute] = [
        Route(ep.path, adapt(ep, harness, settings), methods=[ep.method], name=ep.handler.__name__)
        for ep in endpoints
    ]
    routes += dashboard.routes()
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityGuard, settings=settings)],
        exception_handlers={
            HTTPException: _http_error,
            HarnessError: _harness_error,
            Exception: _crash,
        },
    )
    app.state.settings = settings
    app.state.harness = harness
    app.state.endpoints = endpoints
    app.state.openapi = openapi.build(endpoints)
    app.state.streams = StreamStats()
    app.state.keepalive = KeepAlive(settings.keepalive)
    app.state.closing = asyncio.Event()  # set on shutdown: SSE streams end so uvicorn can stop
    return app
