"""attach resumes after a dropped connection (Last-Event-ID), and prompts in a real terminal."""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import threading
import time
from urllib.parse import urlparse

import httpx

from tests.cli.conftest import AGENTCTL, DOCS, DONE, PLAN, WRITE, ok, script
from tests.cli.test_runs import Lines


class DroppingProxy:
    """A loopback TCP proxy whose open connections the test can cut at any moment."""

    def __init__(self, upstream: str) -> None:
        u = urlparse(upstream)
        self.upstream = (u.hostname, u.port)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.open: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self.accepted += 1
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def drop_all(self) -> None:
        for s in self.open:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.open.clear()

    def close(self) -> None:
        self.drop_all()
        self.sock.close()


def start_run(daemon, workspace, tmp_path) -> str:
    model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
    out = ok(daemon.cli("run", "--spec", "specs/greet/spec.md", "--model", model, cwd=workspace))
    return out.stdout.strip()


def test_attach_resumes_after_the_connection_drops(daemon, workspace, tmp_path):
    run_id = start_run(daemon, workspace, tmp_path)
    proxy = DroppingProxy(daemon.url)
    try:
        attach = Lines(
            daemon.popen("--url", proxy.url, "attach", "--no-input", run_id, cwd=workspace)
        )
        attach.wait_for("approval needed")
        connections = proxy.accepted
        proxy.drop_all()
        approval = daemon.wait_approval(run_id)
        httpx.post(f"{daemon.url}/v1/runs/{run_id}/approvals/{approval['id']}",
                   json={"decision": "approve"}, timeout=10).raise_for_status()  # fmt: skip
        code, out, err = attach.finish()
    finally:
        proxy.close()
    assert code == 0, out + err
    assert proxy.accepted > connections and "resuming after event" in err
    assert out.count("approval needed") == 1 and out.count("run completed") == 1
    assert (
        out.count("Write hello into greet.txt") == 2
    )  # the plan line and the step line, once each


def test_interactive_prompt_in_a_terminal_approves(daemon, workspace, tmp_path):
    run_id = start_run(daemon, workspace, tmp_path)
    master, slave = pty.openpty()
    env = daemon.env(TERM="xterm")
    proc = subprocess.Popen([*AGENTCTL, "attach", run_id], cwd=workspace, env=env, stdin=slave,
                            stdout=slave, stderr=slave, close_fds=True)  # fmt: skip
    os.close(slave)
    seen = b""

    def read_until(needle: bytes, within: float = 30) -> None:
        nonlocal seen
        deadline = time.monotonic() + within
        while needle not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        assert needle in seen, seen.decode(errors="replace")

    try:
        read_until(b"[y]es")
        os.write(master, b"y\n")
        read_until(b"run completed")
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        os.close(master)
    text = seen.decode(errors="replace")
    assert "\x1b[" in text  # a terminal gets colors
    assert "approved by cli" in text
