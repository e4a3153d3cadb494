"""A raw JSON-RPC client for `harness-ls` over stdio, for benchmarks: no client library in the
measurement, just framing. A reader thread timestamps every message as it arrives."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any


class RawLspClient:
    def __init__(self, cmd: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        self.inbox: queue.Queue[tuple[float, dict[str, Any]]] = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = 0
            while True:
                line = out.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = out.read(length)
            if len(body) < length:  # the server was killed mid-message
                return
            self.inbox.put((time.perf_counter(), json.loads(body)))

    def _write(self, msg: dict[str, Any]) -> None:
        body = json.dumps(msg).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.proc.stdin.flush()

    def send(self, method: str, params: Any = None, *, request: bool = False) -> int | None:
        msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        rid = None
        if request:
            self.next_id += 1
            rid = msg["id"] = self.next_id
        self._write(msg)
        return rid

    def request(self, method: str, params: Any = None, timeout: float = 60) -> dict[str, Any]:
        rid = self.send(method, params, request=True)
        return self.wait(lambda m: m.get("id") == rid and "method" not in m, timeout)[1]

    def wait(
        self, pred: Callable[[dict[str, Any]], bool], timeout: float = 60
    ) -> tuple[float, dict[str, Any]]:
        """The next message matching `pred` and its perf_counter arrival time; server requests
        met on the way (progress create, lens refresh) are answered with null."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                t, msg = self.inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            if "id" in msg and "method" in msg:
                self._write({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            if pred(msg):
                return t, msg
        raise TimeoutError("no matching message from harness-ls")

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
