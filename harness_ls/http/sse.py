"""Server-Sent Events over the store's replay-then-live subscriptions.

Frame per event: `id: <seq>` / `event: <type>` / `data: <event JSON>`. A client resumes with the
`Last-Event-ID` header (what EventSource sends by itself) or `?after=N`; the header wins because a
browser reconnects to the original URL, whose `after` is stale. A run stream ends after the run's
terminal event; every stream ends when the client disconnects or the server shuts down, and the
subscription is closed either way so nothing is left waiting on the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from harness_ls.errors import InvalidInput

TERMINAL_RUN_EVENTS = frozenset({"run.completed", "run.failed", "run.cancelled", "run.interrupted"})
TERMINAL_RUN_STATUSES = frozenset({"completed", "failed", "cancelled", "interrupted"})


def resume_point(request: Request) -> int:
    """The seq to resume after: Last-Event-ID header, else ?after=N, else 0."""
    for source, raw in (
        ("Last-Event-ID header", request.headers.get("last-event-id")),
        ("after query parameter", request.query_params.get("after")),
    ):
        if raw is None or raw.strip() == "":
            continue
        raw = raw.strip()
        if not raw.isdigit():
            raise InvalidInput(
                f"{source} must be a non-negative integer event seq, got {raw!r}",
                hint="pass the `id:` of the last event you received, or 0 for everything",
                details={"fields": [{"field": "after", "message": "not an integer"}]},
            )
        return int(raw)
    return 0


def frame(event: Any) -> bytes:
    """One SSE frame; `data` is the whole event as one JSON line (JSON never contains raw newlines)."""
    if hasattr(event, "model_dump_json"):
        payload = event.model_dump_json()
        seq, etype = event.seq, event.type
    else:
        payload = json.dumps(event, separators=(",", ":"))
        seq, etype = event["seq"], event["type"]
    return f"id: {seq}\nevent: {etype}\ndata: {payload}\n\n".encode()


class StreamStats:
    """Open SSE streams of one app: a gauge for /v1/health and for tests that check cleanup."""

    def __init__(self) -> None:
        self.open = 0
        self.total = 0


class SSEResponse(Response):
    """Streams `source` as SSE with keep-alives; stops on terminal event, disconnect, or shutdown."""

    media_type = "text/event-stream"

    def __init__(
        self,
        source: Callable[[], AsyncIterator[Any]],
        *,
        terminal: frozenset[str] = frozenset(),
        keepalive: float = 15.0,
        retry_ms: int = 2000,
        closing: asyncio.Event | None = None,
        after: int = 0,
        until: int | None = None,
        stats: StreamStats | None = None,
    ) -> None:
        super().__init__(content=None, status_code=200)
        self.source = source
        self.terminal = terminal
        self.keepalive = keepalive
        self.retry_ms = retry_ms
        self.closing = closing
        self.after = after
        self.until = until  # end after this seq (replay-only / already finished streams)
        self.sent = 0
        self.stats = stats or StreamStats()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),  # tell reverse proxies not to buffer the stream
            (b"x-content-type-options", b"nosniff"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {
                "type": "http.response.body",
                "body": f"retry: {self.retry_ms}\n: connected\n\n".encode(),
                "more_body": True,
            }
        )
        gone = asyncio.Event()
        self.stats.open += 1
        self.stats.total += 1

        async def watch_disconnect() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    gone.set()
                    return

        watcher = asyncio.ensure_future(watch_disconnect())
        stopper = asyncio.ensure_future(self.closing.wait()) if self.closing else None
        stops = {watcher} | ({stopper} if stopper else set())
        iterator = self.source().__aiter__()
        pending: asyncio.Future[Any] | None = None
        try:
            if self.until is not None and self.after >= self.until:
                return
            while not gone.is_set():
                if pending is None:
                    pending = asyncio.ensure_future(iterator.__anext__())
                done, _ = await asyncio.wait(
                    {pending} | stops, timeout=self.keepalive, return_when=asyncio.FIRST_COMPLETED
                )
                if pending in done:
                    try:
                        event = pending.result()
                    except StopAsyncIteration:
                        break
                    pending = None
                    await send(
                        {"type": "http.response.body", "body": frame(event), "more_body": True}
                    )
                    self.sent += 1
                    etype = getattr(event, "type", None)
                    if etype in self.terminal:
                        break
                    seq = getattr(event, "seq", 0)
                    if self.until is not None and seq >= self.until:
                        break
                    continue
                if done & stops:
                    break
                await send(
                    {"type": "http.response.body", "body": b": keep-alive\n\n", "more_body": True}
                )
        except OSError:
            pass  # the client vanished mid-write
        finally:
            for task in (pending, watcher, stopper):
                if task is not None and not task.done():
                    task.cancel()
            for task in (pending, watcher, stopper):
                if task is not None:
                    with contextlib.suppress(BaseException):
                        await task
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
            self.stats.open -= 1
            if not gone.is_set():
                with contextlib.suppress(Exception):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
