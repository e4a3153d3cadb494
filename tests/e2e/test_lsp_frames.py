"""Broken LSP framing on a real `harness-ls` subprocess: one line on stderr and a non-zero exit
(so the editor restarts the server), never a silent hang and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.helpers import RawLsp, clean_env, frame

BROKEN = {
    "length not a number": (b"Content-Length: abc\r\n\r\n{}", "Content-Length abc"),
    "negative length": (b"Content-Length: -5\r\n\r\n{}", "Content-Length -5"),
    "unicode digit": ("Content-Length: \u00b2\r\n\r\n{}".encode("latin-1"), "not a non-negative"),
    "missing length": (b"Content-Type: application/json\r\n\r\n{}", "without a Content-Length"),
    "lines without headers": (b"hello\r\nworld\r\n\r\n", "not a header line"),
    "body longer than declared": (
        b'Content-Length: 10\r\n\r\n{"jsonrpc": "2.0", "method": "x"}',
        "not JSON",
    ),  # fmt: skip
    "body not json": (frame(b"{not json!!}"), "not JSON"),
    "binary body": (frame(bytes(range(256))), "not JSON"),
    "empty body": (frame(b""), "empty body"),
    "header without CRLF": (b"Content-Length: 2\n\n{}", "CRLF"),
    "endless header line": (b"X" * 10_000, "longer than"),
    "absurd length": (b"Content-Length: 99999999999\r\n\r\n{}", "over the"),
    "two lengths": (b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "two different"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_framing_exits_non_zero_with_one_line(tmp_path: Path, name: str) -> None:
    raw, reason = BROKEN[name]
    ws = tmp_path / "ws"
    ws.mkdir()
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(tmp_path / "data"))
    lsp = RawLsp(ws, env, tmp_path / "logs")
    try:
        lsp.initialize(ws, {"harness": {"sidecar": {"enabled": False}}})
        lsp.send_raw(raw)  # stdin stays open: the server must notice by itself (not hang)
        code = lsp.proc.wait(20)
    finally:
        if lsp.proc.poll() is None:
            lsp.proc.kill()
            lsp.proc.wait(5)
    err = lsp.err.read_text()
    assert code == 1, (code, err[-2000:])
    lines = [ln for ln in err.splitlines() if ln.startswith("harness-ls: malformed LSP input")]
    assert len(lines) == 1 and reason in lines[0], err[-2000:]
    assert "Traceback" not in err and lsp.garbage == []


def test_content_type_and_any_header_case_still_work(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(tmp_path / "data"))
    lsp = RawLsp(ws, env, tmp_path / "logs")
    try:
        lsp.initialize(ws, {"harness": {"sidecar": {"enabled": False}}})
        body = b'{"jsonrpc": "2.0", "id": 5, "method": "workspace/executeCommand", ' \
               b'"params": {"command": "harness.nope", "arguments": []}}'  # fmt: skip
        lsp.send_raw(b"content-length:%d\r\nContent-Type: application/vscode-jsonrpc; "
                     b"charset=utf-8\r\n\r\n" % len(body) + body)  # fmt: skip
        assert "error" in lsp.wait_response(5, 20)
    finally:
        assert lsp.close() == 0


def test_harness_ls_keeps_no_secret_in_its_environment(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    secret = "sk-lsp-SECRET-0a1b2c3d4e5f6a7b8c9d"
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(tmp_path / "data"),
                    OPENAI_API_KEY=secret, HARNESS_AUTH_TOKEN="tok-lsp-SECRET-1234567890")  # fmt: skip
    lsp = RawLsp(ws, env, tmp_path / "logs")
    try:
        lsp.initialize(ws, {"harness": {"sidecar": {"enabled": False}}})
        environ = Path(f"/proc/{lsp.proc.pid}/environ").read_bytes()
    finally:
        assert lsp.close() == 0
    assert b"HARNESS_DATA_DIR=" in environ
    assert b"SECRET" not in environ and b"OPENAI_API_KEY" not in environ
