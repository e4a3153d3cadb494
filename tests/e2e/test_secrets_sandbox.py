"""Rows 6, 7 and 8 of issue 31, end to end: a real agentd, the fake OpenAI server as a hostile
model, real git repositories, every approval answered Deny — once under bubblewrap and once under
the Landlock fallback (agentd started with HARNESS_BWRAP pointing at a missing binary).

- row 6: a workspace `.env.local` the daemon never loaded: `read_file` (by name and through a
  symlink the repository ships), `search`, `cat .e*`, `grep -r` — its value must not reach the
  model, the event log, an export or agentd's output;
- row 7: `seq 1 99999999999` under a rule that allows it: killed at the output limit, nothing
  spooled to the host's temp dir; a timeout the model asks for is capped by the user's policy;
- row 8: `~/.ssh/id_rsa`, `~/.aws/credentials`, a Unix socket outside the workspace and
  `SSH_AUTH_SOCK` — under `full-auto`, so only the sandbox stands in the way.
"""

from __future__ import annotations

import io
import json
import socket
import tempfile
import zipfile
from pathlib import Path

import httpx
import pytest

from harness_ls.tools import sandbox
from tests.conftest import require_capability
from tests.e2e.helpers import DOCS, Api, clean_env, make_repo, queue, start_agentd, start_fake

TOKEN = "tok-secrets-e2e-7f6e5d4c3b2a19"
MODEL = "openai:gpt-4.1-mini"
PLAN = {"text": '{"steps": [{"title": "Probe"}]}'}
ENV_VALUE = "sk_live_WORKSPACE0123456789abcdef"  # in .env.local only; agentd never loaded it
SSH_KEY = "SSHPRIVATEKEY-b3BlbnNzaC1rZXktdjE"
AWS_KEY = "AWSSECRET-wJalrXUtnFEMI0K7MDENG"
SOCKET_REPLY = "SOCKET-REACHED-9d8c7b"
HERE = Path(__file__).resolve().parent

MODES = ["bwrap", "landlock"]


@pytest.fixture(scope="module", params=MODES)
def daemon(request, tmp_path_factory):
    """agentd whose $HOME holds an SSH key and AWS credentials and whose SSH_AUTH_SOCK names a
    live socket outside any workspace (and outside /tmp, $HOME and /run)."""
    if request.param == "bwrap" and not sandbox.bwrap():
        request.getfixturevalue("require_bwrap")
    if request.param == "landlock":
        require_capability(sandbox.landlock() >= 6, "Landlock ABI 6+", "a Linux kernel >= 6.7")
    root = tmp_path_factory.mktemp(f"secrets-{request.param}")
    home = root / "home"
    for rel, text in (
        (".ssh/id_rsa", SSH_KEY),
        (".aws/credentials", f"[default]\nkey={AWS_KEY}\n"),
    ):
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(text + "\n")
    sockdir = Path(tempfile.mkdtemp(prefix=".sock-", dir=HERE))
    agent = socket.socket(socket.AF_UNIX)
    agent.bind(str(sockdir / "agent"))
    agent.listen(8)
    agent.settimeout(0.1)
    fake = start_fake(root, default={"text": "ok"})
    data = root / "data"
    spool = root / "spool"
    spool.mkdir()
    extra = {"HARNESS_BWRAP": str(root / "no-bwrap")} if request.param == "landlock" else {}
    env = clean_env(home, HARNESS_DATA_DIR=str(data), HARNESS_AUTH_TOKEN=TOKEN,
                    OPENAI_API_KEY="sk-e2e-secrets-provider-0123456789", OPENAI_BASE_URL=fake.url,
                    SSH_AUTH_SOCK=str(sockdir / "agent"), TMPDIR=str(spool),
                    DBUS_SESSION_BUS_ADDRESS="unix:path=" + str(sockdir / "agent"), **extra)  # fmt: skip
    d = start_agentd(root, data, env=env)
    d.extra.update(root=root, data=data, fake=fake, mode=request.param, sock=sockdir / "agent",
                   spool=spool, agent=agent)  # fmt: skip
    yield d
    d.stop()
    fake.stop()
    agent.close()
    (sockdir / "agent").unlink(missing_ok=True)
    sockdir.rmdir()


