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
        async with httpx.AsyncClient(base_url=sc.url) as c:
            h = (await c.get("/v1/health")).json()
        assert h["kind"] == "harness-ls"
    finally:
        await sc.stop()
    await sc.stop()  # idempotent


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
async def test_sidecar_refuses_non_loopback_without_a_token(harness, host):
    with pytest.raises(BindError, match="without a token"):
        await start_sidecar(harness, host, 0)


async def test_sidecar_with_token_requires_it(harness):
    sc = await start_sidecar(harness, "127.0.0.1", 0, token="x" * 32)
    try:
        async with httpx.AsyncClient(base_url=sc.url) as c:
            assert (await c.get("/v1/runs")).status_code == 401
            ok = await c.get("/v1/runs", headers={"Authorization": "Bearer " + "x" * 32})
            assert ok.status_code == 200
    finally:
        await sc.stop()
