"""A small SSE reader over an httpx streaming response (tests, benchmarks, agentctl).

Yields `SSEMessage(id, event, data)` per frame; comments (keep-alives) are reported only when
`comments=True`, so callers can observe them in tests.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any


@dataclass
class SSEMessage:
    id: str | None
    event: str
    data: str
    retry: int | None = None
    comment: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


class SSEParser:
    """Line-at-a-time `text/event-stream` parser, shared by the async reader below and agentctl's
    blocking one. `feed(line)` returns a message when `line` completes one (or is a comment)."""

    def __init__(self, *, comments: bool = False) -> None:
        self.comments = comments
        self.ident: str | None = None  # the last id persists across frames, as in EventSource
        self._event = "message"
        self._data: list[str] = []
        self._retry: int | None = None

    def feed(self, line: str) -> SSEMessage | None:
        if line == "":
            msg = (
                SSEMessage(self.ident, self._event, "\n".join(self._data), self._retry)
                if self._data
                else None
            )
            self._event, self._data, self._retry = "message", [], None
            return msg
        if line.startswith(":"):
            return SSEMessage(None, "", "", None, line[1:].strip()) if self.comments else None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            self.ident = value
        elif name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


async def iter_sse(response: Any, *, comments: bool = False) -> AsyncIterator[SSEMessage]:
    """Parse `text/event-stream` lines from `response.aiter_lines()`."""
    parser = SSEParser(comments=comments)
    async for line in response.aiter_lines():
        if (msg := parser.feed(line)) is not None:
            yield msg
