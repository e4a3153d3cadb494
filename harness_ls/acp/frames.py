"""ACP frames on stdio, checked before the protocol library sees them.

ACP is JSON-RPC 2.0 as newline-delimited JSON. The `acp` package's own reader logs and skips a
line that is not JSON (the client never hears why its request got no answer), dies on a line that
is JSON but not an object (`[]`, `"x"`, `1`, `null`: "Internal error", connection gone), and
buffers a line of any length. This transport answers each of those with a JSON-RPC error the
client can show (id null, as the spec says when the id cannot be read) and reads on; a line over
`max_line` bytes is discarded as it streams in, so memory stays bounded. A frame nested deeper
than `MAX_DEPTH` (at 5,000 levels `json.loads` raised RecursionError and the host died without a
word) and a number JSON cannot carry (`1e999`, `NaN`, `Infinity`: "Internal error" deep in the
library) are parse errors too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from harness_ls.common import nesting_depth

log = logging.getLogger("harness_ls.acp.frames")

MAX_LINE = 50 * 1024 * 1024  # the acp package's default buffer: room for embedded files
MAX_DEPTH = 64  # an ACP message nests a handful of levels; deeper only strains every encoder
PARSE_ERROR = -32700
INVALID_REQUEST = -32600

_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number",
          bool: "a boolean", type(None): "null"}  # fmt: skip


def error_frame(code: int, message: str, id_: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "error": {"code": code, "message": message}}


class _NotJson(ValueError):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotJson(f"number {text[:40]} is out of range")
    return value


def _constant(name: str) -> float:
    raise _NotJson(f"{name} is not JSON")


def check_frame(line: bytes) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(message to hand on, None) or (None, error response to send back). Pure."""
    too_deep = error_frame(
        PARSE_ERROR, f"Parse error: the line is nested more than {MAX_DEPTH} levels deep"
    )
    try:
        doc = json.loads(line, parse_float=_finite, parse_constant=_constant)
    except RecursionError:
        return None, too_deep
    except (ValueError, UnicodeDecodeError) as exc:
        why = str(exc) if isinstance(exc, _NotJson) else f"{type(exc).__name__}: {exc}"
        return None, error_frame(
            PARSE_ERROR,
            f"Parse error: the line is not JSON ({why[:200]}); send one JSON-RPC object per line",
        )
    if nesting_depth(doc, MAX_DEPTH + 1) > MAX_DEPTH:
        return None, too_deep
    if not isinstance(doc, dict):
        kind = _KINDS.get(type(doc), type(doc).__name__)
        if isinstance(doc, list) and doc:
            kind = "a batch (array)"
        return None, error_frame(
            INVALID_REQUEST,
            f"Invalid request: a frame must be a JSON object, not {kind}"
            + (" (ACP does not use JSON-RPC batches)" if isinstance(doc, list) else ""),
        )
    id_ = doc.get("id")
    id_ok = id_ is None or (isinstance(id_, (str, int)) and not isinstance(id_, bool))
    reply_id = id_ if id_ok else None
    if not id_ok:
        return None, error_frame(INVALID_REQUEST, "Invalid request: id must be a string or integer")
    if "method" in doc:
        if not isinstance(doc["method"], str) or not doc["method"]:
            return None, error_frame(
                INVALID_REQUEST, "Invalid request: method must be a non-empty string", reply_id
            )
        params = doc.get("params")
        if params is not None and not isinstance(params, (dict, list)):
            return None, error_frame(-32602, "Invalid params: params must be an object", reply_id)
        return doc, None
    if "id" in doc and ("result" in doc or "error" in doc):
        return doc, None  # a response to one of our requests (permission, fs)
    return None, error_frame(
        INVALID_REQUEST, "Invalid request: a frame needs a method (or is a response)", reply_id
    )


class StrictStdio:
    """An `acp` Transport (send / receive / close) over a reader and a writer of bytes."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        max_line: int = MAX_LINE,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.max_line = max_line
        self._lock = asyncio.Lock()
        self._closed = False

    async def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        async with self._lock:
            self.writer.write(data)
            await self.writer.drain()

    async def receive(self) -> dict[str, Any] | None:
        while True:
            line, too_long = await self._read_line()
            if line is None:
                return None
            if too_long:
                log.warning("discarded a %d-byte ACP frame (limit %d)", too_long, self.max_line)
                await self._reply(
                    error_frame(
                        INVALID_REQUEST,
                        f"Invalid request: the frame is {too_long} bytes, over the "
                        f"{self.max_line}-byte limit; it was discarded",
                    )
                )
                continue
            if not line.strip():
                continue
            message, error = check_frame(line)
            if error is not None:
                log.info("bad ACP frame: %s", error["error"]["message"])
                await self._reply(error)
                continue
            return message

    async def _reply(self, frame: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            await self.send(frame)

    async def _read_line(self) -> tuple[bytes | None, int]:
        """(line, 0), (b"", size) for a line over the limit (its bytes dropped), (None, 0) at EOF."""
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                part = await self.reader.readuntil(b"\n")
                done = True
            except asyncio.IncompleteReadError as exc:
                part, done = exc.partial, True
                if not part and not chunks and size == 0:
                    return None, 0
            except asyncio.LimitOverrunError as exc:
                part, done = await self.reader.readexactly(exc.consumed), False
            size += len(part)
            if size <= self.max_line:
                chunks.append(part)
            else:
                chunks.clear()  # over the limit: keep reading to the newline, keep nothing
            if done:
                return (b"", size) if size > self.max_line else (b"".join(chunks), 0)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self.writer.close()


async def stdio(out_fd: int, max_line: int = MAX_LINE) -> StrictStdio:
    """The transport on stdin and `out_fd` (a duplicate of the real stdout: fd 1 itself is
    pointed at stderr by the host, so a stray print can never corrupt the stream)."""
    import os
    import sys

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    protocol = asyncio.StreamReaderProtocol(reader)
    await loop.connect_read_pipe(lambda: protocol, sys.stdin)
    out = os.fdopen(out_fd, "wb", buffering=0)
    transport, wproto = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, out)
    writer = asyncio.StreamWriter(transport, wproto, None, loop)
    return StrictStdio(reader, writer, max_line=max_line)
