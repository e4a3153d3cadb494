"""Before any token is checked, a client must not make the server hold memory or a connection
without end: a request head that never ends (431), a body that trickles in (408).

Real uvicorn through `start_server`; every probe is unauthenticated, as another local user's
would be. The end-to-end memory check against agentd is in tests/e2e/test_request_bounds.py.
"""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest

from harness_ls.http.app import create_app
from harness_ls.http.header_timeout import MAX_HEAD_BYTES
from harness_ls.http.server import start_server

TOKEN = "t" * 32


@pytest.fixture
async def strict_server(harness):
    sc = await start_server(create_app(harness, token=TOKEN, body_seconds=0.5), "127.0.0.1", 0)
    yield sc
    await sc.stop()


def _answer(sock: socket.socket, patience: float) -> bytes:
    """Everything the server sends until it closes (or our patience ends)."""
    sock.settimeout(patience)
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return got


def _trickle(port: int, head: bytes, byte: bytes) -> bytes:
    """Send `head`, then `byte` every 0.1 s (at most 30 s) until the server answers or closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        sock.settimeout(0.1)
        got = b""
        for _ in range(300):
            try:
                sock.sendall(byte)
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            got += chunk
            if not chunk or b"\r\n\r\n" in got:
                break
        return got + _answer(sock, 30)


def _status_and_error(raw: bytes) -> tuple[str, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode(), json.loads(body)["error"]


@pytest.mark.parametrize("shape", ["one endless header", "endless header lines"])
async def test_a_request_head_that_never_ends_gets_431_and_the_connection_closes(
    strict_server, shape
):
    def probe() -> tuple[int, bytes]:
        with socket.create_connection(("127.0.0.1", strict_server.port), timeout=30) as sock:
            sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            line = b"a" * 4096 if shape == "one endless header" else b"X-Pad: a\r\n" * 400
            if shape == "one endless header":
                sock.sendall(b"X-Pad: ")
            sent = 0
            try:
                while sent < 64 * MAX_HEAD_BYTES:  # 4 MiB: far past the limit
                    sock.sendall(line)
                    sent += len(line)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return sent, _answer(sock, 30)

    sent, raw = await asyncio.to_thread(probe)
    assert sent < 64 * MAX_HEAD_BYTES, "the server kept reading an endless head"
    status, error = _status_and_error(raw)
    assert status == "HTTP/1.1 431 Request Header Fields Too Large"
    assert error == {
        "code": "header_too_large",
        "message": f"request head exceeds {MAX_HEAD_BYTES} bytes",
    }


async def test_an_ordinary_head_and_a_large_body_are_not_cut(strict_server):
    """The count covers the head only: a 1 MiB body arriving with it is no head."""
    async with httpx.AsyncClient(base_url=strict_server.url, timeout=10) as c:
        big_cookie = {"cookie": "x=" + "c" * 8000}
        r = await c.get("/v1/health", headers={**big_cookie, "authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200
        r = await c.post(
            "/v1/runs",
            content=b'{"workspace": "' + b"w" * (900 * 1024) + b'"}',
            headers={"content-type": "application/json", "authorization": f"Bearer {TOKEN}"},
        )
        assert r.status_code == 422  # validated (no spec), not refused as a head


@pytest.mark.parametrize("encoding", ["content-length", "chunked"])
async def test_a_login_body_that_trickles_in_gets_408_and_the_connection_closes(
    strict_server, encoding
):
    """`/login` is public: no token is needed to start a body. One byte every 0.1 s of a
    declared 8000 used to hold the connection for 800 s (chunked: without end)."""

    def probe() -> bytes:
        framing = (
            b"Content-Length: 8000\r\n"
            if encoding == "content-length"
            else b"Transfer-Encoding: chunked\r\n"
        )
        head = (
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n" + framing + b"\r\n"
        )
        byte = b"a" if encoding == "content-length" else b"1\r\na\r\n"
        return _trickle(strict_server.port, head, byte)

    raw = await asyncio.to_thread(probe)
    assert raw, "no answer while the body trickled in"
    status, error = _status_and_error(raw)
    assert status == "HTTP/1.1 408 Request Timeout"
    assert error["code"] == "request_timeout"
    assert error["message"].startswith("request body did not arrive within 0.5 s (")
    assert b"\r\nconnection: close\r\n" in raw.split(b"\r\n\r\n")[0] + b"\r\n"


async def test_a_login_form_sent_at_once_still_logs_in(strict_server):
    async with httpx.AsyncClient(base_url=strict_server.url, timeout=10) as c:
        r = await c.post("/login", data={"token": TOKEN, "next": "/"})
        assert r.status_code == 303
        assert r.headers["location"] == "./"
        assert "harness_session=" in r.headers["set-cookie"]


async def test_an_upload_that_trickles_in_gets_408(strict_server, workspace):
    """A token holder's multipart upload had no deadline at all: one byte every 0.1 s of a
    declared 20 MiB held a connection and a task for weeks. It now must arrive within 20 body
    deadlines (10 s here, 600 s by default)."""
    auth = {"authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=strict_server.url, timeout=10, headers=auth) as c:
        r = await c.post("/v1/sessions", json={"workspace": str(workspace)})
        assert r.status_code == 201, r.text
        sid = r.json()["id"]

    def probe() -> bytes:
        head = (
            f"POST /v1/sessions/{sid}/attachments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {TOKEN}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n"
            '--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
        )
        return _trickle(strict_server.port, head.encode(), b"a")

    raw = await asyncio.to_thread(probe)
    status, error = _status_and_error(raw)
    assert status == "HTTP/1.1 408 Request Timeout"
    assert error["code"] == "request_timeout"
    assert error["message"] == "upload did not arrive within 10 s"
