"""`agentctl acp` as an editor launches it: cold (no daemon anywhere), with the editor's client on
the `agent-client-protocol` Python package and on the official npm SDK (@agentclientprotocol/sdk).

What a user of Zed / CodeCompanion / agent-shell hits first: a session works with no agentd up
(the core runs in the agentctl process, visible to the dashboard through its endpoint file, and
gone with it); every permission request names a tool call the editor was shown first (verify-phase
acceptance tests included); a run that fails ends the prompt with a JSON-RPC error carrying the
reason, not `end_turn`; bad frames get JSON-RPC errors and the connection goes on; `--token` on
the command line is refused."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from acp import RequestError, spawn_agent_process, text_block
from acp.schema import AllowedOutcome, RequestPermissionResponse

from tests.conftest import require_tool
from tests.e2e.helpers import Api, clean_env, make_repo, queue, start_agentd, start_fake

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
NODE_CLIENT = Path(__file__).parent / "acp_node"
PLAN = {"text": '{"steps": [{"title": "Write hello into greet.txt", "spec_line": 2}]}'}
WRITE = {"tool_calls": [{"name": "write_file", "arguments": {"path": "greet.txt",
                                                             "content": "hello\n"}}]}  # fmt: skip
# The acceptance test is a script: the policy asks before it runs (verify phase).
CHECKED_SPEC = """# Goal

Make greet.txt say hello instead of hi.

# Constraints / nuances

- Only touch greet.txt.

# Acceptance tests

