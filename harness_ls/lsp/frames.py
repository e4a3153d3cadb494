"""A strict LSP frame reader between stdin and pygls.

pygls skips header lines it does not understand, so `Content-Length: abc`, `-5`, a missing length
or a body longer than declared leave it waiting for a frame that never comes: the editor sees a
server that silently stopped answering. This reader validates every header and body and raises
`FrameError` instead; the host prints one line on stderr and exits non-zero, so the editor
restarts the server on a clean stream.
"""

from __future__ import annotations

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


class StrictFrames:
    """Reads whole frames from stdin: `message()` is one frame's body (bytes), None at a clean
    end of input, FrameError on anything else. The body's JSON is checked where it is parsed
    (lsp/stdio.py), once."""

    def __init__(self, stream: BinaryIO) -> None:
        self._in = stream

    def _header_line(self, first: bool) -> bytes | None:
        line = self._in.readline(MAX_HEADER_LINE)
        if not line:
            if first:
                return None  # a clean end of input between messages
            raise FrameError("the input ended inside a message header")
        if not line.endswith(b"\r\n"):
            if len(line) >= MAX_HEADER_LINE:
                raise FrameError(f"a header line longer than {MAX_HEADER_LINE} bytes")
            raise FrameError(f"a header line not ending in CRLF: {_shown(line)}")
        return line

    def _length(self) -> int | None:
        """The Content-Length of the next message's headers; None at a clean end of input."""
        length: int | None = None
        first = True
        while True:
            line = self._header_line(first)
            if line is None:
                return None
            first = False
            if line == b"\r\n":
                if length is None:
                    raise FrameError("a message without a Content-Length header")
                if length == 0:
                    raise FrameError("a message with an empty body (Content-Length: 0)")
                return length
            name, sep, value = line[:-2].partition(b":")
            if not sep or not name.strip():
                raise FrameError(f"not a header line: {_shown(line)}")
            if name.strip().lower() != b"content-length":
                continue  # Content-Type and the like
            value = value.strip()
            if not value.isdigit():  # bytes.isdigit is ASCII only: no sign, no spaces, no "²"
                raise FrameError(f"Content-Length {_shown(value)} is not a non-negative integer")
            n = int(value)
            if n > MAX_BODY:
                raise FrameError(f"Content-Length {n} is over the {MAX_BODY}-byte limit")
            if length is not None and length != n:
                raise FrameError("two different Content-Length headers in one message")
            length = n

    def message(self) -> bytes | None:
        """The next frame's body, or None when the input ended cleanly between frames."""
        n = self._length()
        if n is None:
            return None
        chunks, got = [], 0
        while got < n:
            chunk = self._in.read(n - got)
            if not chunk:
                raise FrameError(f"the input ended after {got} of {n} body bytes")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)


def not_json(body: bytes) -> FrameError:
    # also what a body longer than its Content-Length looks like: cut mid-JSON
    return FrameError(f"a message body that is not JSON: {_shown(body)}")
