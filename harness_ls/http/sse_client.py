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


async def iter_sse(response: Any, *, comments: bool = False) -> AsyncIterator[SSEMessage]:
    """Parse `text/event-stream` lines from `response.aiter_lines()`."""
    ident: str | None = None
    event = "message"
    data: list[str] = []
    retry: int | None = None
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield SSEMessage(ident, event, "\n".join(data), retry)
            event, data, retry = "message", [], None
            continue
        if line.startswith(":"):
            if comments:
                yield SSEMessage(None, "", "", None, line[1:].strip())
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            ident = value
        elif name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "retry" and value.isdigit():
            retry = int(value)
