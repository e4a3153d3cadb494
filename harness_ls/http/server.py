"""Start the app under uvicorn without ever letting uvicorn `sys.exit` the host process.

We bind the socket ourselves (so "port in use" is a `BindError` the caller reports), hand it to
uvicorn, and keep uvicorn's own signal capture off: agentd installs its handlers, and the LSP host
that reuses this app as a sidecar keeps its own. `stop()` first ends SSE streams (they would
otherwise hold the graceful shutdown open), then stops uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from harness_ls.errors import HarnessError
from harness_ls.http.header_timeout import DEFAULT_HEADER_TIMEOUT, protocol


class BindError(HarnessError):
    code = "bind_failed"
    status = 500


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port; `BindError` with a one-line reason if that fails."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(
        family, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )  # asyncio sets NODELAY only then
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise BindError(
                f"cannot listen on {host}:{port}: the port is already in use",
                hint="stop the other server or pass --listen with another port (port 0 = any free)",
            ) from None
        raise BindError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="check the address; use 127.0.0.1 for local-only access",
        ) from None
    sock.set_inheritable(True)
    return sock


def bind_unix(path: Path) -> socket.socket:
    """A listening Unix socket at `path`, mode 0600 from the first moment (whatever the umask).

    It is bound in a fresh 0700 folder next to `path`, chmod-ed, then renamed into place, so no
    other user can ever connect; a stale socket left by a killed agentd is replaced, a live one
    is `BindError`.
    """
    import os
    import tempfile

    path = Path(path).expanduser().absolute()
    if path.exists() or path.is_symlink():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            pass  # nobody listens: a stale socket file
        else:
            raise BindError(f"cannot listen on unix:{path}: another server is listening there")
        finally:
            probe.close()
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise BindError(f"cannot listen on unix:{path}: it exists and is not a socket")
    try:
        staging = Path(tempfile.mkdtemp(prefix=".harness-sock-", dir=path.parent))
    except OSError as exc:
        raise BindError(f"cannot listen on unix:{path}: {exc.strerror or exc}") from None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        tmp = staging / "s"
        sock.bind(str(tmp))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise BindError(f"cannot listen on unix:{path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            (staging / "s").unlink()
        with contextlib.suppress(OSError):
            staging.rmdir()
    sock.set_inheritable(True)
    return sock


def format_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}"


class _QuietServer(uvicorn.Server):
    """uvicorn without signal capture: the host process owns its signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Sidecar:
    """A running server: its URL and a way to stop it (awaitable, idempotent)."""

    url: str
    host: str
    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]
    app: Any
    fell_back: bool = False
    _stopped: bool = field(default=False, repr=False)

    def request_stop(self) -> None:
        """Begin shutdown from a signal handler or callback (no await needed)."""
        closing = getattr(self.app.state, "closing", None)
        if closing is not None:
            closing.set()
        self.server.should_exit = True

    async def stop(self, grace: float = 5.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.request_stop()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), grace)
        except TimeoutError:
            self.server.force_exit = True
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task
        except BaseException:  # noqa: BLE001 - a failed server is still stopped
            pass

    async def wait(self) -> None:
        """Until the server stops (signal or `stop()`)."""
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(self.task)


async def start_server(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    fallback_port: bool = False,
    log_level: str = "warning",
    graceful_timeout: float = 3.0,
    sock: socket.socket | None = None,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
) -> Sidecar:
    """Serve `app` on the running loop; `BindError` if the port is taken (unless `fallback_port`).

    `sock`: an already-bound listening socket (agentd binds before starting the core).
    `header_timeout`: seconds a connection may take to send a request head before it is dropped.
    """
    fell_back = False
    if sock is None:
        try:
            sock = bind_socket(host, port)
        except BindError:
            if not fallback_port or port == 0:
                raise
            sock = bind_socket(host, 0)
            fell_back = True
    unix = sock.family == socket.AF_UNIX
    actual = 0 if unix else sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=graceful_timeout,
        proxy_headers=False,
        server_header=False,
        http=protocol(header_timeout),
    )
    server = _QuietServer(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            sock.close()
            exc = task.exception()
            raise BindError(f"server failed to start on {host}:{actual}: {exc!r}")
        await asyncio.sleep(0.01)
    url = f"unix:{host}" if unix else format_url(host, actual)
    return Sidecar(url, host, actual, server, task, app, fell_back)


async def start_sidecar(
    harness: Any, host: str = "127.0.0.1", port: int = 0, token: str | None = None, **app_kw: Any
) -> Sidecar:
    """The harness-ls sidecar: same app, loopback by default, ephemeral port when `port` is busy.

    Auth is always on: with no `token` it is HARNESS_AUTH_TOKEN, else the data dir's token file
    (created on first use and shared with agentd and agentctl).
    """
    from pathlib import Path

    from harness_ls.auth_token import host_token
    from harness_ls.config import ensure_data_dir
    from harness_ls.http.app import create_app

    if not token:
        data_dir = ensure_data_dir(Path(harness.data_dir))
        token, _ = host_token(data_dir)
    app_kw.setdefault("kind", "harness-ls")
    app = create_app(harness, token=token, **app_kw)
    return await start_server(app, host, port, fallback_port=True)
