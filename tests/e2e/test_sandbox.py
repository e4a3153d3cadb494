"""The sandbox and secrets end to end: a real agentd (token + provider key in its environment), the
fake OpenAI server as the model, and a model that tries what a hostile one would — read the
daemon's environment (plain, base64, hex), write outside the workspace, reach the network, leave
a `setsid` child behind. Nothing of the secrets may reach the event log, an export, agentd's output
or the model's context (the fake server records every request body).
"""

from __future__ import annotations

import base64
import io
import json
import socket
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import SPEC, Api, clean_env, make_repo, queue, start_agentd, start_fake

needs_bwrap = pytest.mark.usefixtures("require_bwrap")  # a failure under CI / make test

TOKEN = "tok-sandbox-SECRET-5e4d3c2b1a0f9e8d7c6b"
API_KEY = "sk-sandbox-PROVIDERKEY-1f2e3d4c5b6a79880716"
SECRETS = (TOKEN, API_KEY)
MODEL = "openai:gpt-4.1-mini"
SLEEP = "sleep 317"  # a duration no other test uses: found by `pgrep -f` if it survived


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    root = tmp_path_factory.mktemp("sbx")
    fake = start_fake(root, default={"text": "ok"})
    data = root / "data"
    env = clean_env(root / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=TOKEN,
                    OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=fake.url)  # fmt: skip
    d = start_agentd(root, data, env=env)
    d.extra.update(root=root, data=data, fake=fake)
    yield d
    d.stop()
    fake.stop()


def _forms(secret: str) -> list[str]:
    """The secret, hex, and 12-character windows of its base64 (std and urlsafe) at every byte
    alignment — computed here, independently of the masking code under test."""
    raw = secret.encode()
    out = [secret, raw.hex(), raw.hex().upper()]
    for pad in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            text = enc(b"\0" * pad + raw).decode()
            out.append(text[4:16])  # well inside the secret's bytes at any alignment
    return out


def _leaked(blob: bytes | str) -> list[str]:
    """Which secret can be read in `blob`, plainly or encoded (wrapping and JSON escapes ignored)."""
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    squeezed = "".join(text.replace("\\n", "").split())
    return [s for s in SECRETS if any(f in squeezed for f in _forms(s))]


def _run(daemon, ws: Path, commands: list[str]) -> list[dict]:
    fake_url = daemon.extra["fake"].url
    calls = [{"name": "shell", "arguments": {"command": c}} for c in commands]
    queue(fake_url, {"text": '{"steps": [{"title": "Probe"}]}'}, {"tool_calls": calls},
          {"text": "done"}, {"text": "no docs"})  # fmt: skip
    api = Api(daemon.url, TOKEN)
    rid = api.start_run(ws, MODEL)["id"]
    final = api.wait_status(rid, 90, approve=True)
    evs = api.events(rid)
    api.close()
    assert final["status"] in ("completed", "failed"), final
    results = [
        e["data"] for e in evs if e["type"] == "tool.result" and e["data"]["name"] == "shell"
    ]
    assert len(results) == len(commands), [e["type"] for e in evs]
    return results


@needs_bwrap
def test_the_daemon_keeps_no_secret_in_its_environment(daemon):
    environ = Path(f"/proc/{daemon.proc.pid}/environ").read_bytes()
    assert b"HARNESS_DATA_DIR=" in environ  # the right process, and ordinary variables stay
    assert not _leaked(environ)


