"""stdout of `harness-ls` carries LSP frames only: read the raw stream and fail on stray bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time


def frame(obj: dict) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def parse_frames(raw: bytes) -> list[dict]:
    """Strict parser: headers then exactly Content-Length bytes; anything else is an error."""
    out, pos = [], 0
    while pos < len(raw):
        end = raw.find(b"\r\n\r\n", pos)
        assert end != -1, f"stray bytes on stdout: {raw[pos : pos + 80]!r}"
        headers = raw[pos:end].decode("ascii").split("\r\n")
        length = None
        for h in headers:
            name, _, value = h.partition(": ")
            assert name in ("Content-Length", "Content-Type"), f"unexpected header/bytes: {h!r}"
            if name == "Content-Length":
                length = int(value)
        assert length is not None
        body = raw[end + 4 : end + 4 + length]
        assert len(body) == length
        out.append(json.loads(body))
        pos = end + 4 + length
    return out


def test_stdout_has_only_frames_even_with_garbage_input(tmp_path):
    root = tmp_path
    (root / "specs" / "x").mkdir(parents=True)
    uri = (root / "specs" / "x" / "spec.md").as_uri()
    msgs = [
        frame(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"capabilities": {}, "rootUri": root.as_uri()},
            }
        ),
        frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
        # malformed JSON-RPC in a good frame (a body that is not JSON ends the server on purpose:
        # tests/e2e/test_lsp_frames.py)
        b'Content-Length: 41\r\n\r\n{"jsonrpc": "2.0", "id": {}, "method": 5}',
        frame(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": uri,
                        "languageId": "markdown",
                        "version": 1,
                        "text": "# Goal\n",
                    }
                },
            }
        ),
        frame({"jsonrpc": "2.0", "id": 2, "method": "no/suchMethod", "params": {}}),
        frame(
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "textDocument/hover",
                "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}},
            }
        ),
        frame({"jsonrpc": "2.0", "id": 4, "method": "shutdown"}),
        frame({"jsonrpc": "2.0", "method": "exit"}),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness_ls"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    chunks: list[bytes] = []
    reader = threading.Thread(
        target=lambda: chunks.extend(iter(lambda: proc.stdout.read1(65536), b"")), daemon=True
    )
    reader.start()
    *before_exit, exit_msg = msgs
    for m in before_exit:
        proc.stdin.write(m)
        proc.stdin.flush()
        time.sleep(0.05)
    deadline = time.time() + 30  # a client sends `exit` only after the shutdown response
    while (
        b'"id": 4' not in b"".join(chunks)
        and b'"id":4' not in b"".join(chunks)
        and time.time() < deadline
    ):
        time.sleep(0.05)
    proc.stdin.write(exit_msg)
    proc.stdin.close()
    proc.wait(timeout=30)
    reader.join(timeout=10)
    out, err = b"".join(chunks), proc.stderr.read()
    frames = parse_frames(out)
    ids = {f.get("id") for f in frames if "id" in f}
    assert {1, 2, 3, 4} <= ids, (ids, err[-2000:])
    assert any(f.get("method") == "textDocument/publishDiagnostics" for f in frames)
    assert b"Traceback" not in out


def test_stdin_is_private_too_fd_0_reads_dev_null(tmp_path):
    """LSP input moves to a private descriptor: anything the server starts that reads fd 0 gets
    end of input, never the editor's next message."""
    from harness_ls.testing.lsp_client import RawLspClient

    client = RawLspClient([sys.executable, "-m", "harness_ls"])
    try:
        client.request(
            "initialize",
            {
                "processId": None,
                "rootUri": tmp_path.as_uri(),
                "capabilities": {},
                "initializationOptions": {"harness": {"sidecar": {"enabled": False}}},
            },
        )
        fd0 = os.readlink(f"/proc/{client.proc.pid}/fd/0")
        pipes = [
            os.readlink(f"/proc/{client.proc.pid}/fd/{fd}")
            for fd in os.listdir(f"/proc/{client.proc.pid}/fd")
        ]
    finally:
        client.kill()
    assert fd0 == "/dev/null"
    assert any(p.startswith("pipe:") for p in pipes)  # the input, on its private descriptor


def test_a_person_at_a_terminal_is_told_what_this_is_on_stderr():
    """`harness-ls` typed in a terminal waited silently, and a line typed into it ended with
    "malformed LSP input from the client": now a note on stderr says what it is and what to run.
    An editor (stdin a pipe) gets no note; stdout stays frames only either way."""
    import pty

    from harness_ls.lsp.main import TTY_NOTE

    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "harness_ls"], stdin=terminal,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    os.close(terminal)
    try:
        assert proc.stderr.readline().decode().rstrip("\n") == TTY_NOTE
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        os.close(controller)
    assert out == b""
    piped = subprocess.run([sys.executable, "-m", "harness_ls"], input=b"", capture_output=True,
                           timeout=60)  # fmt: skip
    assert TTY_NOTE.encode() not in piped.stderr and piped.stdout == b""
