"""`agentctl acp`: speak the Agent Client Protocol on stdio for an editor (Zed `agent_servers`,
JetBrains, Neovim and Emacs ACP clients), over the daemon's HTTP API. stdout carries ACP frames
only; notes go to stderr."""

from __future__ import annotations

import asyncio
import json
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
        self.http = httpx.AsyncClient(
            base_url=url, headers=headers, timeout=httpx.Timeout(60.0, connect=5.0)
        )

    async def get(self, path: str) -> Any:
        return _json(await self.http.get(path))

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return _json(await self.http.post(path, json=body or {}))

    async def events(self, path: str, after: int) -> AsyncIterator[dict[str, Any]]:
        from harness_ls.http.sse_client import iter_sse

        timeout = httpx.Timeout(None, connect=5.0)
        params = {"after": after} if after else None
        async with self.http.stream("GET", path, params=params, timeout=timeout) as resp:
            if resp.status_code >= 400:
                raise ApiError(resp.status_code, (await resp.aread()).decode(errors="replace"))
            async for msg in iter_sse(resp):
                if msg.data:
                    yield json.loads(msg.data)

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
    from acp import run_agent

    from harness_ls import __version__

    target = app.target()
    print(f"agentctl acp: using {target.url} ({target.source})", file=sys.stderr)

    async def main() -> None:
        api = HttpApi(target.url, app.token)
        try:
            await run_agent(HarnessAcpAgent(api, __version__))
        finally:
            await api.aclose()

    asyncio.run(main())
    return 0
