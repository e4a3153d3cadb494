"""A private host for `agentctl acp` when no daemon is up: the core in this process, its HTTP app
on an ephemeral loopback port, for exactly as long as this process lives.

An editor (Zed, CodeCompanion, agent-shell) starts `agentctl acp` itself and stops it when the
agent panel closes, so this works like `harness-ls` does for the LSP: one process, nothing left
behind, no daemon to start first. The app is the same one agentd serves, with the same token, and
the endpoint file is written, so the dashboard (`agentctl dashboard`) and `agentctl approve` see
and answer this editor's runs and sessions while it runs. Runs still in flight when the editor
closes end `interrupted` (resumable), as when agentd stops.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class PrivateHost:
    url: str
    token: str
    harness: Any
    server: Any
    endpoint: Path | None

    async def stop(self) -> None:
        from harness_ls.endpoints import remove_endpoint

        remove_endpoint(self.endpoint)
        with contextlib.suppress(Exception):
            await self.server.stop(grace=2.0)
        with contextlib.suppress(Exception):
            await self.harness.close()


async def start_private_host(data_dir: Path, kind: str = "agentctl-acp") -> PrivateHost:
    """The core and its app on 127.0.0.1:<free port>; raises HarnessError when it cannot."""
    from harness_ls.auth_token import host_token
    from harness_ls.config import ensure_data_dir
    from harness_ls.core import Harness
    from harness_ls.endpoints import write_endpoint
    from harness_ls.http.app import create_app
    from harness_ls.http.server import bind_socket, format_url, start_server

    ensure_data_dir(data_dir)
    token, _source = host_token(data_dir)
    sock = bind_socket("127.0.0.1", 0)  # bound before the core starts, as agentd does
    harness = Harness(data_dir)
    await harness.start()
    app = create_app(harness, token=token, kind=kind)
    server = await start_server(app, "127.0.0.1", 0, sock=sock)
    url = format_url("127.0.0.1", server.port)
    endpoint = None
    with contextlib.suppress(OSError):  # without it only other clients lose track of us
        endpoint = write_endpoint(data_dir, url, kind)
    return PrivateHost(url, token, harness, server, endpoint)
