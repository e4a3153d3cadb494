"""The dashboard sidecar, listening from start-up but loaded on its first connection.

Importing starlette/uvicorn and the agent core costs ~20 MB and a good part of a cold start,
which a user who only lints specs should not pay. So at `initialized` harness-ls binds the
sidecar's socket with the standard library (the URL is known and the endpoint file written at
once) and watches it with the event loop; the first client that connects, a browser or agentctl,
triggers the load, and uvicorn then accepts that connection from the socket's backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("harness_ls.lsp.sidecar")

# (listening socket) -> the running server (harness_ls.http.server.Sidecar)
Loader = Callable[[socket.socket], Awaitable[Any]]


class SidecarError(Exception):
    """The sidecar cannot listen; the message says why and what to change."""


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> tuple[socket.socket, bool]:
    """A listening socket on host:port, or on a free port when that one is busy (True)."""
    for attempt, fell_back in ((port, False), (0, True)):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), attempt))
            sock.listen(2048)
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE and attempt != 0:
                continue
            raise SidecarError(
                f"cannot listen on {host}:{attempt}: {exc.strerror or exc}"
            ) from None
        sock.setblocking(False)
        return sock, fell_back
    raise AssertionError("unreachable")


class LazySidecar:
    """Quacks like http.server.Sidecar (url, host, port, fell_back, stop) before it is loaded."""

    def __init__(self, host: str, port: int, token: str | None, load: Loader) -> None:
        if not is_loopback(host) and not token:
            raise SidecarError(f"refusing to serve {host} without a token (set a token)")
        self.sock, self.fell_back = bind(host, port)
        self.host = host
        self.port = self.sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        if host in ("0.0.0.0", "::"):
            shown = "127.0.0.1"
        self.url = f"http://{shown}:{self.port}"
        self.server: Any = None  # the real sidecar once loaded
        self.error: str | None = None
        self._load = load
        self._loading: asyncio.Task[Any] | None = None
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.sock.fileno(), self._on_connection)

    @property
    def loaded(self) -> bool:
        return self.server is not None

    def _on_connection(self) -> None:
        self._loop.remove_reader(self.sock.fileno())
        self._loading = asyncio.ensure_future(self.load())

    async def load(self) -> Any:
        """Start the real server on the socket (once); the first connection waits in the backlog."""
        if self.server is None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(self.sock.fileno())
            try:
                self.server = await self._load(self.sock)
            except Exception as exc:  # never take the language server down
                self.error = str(exc)
                log.warning("dashboard sidecar failed to load: %s", exc)
                self.sock.close()
                raise
        return self.server

    async def stop(self, grace: float = 5.0) -> None:
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(self.sock.fileno())
        if self._loading is not None and not self._loading.done():
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(self._loading), grace)
        if self.server is not None:
            await self.server.stop(grace=grace)
        self.sock.close()
