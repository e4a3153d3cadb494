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
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from harness_ls.errors import InvalidInput

TERMINAL_RUN_EVENTS = frozenset({"run.completed", "run.failed", "run.cancelled", "run.interrupted"})
TERMINAL_RUN_STATUSES = frozenset({"completed", "failed", "cancelled", "interrupted"})


MAX_SEQ = 2**63 - 1


def resume_point(request: Request) -> int:
    """The seq to resume after: Last-Event-ID header, else ?after=N, else 0."""
    for source, raw in (
        ("Last-Event-ID header", request.headers.get("last-event-id")),
        ("after query parameter", request.query_params.get("after")),
    ):
        if raw is None or raw.strip() == "":
            continue
        raw = raw.strip()
        # ASCII digits only ("²".isdigit() is true and int() rejects it) and within a 64-bit seq
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 19 and int(raw) <= MAX_SEQ):
            raise InvalidInput(
                f"{source} must be a non-negative integer event seq, got {raw[:40]!r}",
                hint="pass the `id:` of the last event you received, or 0 for everything",
                details={"fields": [{"field": "after", "message": "not an integer"}]},
            )
        return int(raw)
    return 0


KEEPALIVE = b": keep-alive\n\n"
_FRAMES: OrderedDict[str, bytes] = OrderedDict()
_FRAME_CACHE = 2048


def frame(event: Any) -> bytes:
    """One SSE frame; `data` is the whole event as one JSON line (JSON never contains raw newlines).

    Frames are cached by event id: every subscriber of a stream gets the same live event
    object, so it is serialised once, not once per subscriber.
    """
    key = getattr(event, "id", None)
    if key is not None:
        hit = _FRAMES.get(key)
        if hit is not None:
            return hit
    out = _render(event)
    if key is not None:
        _FRAMES[key] = out
        if len(_FRAMES) > _FRAME_CACHE:
            _FRAMES.popitem(last=False)
    return out


def _render(event: Any) -> bytes:
    if hasattr(event, "to_json"):  # the store's wire form: exactly the log line
        payload = event.to_json()
        seq, etype = event.seq, event.type
    elif hasattr(event, "model_dump_json"):
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


class _Stream:
    __slots__ = ("task", "waiting", "poked", "last_send")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.task = task
        self.waiting = False
        self.poked = False
        self.last_send = time.monotonic()


class KeepAlive:
    """One ticker per app instead of a timer per event: every `interval / 2` it pokes streams
    that have been idle for `interval` and are parked on their subscription (a cancel-safe
    cursor), so they write a keep-alive comment. Delivering an event then costs no timer at all,
    which is what keeps fan-out to hundreds of subscribers cheap."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.streams: set[_Stream] = set()
        self._task: asyncio.Task[None] | None = None

    def add(self, stream: _Stream) -> None:
        self.streams.add(stream)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    def discard(self, stream: _Stream) -> None:
        self.streams.discard(stream)

    async def _run(self) -> None:
        while self.streams:
            await asyncio.sleep(self.interval / 2)
            now = time.monotonic()
            for st in list(self.streams):
                if st.waiting and not st.poked and now - st.last_send >= self.interval:
                    st.poked = True
                    st.task.cancel()


class SSEResponse(Response):
    """Streams `source` as SSE with keep-alives; stops on terminal event, disconnect, or shutdown.

    `source()` must return a cancel-safe async iterator (the store's `Subscription` is: its
    cursor only advances when an event is returned), because keep-alives, disconnects and
    shutdown all interrupt a parked `__anext__` by cancelling this task.
    """

    media_type = "text/event-stream"

    def __init__(
        self,
        source: Callable[[], AsyncIterator[Any]],
        *,
        terminal: frozenset[str] = frozenset(),
        keepalive: KeepAlive | float = 15.0,
        retry_ms: int = 2000,
        closing: asyncio.Event | None = None,
        after: int = 0,
        until: int | None = None,
        stats: StreamStats | None = None,
        known: int = 0,
    ) -> None:
        super().__init__(content=None, status_code=200)
        self.source = source
        self.terminal = terminal
        self.keepalive = keepalive if isinstance(keepalive, KeepAlive) else KeepAlive(keepalive)
        self.retry_ms = retry_ms
        self.closing = closing
        self.after = after
        self.until = until  # end after this seq (replay-only / already finished streams)
        # the log's last seq when the request came: a terminal event before it is history (a
        # resumed run has run.interrupted, then run.resumed and more), so replay goes past it
        self.known = known
        self.sent = 0
        self.stats = stats or StreamStats()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            # no-transform: compressing proxies (code-server's /proxy/<port>/ runs express
            # `compression`) would otherwise gzip the stream and hold every event back
            (b"cache-control", b"no-store, no-transform"),
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
        me = asyncio.current_task()
        assert me is not None
        reason: list[str] = []
        finished = False

        def stop(why: str) -> None:
            if not reason and not finished:
                reason.append(why)
                me.cancel()

        async def watch_disconnect() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    stop("disconnect")
                    return

        watcher = asyncio.ensure_future(watch_disconnect())
        closer = asyncio.ensure_future(self.closing.wait()) if self.closing else None
        if closer is not None:
            closer.add_done_callback(lambda t: None if t.cancelled() else stop("shutdown"))
        iterator = self.source().__aiter__()
        state = _Stream(me)
        self.keepalive.add(state)
        self.stats.open += 1
        self.stats.total += 1
        try:
            if self.until is not None and self.after >= self.until:
                return
            while True:
                state.waiting = True
                try:
                    event = await iterator.__anext__()
                except StopAsyncIteration:
                    break
                except asyncio.CancelledError:
                    if reason or not state.poked:
                        raise
                    me.uncancel()
                    state.poked = False
                    state.waiting = False
                    await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})
                    state.last_send = time.monotonic()
                    continue
                state.waiting = False
                await send({"type": "http.response.body", "body": frame(event), "more_body": True})
                state.last_send = time.monotonic()
                self.sent += 1
                if event.type in self.terminal and event.seq >= self.known:
                    break
                if self.until is not None and event.seq >= self.until:
                    break
        except asyncio.CancelledError:
            if not reason:
                raise
            me.uncancel()
        except OSError:
            pass  # the client vanished mid-write
        finally:
            finished = True
            state.waiting = False
            self.keepalive.discard(state)
            for task in (watcher, closer):
                if task is not None and not task.done():
                    task.cancel()
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
            self.stats.open -= 1
            if "disconnect" not in reason:
                with contextlib.suppress(Exception):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
