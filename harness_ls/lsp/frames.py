"""A strict LSP frame reader between stdin and pygls.

pygls skips header lines it does not understand, so `Content-Length: abc`, `-5`, a missing length
or a body longer than declared leave it waiting for a frame that never comes: the editor sees a
server that silently stopped answering. This reader validates every header and body and raises
`FrameError` instead; the host prints one line on stderr and exits non-zero, so the editor
restarts the server on a clean stream.
"""

from __future__ import annotations

import asyncio
import os
from typing import BinaryIO

MAX_HEADER_LINE = 8192
MAX_BODY = 256 << 20  # bytes; a bigger frame is hostile or broken, not a document


class FrameError(Exception):
    """The client broke the framing; the stream cannot be trusted any more."""


def _shown(raw: bytes) -> str:
    text = repr(raw[:60])[2:-1]
    return text + ("..." if len(raw) > 60 else "")


class FdStream:
    """`readline(limit)` / `read(n)` straight on a file descriptor with a buffer of our own: the
    reader thread then blocks in os.read, holding no lock of sys.stdin's buffered reader, so the
    interpreter can exit while it waits (a daemon thread inside BufferedReader.read makes the
    exit abort: "could not acquire lock for <stdin> at interpreter shutdown")."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buf = bytearray()
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = os.read(self._fd, 1 << 16)
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    def readline(self, limit: int = -1) -> bytes:
        start = 0
        while True:
            i = self._buf.find(b"\n", start)
            if i >= 0 or (0 <= limit <= len(self._buf)):
                end = i + 1 if i >= 0 else limit
                if 0 <= limit < end:
                    end = limit
                line = bytes(self._buf[:end])
                del self._buf[:end]
                return line
            start = len(self._buf)
            if not self._fill():
                line = bytes(self._buf)
                self._buf.clear()
                return line

    def read(self, n: int) -> bytes:
        while len(self._buf) < n and self._fill():
            pass
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data


class Headers:
    """The header lines of one message, checked one by one; `line()` returns the body length
    once the blank line ends them."""

    def __init__(self) -> None:
        self.length: int | None = None
        self.started = False

    def line(self, line: bytes) -> int | None:
        self.started = True
        if not line.endswith(b"\r\n"):
            if len(line) >= MAX_HEADER_LINE:
                raise FrameError(f"a header line longer than {MAX_HEADER_LINE} bytes")
            raise FrameError(f"a header line not ending in CRLF: {_shown(line)}")
        if line == b"\r\n":
            if self.length is None:
                raise FrameError("a message without a Content-Length header")
            if self.length == 0:
                raise FrameError("a message with an empty body (Content-Length: 0)")
            return self.length
        name, sep, value = line[:-2].partition(b":")
        if not sep or not name.strip():
            raise FrameError(f"not a header line: {_shown(line)}")
        if name.strip().lower() != b"content-length":
            return None  # Content-Type and the like
        value = value.strip()
        if not value.isdigit():  # bytes.isdigit is ASCII only: no sign, no spaces, no "²"
            raise FrameError(f"Content-Length {_shown(value)} is not a non-negative integer")
        n = int(value)
        if n > MAX_BODY:
            raise FrameError(f"Content-Length {n} is over the {MAX_BODY}-byte limit")
        if self.length is not None and self.length != n:
            raise FrameError("two different Content-Length headers in one message")
        self.length = n
        return None

    def ended(self) -> None:
        """The input ended here: fine between messages, broken inside one."""
        if self.started:
            raise FrameError("the input ended inside a message header")


class StrictFrames:
    """Reads whole frames from a blocking stream: `message()` is one frame's body (bytes), None
    at a clean end of input, FrameError on anything else. The body's JSON is checked where it is
    parsed (lsp/stdio.py), once."""

    def __init__(self, stream: BinaryIO) -> None:
        self._in = stream

    def message(self) -> bytes | None:
        headers = Headers()
        while True:
            line = self._in.readline(MAX_HEADER_LINE)
            if not line:
                headers.ended()
                return None
            n = headers.line(line)
            if n is not None:
                break
        chunks, got = [], 0
        while got < n:
            chunk = self._in.read(n - got)
            if not chunk:
                raise FrameError(f"the input ended after {got} of {n} body bytes")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)


class AsyncFrames:
    """The same frames from an asyncio StreamReader (a pipe the event loop watches itself: no
    reader thread, one wake-up per message). Make the reader with limit=MAX_HEADER_LINE."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._in = reader

    async def message(self) -> bytes | None:
        headers = Headers()
        while True:
            try:
                line = await self._in.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                if exc.partial:
                    headers.line(exc.partial)  # raises: no CRLF
                headers.ended()
                return None
            except asyncio.LimitOverrunError:
                raise FrameError(f"a header line longer than {MAX_HEADER_LINE} bytes") from None
            n = headers.line(line)
            if n is not None:
                break
        try:
            return await self._in.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            raise FrameError(
                f"the input ended after {len(exc.partial)} of {n} body bytes"
            ) from None


def not_json(body: bytes) -> FrameError:
    # also what a body longer than its Content-Length looks like: cut mid-JSON
    return FrameError(f"a message body that is not JSON: {_shown(body)}")