def _policy(daemon, text: str) -> None:
    daemon.extra["data"].mkdir(parents=True, exist_ok=True)
    (daemon.extra["data"] / "policy.toml").write_text(text)


def _run(daemon, ws: Path, calls: list[dict]) -> tuple[list[dict], list[dict]]:
    """Start a run whose model makes `calls`, deny every approval; (events, tool results)."""
    queue(daemon.extra["fake"].url, PLAN, {"tool_calls": calls}, {"text": "done"}, DOCS)
    api = Api(daemon.url, TOKEN)
    rid = api.start_run(ws, MODEL)["id"]

    def deny_all() -> dict | None:
        for a in api.approvals(rid):
            api.approve(rid, a["id"], "deny")
        _serve_agent_socket(daemon)
        m = api.run(rid)
        return m if m["status"] in ("completed", "failed", "cancelled", "interrupted") else None

    from tests.e2e.helpers import wait_for

    wait_for(deny_all, 120, every=0.1, what=f"run {rid} to end")
    events = api.events(rid)
    api.close()
    by_call = {e["call_id"]: e for e in events if e["type"] == "tool.call"}
    done = [
        e
        for e in events
        if e["type"] in ("tool.result", "tool.refused") and e["call_id"] in by_call
    ]
    return events, [
        {"call": by_call[e["call_id"]]["data"], "type": e["type"], **e["data"]} for e in done
    ]


def _serve_agent_socket(daemon) -> None:
    """Answer whoever connects to the socket outside the workspace (nobody should)."""
    try:
        conn, _ = daemon.extra["agent"].accept()
    except (TimeoutError, BlockingIOError, OSError):
        return
    with conn:
        conn.sendall(SOCKET_REPLY.encode() + b"\n")
    daemon.extra.setdefault("connections", 0)
    daemon.extra["connections"] += 1


def _read(name: str, **args) -> dict:
    return {"name": name, "arguments": args}


def _shell(command: str, **args) -> dict:
    return {"name": "shell", "arguments": {"command": command, **args}}


def _leaks(daemon, secrets: tuple[str, ...]) -> list[tuple[str, str]]:
    """Where any of `secrets` can be read: event logs and artifacts in the data dir, every
    export, agentd's output and every request body the model server received."""
    found: list[tuple[str, str]] = []

    def scan(where: str, blob: bytes | str) -> None:
        text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
        found.extend((where, s) for s in secrets if s in text)

    api = Api(daemon.url, TOKEN)
    for run in api.get("/v1/runs"):
        r = api.c.get(f"/v1/runs/{run['id']}/export")
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            for n in zf.namelist():
                scan(f"zip:{n}", zf.read(n))
    api.close()
    for p in daemon.extra["data"].rglob("*"):
        if p.is_file():
            scan(str(p), p.read_bytes())
    scan("agentd output", daemon.stdout() + daemon.stderr())
    base = daemon.extra["fake"].url.removesuffix("/v1")
    for body in httpx.get(f"{base}/_fake/requests", timeout=10).json():
        scan("model request", json.dumps(body))
    return found


def test_row6_workspace_secret_values_never_reach_the_model(daemon, tmp_path):
    _policy(daemon, 'mode = "ask"\n')
    ws = make_repo(tmp_path / "ws")
    (ws / ".env.local").write_text(f"STRIPE_SECRET_KEY={ENV_VALUE}\nDEBUG=1\n")
    (ws / "docs").mkdir()
    (ws / "docs" / "env").symlink_to("../.env.local")  # the hostile repository ships this link
    calls = [_read("read_file", path=".env.local"), _read("read_file", path="docs/env"),
             _read("search", pattern="sk_live"), _read("search", pattern="sk_live", path=".env.local"),
             _shell("cat .e*"), _shell("grep -r sk_live ."), _shell("cat .env.local"),
             _shell("cat docs/env; base64 .e*; xxd -p .env.local")]  # fmt: skip
    events, results = _run(daemon, ws, calls)
    by = {json.dumps(r["call"]["arguments"], sort_keys=True): r for r in results}
    first = by[json.dumps({"path": ".env.local"})]
    assert first["type"] == "tool.refused" and "denied by" in first["reason"]
    asked = [e["data"] for e in events if e["type"] == "approval.requested"]
    assert any(".env.local" in a["preview"]["summary"] and "secret file" in a["preview"]["summary"]
               for a in asked), [a["preview"]["summary"] for a in asked]  # fmt: skip
    link = by[json.dumps({"path": "docs/env"})]
    assert link["type"] == "tool.refused" and ".env.local is a secret file" in link["reason"]
    grep = by[json.dumps({"pattern": "sk_live"}, sort_keys=True)]
    assert "skipped matches in secret files: .env.local" in grep["output"]
    assert _leaks(daemon, (ENV_VALUE,)) == []
    assert (ws / ".env.local").read_text().startswith("STRIPE_SECRET_KEY=")