@needs_bwrap
def test_a_hostile_model_is_contained(daemon, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    spec = SPEC.replace("- `grep -qx hello greet.txt`",
                        f"- `touch {outside}/from-acceptance; grep -qx hello greet.txt`")  # fmt: skip
    ws = make_repo(tmp_path / "ws", spec)
    (ws / ".env.local").write_text(f"OPENAI_API_KEY={API_KEY}\n")  # a key the user keeps here
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        env_dump, escape, net, child, local = _run(daemon, ws, [
            "base64 -w0 /proc/$PPID/environ; echo; xxd -p /proc/1/environ; env; echo read-env",
            f"echo pwned > {outside}/escaped.txt; touch ~/pwned; echo rc=$?",
            f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected",
            f"setsid {SLEEP} > /dev/null 2>&1 & nohup {SLEEP} > /dev/null 2>&1 & echo spawned",
            "base64 -w0 .env.local; echo; xxd -p .env.local; cat .env.local",
        ])  # fmt: skip
    finally:
        listener.close()
    assert "read-env" in env_dump["output"] and "PATH=" in env_dump["output"]
    # the host's /tmp and $HOME are empty tmpfs inside: the writes land there and vanish
    assert "rc=0" in escape["output"] and not (daemon.extra["root"] / "home" / "pwned").exists()
    assert sorted(p.name for p in outside.iterdir()) == []  # the acceptance test was boxed too
    assert not net["ok"] and "connected" not in net["output"], net
    assert "spawned" in child["output"]
    survivors = subprocess.run(["pgrep", "-f", SLEEP], capture_output=True, text=True).stdout
    assert survivors == "", f"a setsid child outlived the call: {survivors}"
    assert "****" in local["output"]  # the key read from the workspace, masked in every form
    for result in (env_dump, local):
        assert not _leaked(result["output"]), result["output"][:2000]
    _assert_nothing_leaked(daemon)


@needs_bwrap
def test_network_when_the_user_policy_allows_it(daemon, tmp_path):
    ws = make_repo(tmp_path / "ws")
    policy = daemon.extra["data"] / "policy.toml"
    policy.write_text("network = true\n")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        (net,) = _run(daemon, ws, [f"exec 3<>/dev/tcp/127.0.0.1/{port} && echo connected"])
    finally:
        listener.close()
        policy.unlink()
    assert net["ok"] and "connected" in net["output"], net


@needs_bwrap
def test_a_workspace_policy_cannot_turn_the_sandbox_off(daemon, tmp_path):
    ws = make_repo(tmp_path / "ws")
    (ws / ".harness").mkdir()
    (ws / ".harness" / "policy.toml").write_text('sandbox = "off"\nnetwork = true\n')
    (escape,) = _run(daemon, ws, [f"echo pwned > {tmp_path}/escaped.txt; echo pwned > /etc/x"])
    assert "Read-only file system" in escape["output"] and not (tmp_path / "escaped.txt").exists()
    api = Api(daemon.url, TOKEN)
    run = api.get("/v1/runs")[0]
    warnings = [e["data"] for e in api.events(run["id"]) if e["type"] == "log"]
    api.close()
    assert {w["code"] for w in warnings} >= {"sandbox.widening_ignored"}, warnings


def _assert_nothing_leaked(daemon):
    """The event logs and artifacts, every export, agentd's output and every model request."""
    leaks = []
    api = Api(daemon.url, TOKEN)
    for run in api.get("/v1/runs"):
        r = api.c.get(f"/v1/runs/{run['id']}/export")
        assert r.status_code == 200
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            leaks += [(f"zip:{n}", s) for n in zf.namelist() for s in _leaked(zf.read(n))]
    api.close()
    for p in daemon.extra["data"].rglob("*"):
        if p.is_file():
            leaks += [(str(p), s) for s in _leaked(p.read_bytes())]
    leaks += [("agentd output", s) for s in _leaked(daemon.stdout() + daemon.stderr())]
    base = daemon.extra["fake"].url.removesuffix("/v1")
    seen = httpx.get(f"{base}/_fake/requests", timeout=10).json()
    assert seen, "the model server was used"
    for body in seen:  # the provider key goes in the Authorization header, never in a body
        leaks += [("model request body", s) for s in _leaked(json.dumps(body))]
    assert not leaks, leaks


def test_without_a_sandbox_the_run_says_so_once(tmp_path):
    fake = start_fake(tmp_path, default={"text": "ok"})
    data = tmp_path / "data"
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=TOKEN,
                    OPENAI_API_KEY=API_KEY, OPENAI_BASE_URL=fake.url,
                    HARNESS_BWRAP=str(tmp_path / "no-bwrap"), HARNESS_LANDLOCK="0")  # fmt: skip
    d = start_agentd(tmp_path, data, env=env)
    d.extra.update(data=data, fake=fake)
    try:
        ws = make_repo(tmp_path / "ws")
        first, second = _run(d, ws, ["echo one", "echo two"])
        assert first["data"]["sandbox"] == second["data"]["sandbox"] == "none"
        api = Api(d.url, TOKEN)
        (run,) = api.get("/v1/runs")
        logs = [e["data"] for e in api.events(run["id"]) if e["type"] == "log"]
        api.close()
        unboxed = [w for w in logs if w.get("code") == "sandbox.unavailable"]
        assert len(unboxed) == 1 and "apt-get install bubblewrap" in unboxed[0]["message"]
        assert unboxed[0]["level"] == "warning"
    finally:
        d.stop()
        fake.stop()
