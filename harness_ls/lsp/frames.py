"""A strict LSP frame reader between stdin and pygls.

pygls skips header lines it does not understand, so `Content-Length: abc`, `-5`, a missing length
or a body longer than declared leave it waiting for a frame that never comes: the editor sees a
server that silently stopped answering. This reader validates every header and body and raises
`FrameError` instead; the host prints one line on stderr and exits non-zero, so the editor
restarts the server on a clean stream.
"""

from __future__ import annotations

import json
from typing import BinaryIO

MAX_HEADER_LINE = 8192
MAX_BODY = 256 << 20  # bytes; a bigger frame is hostile or broken, not a document


class FrameError(Exception):
    """The client broke the framing; the stream cannot be trusted any more."""


def _shown(raw: bytes) -> str:
    text = repr(raw[:60])[2:-1]
    return text + ("..." if len(raw) > 60 else "")


class StrictFrames:
    """What pygls reads stdin through (`readline` for headers, `read(n)` for the body)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._in = stream
        self._length: int | None = None  # Content-Length of the headers being read
        self._body: int | None = None  # bytes of body expected next
        self._in_headers = False

    def readline(self) -> bytes:
        if self._body is not None:  # pygls skips a zero-length body and asks for headers
            raise FrameError("a message with an empty body (Content-Length: 0)")
        line = self._in.readline(MAX_HEADER_LINE)
        if not line:
            if self._in_headers:
                raise FrameError("the input ended inside a message header")
            return b""  # a clean end of input between messages
        self._in_headers = True
        if not line.endswith(b"\r\n"):
            if len(line) >= MAX_HEADER_LINE:
                raise FrameError(f"a header line longer than {MAX_HEADER_LINE} bytes")
            raise FrameError(f"a header line not ending in CRLF: {_shown(line)}")
        if line == b"\r\n":
            if self._length is None:
                raise FrameError("a message without a Content-Length header")
            self._body, self._length, self._in_headers = self._length, None, False
            return line
        name, sep, value = line[:-2].partition(b":")
        if not sep or not name.strip():
            raise FrameError(f"not a header line: {_shown(line)}")
        if name.strip().lower() != b"content-length":
            return line  # Content-Type and the like: pygls ignores them
        value = value.strip()
        if not value.isdigit():  # bytes.isdigit is ASCII only: no sign, no spaces, no "²"
            raise FrameError(f"Content-Length {_shown(value)} is not a non-negative integer")
        length = int(value)
        if length > MAX_BODY:
            raise FrameError(f"Content-Length {length} is over the {MAX_BODY}-byte limit")
        if self._length is not None and self._length != length:
            raise FrameError("two different Content-Length headers in one message")
        self._length = length
        return b"Content-Length: %d\r\n" % length  # the exact form pygls matches

    def read(self, n: int) -> bytes:
        expected, self._body = self._body, None
        if expected != n:
            raise FrameError("the reader lost track of the message length")
        chunks, got = [], 0
        while got < n:
            chunk = self._in.read(n - got)
            if not chunk:
                raise FrameError(f"the input ended after {got} of {n} body bytes")
            chunks.append(chunk)
            got += len(chunk)
        body = b"".join(chunks)
        try:
            json.loads(body)
        except (ValueError, RecursionError):
            # also what a body longer than its Content-Length looks like: cut mid-JSON
            raise FrameError(f"a message body that is not JSON: {_shown(body)}") from None
        return body