def test_row6_under_full_auto_the_sandbox_alone_keeps_the_value(daemon, tmp_path):
    _policy(daemon, 'mode = "full-auto"\n')
    ws = make_repo(tmp_path / "ws")
    (ws / ".env.local").write_text(f"STRIPE_SECRET_KEY={ENV_VALUE}\n")
    # a program that computes the path itself: the text shows no secret file, so the policy
    # (full-auto) lets it run; `cat .e*` or `grep -r` would ask even here (tools/protected.py)
    probe_cmd = ("python3 -c \"import glob; [print(open(p).read()) for p in glob.glob('.e*')]\"; "
                 "echo probe-done")  # fmt: skip
    _events, results = _run(daemon, ws, [_shell(probe_cmd)])
    (probe,) = results
    assert probe["type"] == "tool.result", probe
    assert "probe-done" in probe["output"] and probe["data"]["masked"] == [".env.local"]
    assert _leaks(daemon, (ENV_VALUE,)) == []


def test_row7_unbounded_output_and_long_timeouts_are_capped(daemon, tmp_path):
    _policy(daemon, 'mode = "ask"\ntimeout_max = 1\n[allow]\nshell = ["seq *", "sleep *"]\n')
    ws = make_repo(tmp_path / "ws")
    _events, results = _run(daemon, ws, [_shell("seq 1 99999999999"),
                                         _shell("sleep 30", timeout=3600)])  # fmt: skip
    seq, sleep = results
    assert seq["type"] == "tool.result" and seq["error_code"] == "output_limit", seq
    assert seq["output"].startswith("output truncated at 16 MiB (process group killed)")
    assert seq["data"]["output_bytes"] < 64 * 2**20
    assert sleep["error_code"] == "timeout" and "timed out after 1s" in sleep["output"]
    spool = daemon.extra["spool"]
    spooled = {str(p.relative_to(spool)): p.stat().st_size for p in spool.rglob("*")
               if p.is_file() and not p.relative_to(spool).parts[0].startswith("harness-ls-git-")}  # fmt: skip
    # agentd's TMPDIR holds the empty mask file and gitrun's small shim directory, nothing else
    assert sum(spooled.values()) == 0, spooled


def test_row8_home_secrets_sockets_and_agents_are_out_of_reach(daemon, tmp_path):
    _policy(daemon, 'mode = "full-auto"\n')
    ws = make_repo(tmp_path / "ws")
    sock = daemon.extra["sock"]
    connect = (f"/usr/bin/python3 -I -S -c 'import socket; s=socket.socket(socket.AF_UNIX); "
               f"s.connect(\"{sock}\"); print(s.recv(64))'")  # fmt: skip
    calls = [_shell("cat ~/.ssh/id_rsa ~/.aws/credentials; ls -A ~; echo probe-home"),
             _shell(f"cat {daemon.extra['root']}/home/.ssh/id_rsa; echo probe-path"),
             _shell('echo "agent=[$SSH_AUTH_SOCK] bus=[$DBUS_SESSION_BUS_ADDRESS]"'),
             _shell(f"{connect}; echo probe-socket")]  # fmt: skip
    _events, results = _run(daemon, ws, calls)
    home, by_path, env, sock_probe = (r["output"] for r in results)
    assert "probe-home" in home and "probe-path" in by_path
    assert "agent=[] bus=[]" in env
    assert "probe-socket" in sock_probe
    if daemon.extra["mode"] == "bwrap":
        assert SOCKET_REPLY not in sock_probe and daemon.extra.get("connections", 0) == 0
    else:  # Landlock cannot mediate connect() by path (docs/security.md): the name is not given
        assert SOCKET_REPLY in sock_probe
    assert _leaks(daemon, (SSH_KEY, AWS_KEY)) == []
