"""Hostile HTTP input on real uvicorn: deep JSON, odd Last-Event-ID values, half-open sockets.

Each gets a clear 4xx (or the connection is dropped), never a 500 and never a hung socket.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from harness_ls.http.api import MAX_JSON_DEPTH
from harness_ls.http.app import create_app
from harness_ls.http.server import start_server


def _nested(depth: int) -> bytes:
    return b'{"workspace": "w", "spec": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000, 300_000])
async def test_deeply_nested_json_is_422(client, depth):
    r = await client.post(
        "/v1/runs", content=_nested(depth), headers={"content-type": "application/json"}
    )
    assert r.status_code == 422, (depth, r.status_code, r.text[:300])
    assert f"nested more than {MAX_JSON_DEPTH} levels" in r.json()["error"]["message"]


async def test_shallow_json_still_gets_its_normal_validation(client):
    r = await client.post(
        "/v1/runs", content=_nested(3), headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and "nested" not in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "value",
    ["\xb2", "1\xb9", "9" * 5000, str(2**64), str(2**63), "-1", "1e3", "0x10", "12 13", "+5"],
)
async def test_odd_last_event_ids_are_422_not_500(client, workspace, value):
    s = (await client.post("/v1/sessions", json={"workspace": str(workspace)})).json()
    r = await client.get(
        f"/v1/sessions/{s['id']}/events",
        headers={"Last-Event-ID": value.encode("latin-1")},
        params={"follow": "false"},
    )
    assert r.status_code == 422, (value[:20], r.status_code, r.text[:300])
    assert "Last-Event-ID" in r.json()["error"]["message"]
    assert len(r.json()["error"]["message"]) < 200  # a 5000-digit value is not echoed whole


async def test_a_large_but_valid_last_event_id_is_accepted(client, workspace):
    s = (await client.post("/v1/sessions", json={"workspace": str(workspace)})).json()
    r = await client.get(
        f"/v1/sessions/{s['id']}/events",
        headers={"Last-Event-ID": str(2**63 - 1)},
        params={"follow": "false"},
    )
    assert r.status_code == 200


@pytest.fixture
async def slow_server(harness):
    sc = await start_server(create_app(harness), "127.0.0.1", 0, header_timeout=0.5)
    yield sc
    await sc.stop()


def _closed_by_server(sock: socket.socket, patience: float) -> bool:
    """True when the server closed the connection (recv returns b"" or resets) before our own
    patience ran out: with a 0.5 s header timeout, 30 s of patience only separates "the server
    drops it" from "the server keeps it forever", whatever the load."""
    sock.settimeout(patience)
    try:
        while True:
            if sock.recv(4096) == b"":
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.mark.parametrize(
    "sent", [b"", b"GET /v1/health HT", b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"]
)
async def test_half_open_connections_are_dropped(slow_server, sent):
    def probe() -> bool:
        with socket.create_connection(("127.0.0.1", slow_server.port), timeout=5) as sock:
            if sent:
                sock.sendall(sent)
            return _closed_by_server(sock, 30)

    closed = await asyncio.to_thread(probe)
    assert closed is True, f"connection still open after sending {sent!r}"


async def test_keep_alive_connection_sending_half_a_second_request_is_dropped(slow_server):
    def probe() -> tuple[bytes, bool]:
        with socket.create_connection(("127.0.0.1", slow_server.port), timeout=5) as sock:
            sock.sendall(b"GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            first = sock.recv(65536)
            sock.sendall(b"GET /nope HT")
            return first, _closed_by_server(sock, 30)

    first, closed = await asyncio.to_thread(probe)
    assert first.startswith(b"HTTP/1.1 ")  # the first request was answered
    assert closed is True


async def test_a_slow_but_complete_request_and_a_long_stream_are_not_cut(slow_server, harness):
    def probe() -> bytes:
        with socket.create_connection(("127.0.0.1", slow_server.port), timeout=5) as sock:
            for part in (b"GET /nope HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"):
                sock.sendall(part)
                time.sleep(0.2)  # each piece in time, the whole head within the timeout
            return sock.recv(65536)

    answer = await asyncio.to_thread(probe)
    assert answer.startswith(b"HTTP/1.1 ")
