"""The stdio loop: pygls' protocol, fed one whole frame per thread hand-off.

pygls' `start_io` reads each header line and each body through `run_in_executor`: three or four
thread round trips per message, each a wake-up of the event loop — the larger part of a
keystroke's latency once validation is fast. Here one reader thread reads whole frames
(frames.py, strict) and hands each body to the loop once; the loop parses it (a body that is not
JSON is a broken stream: FrameError, as before) and gives it to pygls' protocol unchanged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import TYPE_CHECKING, Any, BinaryIO

from harness_ls.lsp.frames import FdStream, FrameError, StrictFrames, not_json

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


async def _serve(server: JsonRPCServer, frames: StrictFrames, stop: threading.Event) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    threading.Thread(
        target=_pump, args=(frames, loop, inbox), name="lsp-stdin", daemon=True
    ).start()
    protocol = server.protocol
    while not stop.is_set():
        body = await inbox.get()
        if body is None:
            return
        if isinstance(body, BaseException):
            raise body
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


def start_stdio(server: JsonRPCServer, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Serve LSP on stdio until the input ends or `exit`; FrameError escapes (the host exits)."""
    stop = server._stop_event = threading.Event()
    server.protocol.set_writer(_Writer(stdout))
    try:
        frames = StrictFrames(FdStream(stdin.fileno()))  # type: ignore[arg-type]
        asyncio.run(_serve(server, frames, stop))
    except BrokenPipeError:
        log.error("Connection to the client is lost! Shutting down the server.")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()


__all__ = ["FrameError", "start_stdio"]
