"""agentd as a subprocess: no config needed, prints the URL, endpoint file, signals, bad starts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harness_ls.http import agentd
from harness_ls.trust import trust_config

AGENTD = [sys.executable, "-m", "harness_ls.http.agentd"]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")}
    return {**keep, "HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1", **extra}


def start(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [*AGENTD, *args], cwd=tmp_path, env=env or clean_env(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_url(proc: subprocess.Popen, within: float = 20) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "dashboard at" in line:
            return line.split("dashboard at ", 1)[1].split()[0].rstrip("/")
        if proc.poll() is not None:
            raise AssertionError(f"agentd exited {proc.returncode}: {proc.stderr.read()}")
    raise AssertionError("agentd did not print its URL")


def test_starts_with_no_config_writes_endpoint_and_stops_cleanly(tmp_path):
    """No config: a token is generated into the data dir, and auth is on."""
    data = tmp_path / "data"
    proc = start(tmp_path, "--listen", "127.0.0.1:0", "--data-dir", str(data))
    try:
        url = wait_url(proc)
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/v1/health").status_code == 401
        token = (data / "auth" / "token").read_text().strip()
        auth = {"authorization": f"Bearer {token}"}
        health = httpx.get(url + "/v1/health", headers=auth).json()
        assert health["kind"] == "agentd" and health["pid"] == proc.pid and health["auth"]
        endpoint = data / "endpoints" / f"{proc.pid}.json"
        info = json.loads(endpoint.read_text())
        assert info["url"] == url and info["pid"] == proc.pid and info["kind"] == "agentd"
        assert info["started_at"].endswith("Z")
        assert "token" not in endpoint.read_text().lower()
        assert httpx.get(url + "/", headers=auth).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert not endpoint.exists()
    finally:
        proc.kill()


def test_sigint_is_graceful_too(tmp_path):
    proc = start(tmp_path, "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"))
    try:
        wait_url(proc)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        proc.kill()


def test_busy_port_is_one_line_and_exit_2(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        out = subprocess.run([*AGENTD, "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path / "d")],
                             cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, timeout=30)  # fmt: skip
    finally:
        s.close()
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "already in use" in lines[0] and lines[0].startswith("agentd:")
    assert not (tmp_path / "d" / "endpoints").exists() or not list(
        (tmp_path / "d" / "endpoints").iterdir()
    )


@pytest.mark.parametrize("listen", ["0.0.0.0:0", "[::]:0", "192.168.1.20:8787"])
def test_non_loopback_without_auth_is_refused(tmp_path, listen, capsys, monkeypatch):
    """--no-auth off loopback is refused before anything is bound or created (in-process)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HARNESS_AUTH_TOKEN", raising=False)
    assert agentd.main(["--listen", listen, "--no-auth", "--data-dir", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert "--no-auth is only allowed on a loopback address" in err and "remote-cockpit" in err
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--listen", "127.0.0.1:99999"], "port must be"),
        (["--listen", "localhost:abc"], "port must be"),
        (["--listen", "[::1"], "expected [ipv6]:port"),
        (["--token-file", "missing.txt"], "cannot read the token"),
    ],
)
def test_bad_flags_are_one_clear_line(tmp_path, args, needle, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert agentd.main([*args, "--data-dir", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and err[0].startswith("agentd: ")


def test_listen_forms():
    assert agentd.parse_listen("127.0.0.1:8787") == ("127.0.0.1", 8787)
    assert agentd.parse_listen(":0") == ("127.0.0.1", 0)
    assert agentd.parse_listen("9000") == ("127.0.0.1", 9000)
    assert agentd.parse_listen("[::1]:8787") == ("::1", 8787)


def test_token_from_env_local_file_and_token_file(tmp_path):
    """The daemon's token from a .env.local counts only once the user trusted that file: a
    cloned repository must not choose who may drive the daemon (harness_ls/trust.py)."""
    (tmp_path / ".env.local").write_text("HARNESS_AUTH_TOKEN=from-env-local-0123456789\n")
    proc = start(tmp_path, "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"))
    try:
        url = wait_url(proc)
        known = {"Authorization": "Bearer from-env-local-0123456789"}
        assert httpx.get(url + "/v1/health", headers=known).status_code == 401
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "is not trusted" in err and "HARNESS_AUTH_TOKEN" in err
    trust_config(tmp_path / "d", tmp_path, ".env.local")
    proc = start(tmp_path, "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"))
    try:
        url = wait_url(proc)
        assert httpx.get(url + "/v1/health").status_code == 401
        ok = httpx.get(
            url + "/v1/health", headers={"Authorization": "Bearer from-env-local-0123456789"}
        )
        assert ok.status_code == 200 and ok.json()["auth"] is True
    finally:
        proc.terminate()
        proc.wait(10)
    tf = tmp_path / "token.txt"
    tf.write_text("from-file-abcdefghijklmnop\n")
    tf.chmod(0o600)
    proc = start(
        tmp_path,
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        str(tmp_path / "d"),
        "--token-file",
        str(tf),
    )
    try:
        url = wait_url(proc)
        ok = httpx.get(
            url + "/v1/health", headers={"Authorization": "Bearer from-file-abcdefghijklmnop"}
        )
        assert ok.status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)
