"""Drop connections that never finish a request head (slowloris, half-open sockets), or whose
head never ends (memory).

uvicorn times out idle keep-alive connections only *after* a response; a client that connects and
sends nothing, or half a request line, holds a connection (and a file descriptor) forever. This
wraps uvicorn's HTTP protocol (httptools or h11, whichever it picked) with one timer per
connection: armed while we wait for a request head, disarmed once the head is parsed (the body and
a long SSE response are not limited here: bodies have their own deadline, `api.read_limited`),
re-armed after each response.

httptools sets no limit on a head's size: before any auth, one connection streaming header lines
for the 10 s the timer allows grew agentd by 900 MB. While a head is awaited the bytes received
are counted; past `MAX_HEAD_BYTES` the connection gets a 431 and is closed, so at most one read
(256 KiB) more than the limit is ever parsed.

Nor does anything limit how many connections a client opens: two local processes connecting
10,500 times each took agentd to its 20,000 descriptors (`accept` failed with EMFILE, and with it
every file a run opens). At most `MAX_IDLE` connections of one server may sit *unanswered* —
waiting for a head, or sending a body (`/login` is public) — and past that the one idle the
longest is closed. A client that sends its request at once is never the longest idle; a
connection is no longer counted once a GET's head is parsed (a long SSE stream is not idle).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

DEFAULT_HEADER_TIMEOUT = 10.0
MAX_HEAD_BYTES = 64 * 1024  # request line + headers; browsers and tunnels stay far below it
MAX_IDLE = 512  # unanswered connections per server; the longest idle goes first
MAX_PIPELINED = 16  # requests queued behind the one being answered (browsers send none)

_TOO_LARGE = b'{"error":{"code":"header_too_large","message":"request head exceeds %d bytes"}}'


class HeaderTimeoutProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None
    _head_cycle: Any = None
    _head_bytes: int = 0
    max_idle: int = MAX_IDLE
    idle: OrderedDict[HeaderTimeoutProtocol, None]  # per server class (see `protocol`)

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._check()
        if self._head_timer is None or self.transport.is_closing():
            return
        self._head_bytes += len(data)  # still no complete head: all of it is head
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse_head()

    def on_headers_complete(self) -> None:
        """httptools parses every request a read holds and queues those behind the one being
        answered: 50 connections pipelining GETs they never read the answers to grew agentd by
        1.5 GB in 18 s, and on. Past `MAX_PIPELINED` the parse stops and the connection goes."""
        if len(getattr(self, "pipeline", ())) >= MAX_PIPELINED:
            import httptools

            self._evict()
            raise httptools.HttpParserError("too many pipelined requests")
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()
            self._check()  # a pipelined request may already be parsed

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.idle.pop(self, None)
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.header_timeout, self._expired)
        self._idle()

    def _idle(self) -> None:
        self.idle[self] = None
        self.idle.move_to_end(self)
        while len(self.idle) > self.max_idle:
            oldest, _ = self.idle.popitem(last=False)
            oldest._evict()

    def _evict(self) -> None:
        self._disarm()
        self.transport.abort()  # close() would wait to flush what a stalled client never reads

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _check(self) -> None:
        """A new request/response cycle means a full head arrived: stop the clock."""
        cycle = getattr(self, "cycle", None)
        if cycle is not None and cycle is not self._head_cycle:
            self._head_cycle = cycle
            self._disarm()
            if self.scope.get("method") in ("GET", "HEAD"):
                self.idle.pop(self, None)  # answered at once, or a stream: not idle

    def _refuse_head(self) -> None:
        self._disarm()
        body = _TOO_LARGE % MAX_HEAD_BYTES
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
        )
        self.transport.close()

    def _expired(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def protocol(header_timeout: float, max_idle: int = MAX_IDLE) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn.Config(http=...) with this header timeout (seconds); its
    connections share one count of unanswered connections."""
    attrs = {"header_timeout": header_timeout, "max_idle": max_idle, "idle": OrderedDict()}
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), attrs)
