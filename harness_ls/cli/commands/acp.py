"""`agentctl acp`: speak the Agent Client Protocol on stdio for an editor (Zed `agent_servers`,
JetBrains, Neovim and Emacs ACP clients), over the harness's HTTP API: a running daemon's, else a
private host's in this process, started cold like harness-ls (cli/private_host.py). stdout
carries ACP frames only (checked and answered by acp/frames.py); notes go to stderr."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx

from harness_ls.acp.agent import ApiError, HarnessAcpAgent


class HttpApi:
    """The agent's view of the API: JSON calls and SSE event streams, with agentctl's URL and
    token discovery; requests say `x-harness-surface: acp` so answers are recorded as such."""

    def __init__(self, url: str, token: str | None) -> None:
        headers = {"x-harness-surface": "acp", "user-agent": "agentctl-acp"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        from harness_ls.cli.client import transport_args

        where = transport_args(url)
        if "transport" in where:  # unix:/path: an agentd listening on a Unix socket
            where["transport"] = httpx.AsyncHTTPTransport(uds=url[5:])
        self.url = url
        self.http = httpx.AsyncClient(
            **where,
            headers=headers,
            timeout=httpx.Timeout(60.0, connect=5.0),
            trust_env=False,  # never through a proxy from the environment: the token rides along
        )

    async def get(self, path: str) -> Any:
        return _json(await self._call("GET", path))

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return _json(await self._call("POST", path, json=body or {}))

    async def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            return await self.http.request(method, path, **kw)
        except httpx.TransportError as exc:
            raise ApiError(0, f"cannot reach the harness at {self.url}: {exc}") from None

    async def events(self, path: str, after: int) -> AsyncIterator[dict[str, Any]]:
        from harness_ls.http.sse_client import iter_sse

        timeout = httpx.Timeout(None, connect=5.0)
        params = {"after": after} if after else None
        try:
            async with self.http.stream("GET", path, params=params, timeout=timeout) as resp:
                if resp.status_code >= 400:
                    raise ApiError(resp.status_code, (await resp.aread()).decode(errors="replace"))
                async for msg in iter_sse(resp):
                    if msg.data:
                        yield json.loads(msg.data)
        except httpx.TransportError as exc:
            raise ApiError(0, f"lost the event stream from {self.url}: {exc}") from None

    async def aclose(self) -> None:
        await self.http.aclose()


def _json(resp: httpx.Response) -> Any:
    if resp.status_code >= 400:
        try:
            err = resp.json().get("error", {})
            message = err.get("message") or resp.text
        except ValueError:
            message = resp.text
        raise ApiError(resp.status_code, message)
    return resp.json() if resp.content else {}


def serve(app: Any) -> int:
    """ACP on stdio: over a running daemon found like every agentctl command, else over a
    private host in this process (cli/private_host.py)."""
    frames_fd = os.dup(1)  # ACP frames go here; fd 1 itself now leads to stderr, so a stray
    os.dup2(2, 1)  # print, a library's banner or a child's output cannot corrupt the stream
    sys.stdout = sys.stderr
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="agentctl acp %(levelname)s %(name)s: %(message)s")  # fmt: skip
    app.load_env(models=True)  # provider keys for a private host, as agentd loads them
    token = app.token
    target = app.target()
    from harness_ls.secrets import seal_environ

    seal_environ()  # keys and token live in memory only: tools cannot read them from us
    try:
        asyncio.run(_main(app, target, token, frames_fd))
    except KeyboardInterrupt:
        pass
    return 0


async def _main(app: Any, target: Any, token: str | None, frames_fd: int) -> None:
    from acp import AgentSideConnection

    from harness_ls import __version__
    from harness_ls.acp.frames import stdio

    host = None
    url = await _reachable(target, token)
    if url is None:
        from harness_ls.cli.private_host import start_private_host

        host = await start_private_host(app.data_dir)
        url, token = host.url, host.token
        note(f"no daemon running: serving in this process at {url}/ (data dir {app.data_dir})")
    else:
        note(f"using {url} ({target.source})")
    api = HttpApi(url, token)
    transport = await stdio(frames_fd)
    conn = AgentSideConnection(HarnessAcpAgent(api, __version__), transport, listening=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGHUP):  # an editor closing its agent panel
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    listen = asyncio.ensure_future(conn.listen())
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({listen, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (listen, stopped):
            task.cancel()
        await asyncio.gather(listen, stopped, return_exceptions=True)
        with contextlib.suppress(Exception):
            await conn.close()
        await api.aclose()
        if host is not None:
            await host.stop()


async def _reachable(target: Any, token: str | None) -> str | None:
    """The daemon's URL when one answers with our token; None to serve in-process.

    An explicit `--url` / `HARNESS_URL` is used as given (its errors then say where it pointed).
    The default address is never tried: a daemon of ours writes an endpoint file, so whatever
    listens on 127.0.0.1:8787 without one is not ours, and it must not be sent our token."""
    if target.source in ("--url", "HARNESS_URL"):
        return target.url
    if target.source == "default":
        return None
    api = HttpApi(target.url, token)
    try:
        await api.get("/v1/sessions?limit=1")
        return target.url
    except ApiError as exc:
        note(f"the daemon at {target.url} ({target.source}) did not take us: {exc}")
        return None
    finally:
        await api.aclose()


def note(text: str) -> None:
    print(f"agentctl acp: {text}", file=sys.stderr, flush=True)
