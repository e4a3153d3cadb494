"""Starting the app: bind failures are reported (never sys.exit), sidecar port fallback, refusal."""

from __future__ import annotations

import socket

import httpx
import pytest

from harness_ls.http.app import create_app
from harness_ls.http.server import BindError, start_server, start_sidecar


@pytest.fixture
def busy_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    yield s.getsockname()[1]
    s.close()


async def test_busy_port_is_a_bind_error_not_an_exit(harness, busy_port):
    with pytest.raises(BindError, match="already in use") as exc:
        await start_server(create_app(harness), "127.0.0.1", busy_port)
    assert exc.value.hint and "--listen" in exc.value.hint


async def test_sidecar_falls_back_to_an_ephemeral_port(harness, busy_port):
    sc = await start_sidecar(harness, "127.0.0.1", busy_port)
    try:
        assert sc.fell_back and sc.port != busy_port
        token = (harness.data_dir / "auth" / "token").read_text().strip()
        async with httpx.AsyncClient(base_url=sc.url) as c:
            h = (await c.get("/v1/health", headers={"authorization": f"Bearer {token}"})).json()
        assert h["kind"] == "harness-ls"
    finally:
        await sc.stop()
    await sc.stop()  # idempotent


async def test_sidecar_without_a_token_uses_the_data_dirs_token(harness, monkeypatch):
    """Auth is always on: no token given and no HARNESS_AUTH_TOKEN → the generated 0600 file."""
    monkeypatch.delenv("HARNESS_AUTH_TOKEN", raising=False)
    sc = await start_sidecar(harness, "127.0.0.1", 0)
    try:
        path = harness.data_dir / "auth" / "token"
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.parent.stat().st_mode & 0o777 == 0o700
        token = path.read_text().strip()
        assert len(token) >= 40
        async with httpx.AsyncClient(base_url=sc.url) as c:
            assert (await c.get("/v1/runs")).status_code == 401
            ok = await c.get("/v1/runs", headers={"authorization": f"Bearer {token}"})
            assert ok.status_code == 200
    finally:
        await sc.stop()


async def test_sidecar_with_token_requires_it(harness):
    sc = await start_sidecar(harness, "127.0.0.1", 0, token="x" * 32)
    try:
        async with httpx.AsyncClient(base_url=sc.url) as c:
            assert (await c.get("/v1/runs")).status_code == 401
            ok = await c.get("/v1/runs", headers={"Authorization": "Bearer " + "x" * 32})
            assert ok.status_code == 200
    finally:
        await sc.stop()
