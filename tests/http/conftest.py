"""Fixtures: a real Harness on a temp data dir, served by real uvicorn on an ephemeral port."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from harness_ls.http.app import create_app
from harness_ls.http.server import Sidecar, start_server

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A real git repo with a valid spec."""
    ws = tmp_path / "ws"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    subprocess.run(["git", "-C", str(ws), "config", "user.email", "t@example.com"], check=True)
    subprocess.run(["git", "-C", str(ws), "config", "user.name", "t"], check=True)
    spec = ws / "specs" / "hello" / "spec.md"
    spec.parent.mkdir(parents=True)
    spec.write_text(
        "# Goal\n\nWrite hello.txt containing hi.\n\n# Constraints / nuances\n\n- Keep it small.\n\n"
        "# Acceptance tests\n\n- `test -f hello.txt`\n"
    )
    (ws / "README.md").write_text("demo\n")
    subprocess.run(["git", "-C", str(ws), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(ws), "commit", "-qm", "init"], check=True)
    return ws


@pytest.fixture
async def harness(tmp_path: Path):
    from harness_ls.core import Harness

    h = Harness(tmp_path / "data")
    await h.start()
    yield h
    await h.close()


@pytest.fixture
async def serve(harness):
    """Factory: `await serve(token=..., allowed_hosts=...)` → a running Sidecar."""
    running: list[Sidecar] = []

    async def make(**kw) -> Sidecar:
        kw.setdefault("keepalive", 0.2)
        app = create_app(harness, **kw)
        sc = await start_server(app, "127.0.0.1", 0, graceful_timeout=1.0)
        running.append(sc)
        return sc

    yield make
    for sc in running:
        await sc.stop()


@pytest.fixture
async def server(serve):
    return await serve()


@pytest.fixture
async def client(server):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as c:
        yield c
