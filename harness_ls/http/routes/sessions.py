"""/v1/sessions: create, list, get, post a message, upload an attachment, events (SSE), export."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

from harness_ls.errors import InvalidInput
from harness_ls.http.api import Call, Endpoint
from harness_ls.http.errors import PayloadTooLarge, RequestTimeout, UnsupportedMediaType
from harness_ls.http.models import EventsQuery, MessagePost, SessionCreate, SessionListQuery
from harness_ls.http.routes.common import (
    cached_list,
    event_stream,
    meta_model,
    surface_of,
    zip_response,
)

SessionMeta: Any = meta_model("SessionMeta")
SESSION_TERMINAL: frozenset[str] = frozenset({"session.closed"})


async def list_sessions(call: Call) -> Any:
    q: SessionListQuery = call.query
    return cached_list(call, "session", q.status, q.limit)


async def create_session(call: Call) -> Any:
    b: SessionCreate = call.body
    return await call.harness.create_session(
        b.workspace,
        mode=b.mode,
        model=b.model,
        title=b.title,
        spec_path=b.spec_path,
        surface=surface_of(call.request),
    )


async def get_session(call: Call) -> Any:
    return call.harness.store.get("session", call.params["session_id"])


async def post_message(call: Call) -> Any:
    b: MessagePost = call.body
    sid = call.params["session_id"]
    call.harness.store.get("session", sid)
    return await call.harness.post_message(
        sid,
        b.text,
        refs=[r if isinstance(r, str) else r.model_dump() for r in b.attachments],
        surface=surface_of(call.request),
    )


async def cancel_turn(call: Call) -> Any:
    sid = call.params["session_id"]
    call.harness.store.get("session", sid)
    return await call.harness.cancel_turn(sid)


# an upload must arrive whole within this many body deadlines (600 s by default: 20 MiB needs
# ≈ 35 KB/s); a token holder trickling bytes otherwise held a connection and a task for good
UPLOAD_FACTOR = 20


def _limited(request: Request, limit: int) -> Request:
    """A request whose body reader raises 413 as soon as more than `limit` bytes arrive."""
    received = 0

    async def receive() -> Any:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise PayloadTooLarge(f"upload exceeds {limit} bytes", hint="attach a smaller file")
        return message

    return Request(request.scope, receive)


async def add_attachment(call: Call) -> Any:
    sid = call.params["session_id"]
    call.harness.store.get("session", sid)
    request = call.request
    limit = call.settings.max_upload_bytes
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            "attachments must be sent as multipart/form-data",
            hint="e.g. curl -F file=@picture.png .../attachments",
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise PayloadTooLarge(
            f"upload is {declared} bytes, the limit is {limit} bytes ({limit / (1 << 20):g} MiB)",
            hint="attach a smaller file or an excerpt",
        )
    seconds = call.settings.body_seconds * UPLOAD_FACTOR
    try:
        async with asyncio.timeout(seconds):
            form = await _limited(request, limit + 64 * 1024).form(
                max_files=1, max_fields=4, max_part_size=limit
            )
    except TimeoutError:
        raise RequestTimeout(
            f"upload did not arrive within {seconds:g} s",
            hint="attach a smaller file, or send it over a faster link",
        ) from None
    except HTTPException as exc:
        if "maximum size" in str(exc.detail):
            raise PayloadTooLarge(
                f"upload exceeds the limit of {limit} bytes ({limit / (1 << 20):g} MiB)",
                hint="attach a smaller file or an excerpt",
            ) from None
        raise InvalidInput(
            f"bad multipart body: {exc.detail}", hint="send one part named 'file'"
        ) from None
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput(
                "multipart field 'file' is missing",
                hint="send the file in a part named 'file'",
                details={"fields": [{"field": "file", "message": "Field required"}]},
            )
        data = await upload.read()
        if len(data) > limit:
            raise PayloadTooLarge(f"upload exceeds {limit} bytes", hint="attach a smaller file")
        name = upload.filename or "attachment"
        mime = upload.content_type or "application/octet-stream"
        return await call.harness.add_attachment(sid, name, data, mime=mime)
    finally:
        await form.close()


async def session_events(call: Call) -> Any:
    return event_stream(
        call, "session", call.params["session_id"], SESSION_TERMINAL, frozenset({"closed"})
    )


async def export_session(call: Call) -> Any:
    sid = call.params["session_id"]
    call.harness.store.get("session", sid)
    return await zip_response(call.harness.store.export_session, sid)


ENDPOINTS = [
    Endpoint(
        "GET",
        "/v1/sessions",
        list_sessions,
        "List sessions, newest first",
        query=SessionListQuery,
        response=list[SessionMeta],
        tag="sessions",
    ),
    Endpoint(
        "POST",
        "/v1/sessions",
        create_session,
        "Start a chat session",
        body=SessionCreate,
        response=SessionMeta,
        status=201,
        tag="sessions",
    ),
    Endpoint(
        "GET",
        "/v1/sessions/{session_id}",
        get_session,
        "One session",
        response=SessionMeta,
        tag="sessions",
    ),
    Endpoint(
        "POST",
        "/v1/sessions/{session_id}/messages",
        post_message,
        "Send a message (queued if a turn is running)",
        body=MessagePost,
        status=202,
        tag="sessions",
    ),
    Endpoint(
        "POST",
        "/v1/sessions/{session_id}/cancel",
        cancel_turn,
        "Cancel the running turn",
        tag="sessions",
    ),
    Endpoint(
        "POST",
        "/v1/sessions/{session_id}/attachments",
        add_attachment,
        "Upload an attachment (multipart field 'file')",
        status=201,
        multipart=True,
        tag="sessions",
    ),
    Endpoint(
        "GET",
        "/v1/sessions/{session_id}/events",
        session_events,
        "Session events as SSE (follow=false to replay and end)",
        query=EventsQuery,
        kind="sse",
        tag="sessions",
    ),
    Endpoint(
        "GET",
        "/v1/sessions/{session_id}/export",
        export_session,
        "Export a session as a zip",
        kind="file",
        tag="sessions",
    ),
]
