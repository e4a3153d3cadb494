"""A real agentd against clients that send no token and never finish a request head.

httptools sets no limit on a head's size and the token is checked only once the head is parsed,
so any local process could stream header lines at agentd for the 10 s the header timer allows:
on eafb02f one connection doing that for 8 s grew agentd from 49 MB to 950 MB, and nothing
limits the number of connections. Now each connection gets a 431 past 64 KiB of head.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path

from harness_ls.http.header_timeout import MAX_IDLE
from tests.e2e.helpers import Api, clean_env, make_repo, start_agentd, wait_for

TOKEN = "tok-e2e-request-bounds-7c6b5a49382716"
PER_CONNECTION = 32 << 20  # what each connection tries to send: 32 MiB of header lines


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the peak: a growth that was freed again still counts
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _stream_headers(port: int, out: list[tuple[int, bytes]]) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        lines = b"".join(b"X-%d: a\r\n" % i for i in range(8000))
        sent = 0
        try:
            while sent < PER_CONNECTION:
                sock.sendall(lines)
                sent += len(lines)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(30)
        got = b""
        try:
            while chunk := sock.recv(65536):
                got += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        out.append((sent, got.split(b"\r\n", 1)[0]))


def test_endless_request_heads_without_a_token_neither_grow_agentd_nor_stop_it(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=TOKEN)
    daemon = start_agentd(tmp_path, data, env=env)
    try:
        port = int(daemon.url.rsplit(":", 1)[1])
        api = Api(daemon.url, TOKEN)
        assert api.get("/v1/health")["pid"] == daemon.proc.pid
        before = _rss_kib(daemon.proc.pid)
        results: list[tuple[int, bytes]] = []
        threads = [threading.Thread(target=_stream_headers, args=(port, results)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert len(results) == 4
        for sent, status in results:
            assert sent < PER_CONNECTION, "agentd kept reading an endless head"
            assert status == b"HTTP/1.1 431 Request Header Fields Too Large"
        grown_mib = (_rss_kib(daemon.proc.pid) - before) // 1024
        assert grown_mib < 64, f"agentd grew by {grown_mib} MiB"
        assert api.get("/v1/health")["pid"] == daemon.proc.pid  # still serving its owner
        api.close()
    finally:
        daemon.stop()


HOLDER = """
import socket, sys, time
socks = []
for _ in range(int(sys.argv[2])):
    try:
        socks.append(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
    except OSError:
        break
print(len(socks), flush=True)
time.sleep(300)
"""


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_a_flood_of_idle_connections_cannot_take_agentds_descriptors(tmp_path: Path) -> None:
    """Two local processes connect 10,500 times each and send nothing: on eafb02f agentd reached
    its 20,000 descriptors (accept failed with EMFILE, and so would every file a run opens)."""
    data = tmp_path / "data"
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=TOKEN)
    daemon = start_agentd(tmp_path, data, env=env)
    holders: list[subprocess.Popen] = []
    try:
        port = daemon.url.rsplit(":", 1)[1]
        api = Api(daemon.url, TOKEN)
        session = api.post("/v1/sessions", {"workspace": str(make_repo(tmp_path / "ws"))})
        stream = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
        stream.sendall(
            f"GET /v1/sessions/{session['id']}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {TOKEN}\r\n\r\n".encode()
        )
        assert stream.recv(65536).startswith(b"HTTP/1.1 200 OK")
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        per_holder = min(10_500, limit - 100)
        for _ in range(2):
            holders.append(subprocess.Popen(
                [sys.executable, "-c", HOLDER, port, str(per_holder)],
                stdout=subprocess.PIPE, text=True,
            ))  # fmt: skip
        held = [int(h.stdout.readline()) for h in holders if h.stdout is not None]
        assert sum(held) > MAX_IDLE * 4, held  # the flood happened
        peak = max(_fds(daemon.proc.pid) for _ in range(40))
        assert peak < MAX_IDLE + 200, f"agentd holds {peak} descriptors"
        assert api.get("/v1/health")["pid"] == daemon.proc.pid  # the owner still gets in
        stream.setblocking(False)
        try:
            assert stream.recv(65536) != b"", "the owner's event stream was closed"
        except BlockingIOError:
            pass  # open, nothing new: the stream was not taken for an idle connection
        stream.close()
        api.close()
    finally:
        for h in holders:
            h.kill()
            h.wait(10)
        daemon.stop()


def _closed(sock: socket.socket) -> bool:
    try:
        while sock.recv(1 << 20):
            pass  # answers sent before the close
        return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def test_pipelined_requests_whose_answers_are_never_read_cannot_grow_agentd(
    tmp_path: Path,
) -> None:
    """20 connections each pipeline GETs (no token) and never read an answer: on eafb02f
    httptools queued every request of each read and agentd grew by 1.5 GB in 18 s, and on."""
    data = tmp_path / "data"
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=TOKEN)
    daemon = start_agentd(tmp_path, data, env=env)
    socks: list[socket.socket] = []
    try:
        port = int(daemon.url.rsplit(":", 1)[1])
        before = _rss_kib(daemon.proc.pid)
        burst = b"GET /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 1000
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setblocking(False)
            try:
                for _ in range(100):  # up to 3.8 MiB, as far as the buffers take it
                    sock.send(burst)
            except (BlockingIOError, ConnectionResetError, BrokenPipeError):
                pass
            socks.append(sock)
        wait_for(lambda: all(_closed(s) for s in socks), 60, what="agentd to drop them all")
        grown_mib = (_rss_kib(daemon.proc.pid) - before) // 1024
        assert grown_mib < 100, f"agentd grew by {grown_mib} MiB"
        api = Api(daemon.url, TOKEN)
        assert api.get("/v1/health")["pid"] == daemon.proc.pid
        api.close()
    finally:
        for s in socks:
            s.close()
        daemon.stop()
