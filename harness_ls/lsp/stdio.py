"""The stdio loop: pygls' protocol, fed whole frames by the event loop itself.

pygls' `start_io` reads each header line and each body through `run_in_executor`: three or four
thread round trips per message, each a wake-up of the event loop — the larger part of a
keystroke's latency once validation is fast, and more under load. Here the event loop watches
the input pipe (asyncio's pipe transport) and reads whole frames (frames.py, strict): one
wake-up per message; a reader thread only when the input is not a pipe. The loop parses each
body (one that is not JSON is a broken stream: FrameError, as before) and gives it to pygls'
protocol unchanged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, BinaryIO

from harness_ls.lsp.frames import (
    MAX_HEADER_LINE,
    AsyncFrames,
    FdStream,
    FrameError,
    StrictFrames,
    not_json,
)

if TYPE_CHECKING:
    from pygls.server import JsonRPCServer

log = logging.getLogger("harness_ls.lsp.stdio")


class _Writer:
    """pygls' writer interface over the duplicated stdout (one write + flush per message)."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def close(self) -> None:
        self._out.close()

    def write(self, data: bytes) -> None:
        self._out.write(data)
        self._out.flush()


def _pump(frames: StrictFrames, loop: asyncio.AbstractEventLoop, inbox: asyncio.Queue) -> None:
    item: Any
    try:
        while True:
            item = frames.message()
            loop.call_soon_threadsafe(inbox.put_nowait, item)
            if item is None:
                return
    except BaseException as exc:  # FrameError, OSError: the loop raises it
        try:
            loop.call_soon_threadsafe(inbox.put_nowait, exc)
        except RuntimeError:  # the loop is gone already
            pass


async def _frames(fd: int) -> Callable[[], Awaitable[bytes | None]]:
    """How to get the next body: the event loop watching the pipe itself when it can (one
    wake-up per message), else a reader thread (a regular file as input)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_HEADER_LINE)
    try:
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader),
            os.fdopen(fd, "rb", buffering=0, closefd=False),
        )
        return AsyncFrames(reader).message
    except (ValueError, OSError):
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        frames = StrictFrames(FdStream(fd))  # type: ignore[arg-type]
        threading.Thread(
            target=_pump, args=(frames, loop, inbox), name="lsp-stdin", daemon=True
        ).start()

        async def next_body() -> bytes | None:
            item = await inbox.get()
            if isinstance(item, BaseException):
                raise item
            return item

        return next_body


async def _serve(server: JsonRPCServer, fd: int, stop: threading.Event) -> None:
    next_body = await _frames(fd)
    protocol = server.protocol
    while not stop.is_set():
        body = await next_body()
        if body is None:
            return
        try:
            message = json.loads(body, object_hook=protocol.structure_message)
        except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError
            raise not_json(body) from None
        except Exception as exc:  # pygls could not structure it: logged, like pygls does
            log.exception("Unable to handle message")
            server._report_server_error(exc, type(exc))
            continue
        try:
            protocol.handle_message(message)
        except Exception as exc:
            log.exception("Unable to handle message")
            server._report_server_error(exc, type(exc))


def start_stdio(server: JsonRPCServer, fd: int, stdout: BinaryIO) -> None:
    """Serve LSP read from file descriptor `fd` until the input ends or `exit`; FrameError
    escapes (the host exits)."""
    stop = server._stop_event = threading.Event()
    server.protocol.set_writer(_Writer(stdout))
    try:
        asyncio.run(_serve(server, fd, stop))
    except BrokenPipeError:
        log.error("Connection to the client is lost! Shutting down the server.")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()


__all__ = ["FrameError", "start_stdio"]