- `sh check.sh`
"""


class Editor:
    """Records every update and permission request in arrival order; answers as told."""

    def __init__(self, answers: list[str]) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.answers = answers

    async def request_permission(self, session_id: str, tool_call: Any, options: list, **_: Any):
        self.seen.append(("permission", tool_call))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return RequestPermissionResponse(outcome=AllowedOutcome(outcome="selected",
                                                                option_id=answer))  # fmt: skip

    async def session_update(self, session_id: str, update: Any, **_: Any) -> None:
        self.seen.append((update.session_update, update))

    def text(self) -> str:
        return "".join(u.content.text for k, u in self.seen if k == "agent_message_chunk")


def assert_every_permission_follows_its_tool_call(seen: list[tuple[str, Any]]) -> int:
    started: set[str] = set()
    asked = 0
    for kind, item in seen:
        if kind == "tool_call":
            started.add(item.tool_call_id)
        elif kind == "permission":
            asked += 1
            assert item.tool_call_id in started, (item.tool_call_id, sorted(started))
    return asked


@pytest.fixture
def cold(tmp_path, procs):
    """A repo, the fake model server, a data dir — and no daemon."""
    fake = start_fake(tmp_path, default={"text": "I cannot fix that."})
    procs.append(fake)
    repo = make_repo(tmp_path / "ws", spec=CHECKED_SPEC)
    (repo / "check.sh").write_text("grep -qx hello greet.txt\n")
    data = tmp_path / "data"
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), OPENAI_BASE_URL=fake.url,
                    OPENAI_API_KEY="sk-test", HARNESS_MODEL="openai:gpt-4.1")  # fmt: skip
    return {"fake": fake, "repo": repo, "data": data, "env": env, "tmp": tmp_path}


def endpoints(data: Path) -> list[dict[str, Any]]:
    folder = data / "endpoints"
    return [json.loads(p.read_text()) for p in folder.glob("*.json")] if folder.is_dir() else []


async def test_cold_run_asks_with_tool_calls_first_and_a_failed_run_is_an_error(cold):
    """No daemon: the run executes in the agentctl process. The write and each acceptance test
    (verify phase, three attempts) are `tool_call`s before their permission requests; the editor
    rejects the test, so the run fails — and the prompt ends with a JSON-RPC error saying so. The
    dashboard (the process's endpoint) lists the run meanwhile; closing the editor stops it all."""
    s = cold
    queue(s["fake"].url, PLAN, WRITE, {"text": "Done."})
    editor = Editor(["allow_once", "reject_once"])
    async with spawn_agent_process(lambda _a: editor, *AGENTCTL, "acp", env=s["env"],
                                   cwd=str(s["repo"])) as (conn, proc):  # fmt: skip
        init = await asyncio.wait_for(conn.initialize(protocol_version=1), 30)
        assert init.agent_info.name == "harness-ls"
        sid = (await conn.new_session(cwd=str(s["repo"]), mcp_servers=[])).session_id
        hosts = endpoints(s["data"])
        assert [h["kind"] for h in hosts] == ["agentctl-acp"] and hosts[0]["pid"] == proc.pid
        with pytest.raises(RequestError) as failed:
            await asyncio.wait_for(
                conn.prompt(session_id=sid, prompt=[text_block("/run specs/greet/spec.md")]), 120
            )
        runs = Api(hosts[0]["url"]).get("/v1/runs")  # the dashboard's view of this process
        assert [r["status"] for r in runs] == ["failed"]
    err = failed.value
    run_id = runs[0]["id"]
    assert f"run {run_id} failed" in str(err) and "acceptance" in str(err), str(err)
    assert err.data["run_id"] == run_id and err.data["status"] == "failed"
    asked = assert_every_permission_follows_its_tool_call(editor.seen)
    titles = [item.title for kind, item in editor.seen if kind == "permission"]
    assert asked >= 2 and "acceptance test: sh check.sh" in [
        item.title for kind, item in editor.seen if kind == "tool_call"
    ], titles
    done = [i for k, i in editor.seen if k == "tool_call_update" and i.status == "failed"]
    assert done, "the rejected acceptance test is shown failed"
    assert (s["repo"] / "greet.txt").read_text() == "hello\n"  # the write was allowed
    assert proc.returncode == 0  # the client closed stdin: a clean stop
    assert endpoints(s["data"]) == []  # the private host went with the editor


async def test_cold_chat_then_the_session_is_in_the_log(cold):
    s = cold
    queue(s["fake"].url, {"text": "Hello, cold start."})
    editor = Editor(["allow_once"])
    async with spawn_agent_process(lambda _a: editor, *AGENTCTL, "acp", env=s["env"],
                                   cwd=str(s["repo"])) as (conn, _proc):  # fmt: skip
        await conn.initialize(protocol_version=1)
        sid = (await conn.new_session(cwd=str(s["repo"]), mcp_servers=[])).session_id
        done = await asyncio.wait_for(conn.prompt(session_id=sid, prompt=[text_block("hi")]), 60)
        assert done.stop_reason == "end_turn"
    assert "Hello, cold start." in editor.text()
    meta = json.loads((s["data"] / "sessions" / sid / "meta.json").read_text())
    assert meta["surface"] == "acp" and meta["title"] == "hi"


async def test_a_running_daemon_is_used_through_its_endpoint_file(cold, procs):
    """With agentd up (no HARNESS_URL), agentctl acp finds it and runs nothing itself."""
    s = cold
    agentd = start_agentd(s["tmp"], s["data"], env=s["env"])
    procs.append(agentd)
    queue(s["fake"].url, {"text": "From the daemon."})
    editor = Editor(["allow_once"])
    async with spawn_agent_process(lambda _a: editor, *AGENTCTL, "acp", env=s["env"],
                                   cwd=str(s["repo"])) as (conn, _proc):  # fmt: skip
        await conn.initialize(protocol_version=1)
        sid = (await conn.new_session(cwd=str(s["repo"]), mcp_servers=[])).session_id
        assert [h["kind"] for h in endpoints(s["data"])] == ["agentd"]
        await asyncio.wait_for(conn.prompt(session_id=sid, prompt=[text_block("hi")]), 60)
    assert "From the daemon." in editor.text()
    assert sid in [x["id"] for x in Api(agentd.url).get("/v1/sessions")]


def test_token_on_the_command_line_is_refused(cold):
    s = cold
    done = subprocess.run([*AGENTCTL, "--token", "secret-token-0123456789", "acp"], env=s["env"],
                          cwd=s["repo"], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert "command line" in done.stderr and "HARNESS_AUTH_TOKEN" in done.stderr
    assert "--token-file" in done.stderr and "secret-token" not in done.stderr
    assert not (s["data"] / "endpoints").exists() or endpoints(s["data"]) == []


class RawAcp:
    """`agentctl acp` with raw NDJSON on its stdin/stdout: what a broken client sends."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [*AGENTCTL, "acp"], env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def send(self, line: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "agentctl acp closed its output"
        return json.loads(line)

    def close(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(30)


@pytest.mark.parametrize(
    ("frame", "code", "says"),
    [
        (b"[]", -32600, "not an array"),
        (b'[{"jsonrpc": "2.0", "id": 1, "method": "initialize"}]', -32600, "batch"),
        (b'"x"', -32600, "not a string"),
        (b"1", -32600, "not a number"),
        (b"null", -32600, "not null"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "initi', -32700, "not JSON"),
        (b"\xff\xfe{}", -32700, "not JSON"),
        (b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "initialize"}', -32600, "id must be"),
        (b'{"jsonrpc": "2.0", "id": 7, "method": 5}', -32600, "method must be"),
        (b'{"jsonrpc": "2.0", "id": 8, "method": "initialize", "params": 3}', -32602, "params"),
        (b"{}", -32600, "needs a method"),
    ],
)
def test_a_frame_that_is_not_a_request_gets_an_error_and_the_connection_goes_on(
    cold, frame, code, says
):
    raw = RawAcp(cold["env"], cold["repo"])
    try:
        raw.send(frame)
        err = raw.read()
        assert err["error"]["code"] == code and says in err["error"]["message"], err
        assert err["id"] in (None, 7, 8)
        raw.send(json.dumps({"jsonrpc": "2.0", "id": 42, "method": "initialize",
                             "params": {"protocolVersion": 1}}).encode())  # fmt: skip
        ok = raw.read()
        assert ok["id"] == 42 and ok["result"]["agentInfo"]["name"] == "harness-ls", ok
    finally:
        assert raw.close() == 0


def test_a_huge_line_is_discarded_with_an_error_and_memory_stays_bounded(cold):
    """60 MiB in one line (the limit is 50 MiB): one error, then the next request is answered."""
    raw = RawAcp(cold["env"], cold["repo"])
    try:
        body = b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"pad": "'
        raw.send(body + b"x" * (60 << 20) + b'"}}')
        err = raw.read()
        assert err["error"]["code"] == -32600 and "over the" in err["error"]["message"], err
        status = Path(f"/proc/{raw.proc.pid}/status").read_text()
        peak_kb = int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1])
        assert peak_kb < 300_000, f"peak RSS {peak_kb} kB: the line was buffered"
        raw.send(
            b'{"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {"protocolVersion": 1}}'
        )
        assert raw.read()["id"] == 2
    finally:
        assert raw.close() == 0


def _node_client() -> list[str]:
    how = "apt-get install -y nodejs npm (scripts/install-system-deps.sh)"
    node = require_tool(shutil.which("node"), "node", how)
    npm = require_tool(shutil.which("npm"), "npm", how)
    if not (NODE_CLIENT / "node_modules" / "@agentclientprotocol" / "sdk").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=NODE_CLIENT, check=True, timeout=300)  # fmt: skip
    return [node, str(NODE_CLIENT / "client.mjs")]


def test_npm_sdk_client_chats_runs_and_gets_the_failure_as_an_error(cold):
    """The official TypeScript SDK as the editor: a chat turn ends `end_turn`; a `/run` whose
    acceptance test the editor rejects ends with the SDK raising the JSON-RPC error; every
    permission request it got names a tool call it was shown before."""
    s = cold
    client = _node_client()
    queue(s["fake"].url, {"text": "Hi from harness."}, PLAN, WRITE, {"text": "Done."})
    t0 = time.monotonic()
    done = subprocess.run(
        [*client, "--cwd", str(s["repo"]), "--answer", "reject_once", "--prompt", "hello",
         "--prompt", "/run specs/greet/spec.md", "--", *AGENTCTL, "acp"],
        env=s["env"], cwd=s["repo"], capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    log = report["log"]
    assert report["agentExit"] == 0
    assert log[0] == {"kind": "initialized", "agent": "harness-ls"}
    ends = [e for e in log if e["kind"] in ("stop", "error")]
    assert ends[0] == {"kind": "stop", "stopReason": "end_turn"}
    assert ends[1]["kind"] == "error" and "failed" in ends[1]["message"], ends
    assert ends[1]["data"]["status"] == "failed"
    started: set[str] = set()
    asks = 0
    for e in log:
        if e["kind"] == "tool_call":
            started.add(e["toolCallId"])
        elif e["kind"] == "permission":
            asks += 1
            assert e["toolCallId"] in started, e
    assert asks >= 1
    assert (s["repo"] / "greet.txt").read_text() == "hi\n"  # the write was rejected too
    print(f"\nnpm SDK client: {time.monotonic() - t0:.1f}s")
