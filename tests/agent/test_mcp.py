"""MCP servers as tools, against servers we did not write (`mcp-server-time`, `mcp-server-git`
from PyPI, over stdio) and one built with the official SDK (stdio and streamable HTTP): the
fake model calls their tools, the policy asks / denies / allows, a server that crashes mid-call
or never answers is an error the model reads — never a hung run."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness_ls.core import Harness
from harness_ls.testing.fake_models import FakeOpenAIServer

from .conftest import events, next_approval

PLAN = {"text": '{"steps": [{"title": "Use the tools"}]}'}
TIME = [sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC"]
TEST_SERVER = [sys.executable, "-m", "harness_ls.testing.mcp_server"]


@pytest.fixture
def srv(monkeypatch):
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server


@pytest.fixture
def repo(repo):
    (repo / "greet.txt").write_text("hello\n")  # the acceptance test passes: the run is about tools
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "hello"], check=True)
    return repo


async def harness_with(tmp_path: Path, config: str) -> Harness:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "config.toml").write_text(config)
    h = Harness(data)
    h.options.update(verify_timeout=30.0, context_tokens=0)
    await h.start()
    return h


def servers(**cmds: list[str] | str) -> str:
    out = []
    for name, cmd in cmds.items():
        if isinstance(cmd, str):
            out.append(f'[mcp.servers.{name}]\nurl = "{cmd}"\ntimeout = 5\n')
        else:
            out.append(f"[mcp.servers.{name}]\ncommand = {json.dumps(cmd)}\ntimeout = 5\n")
    return "\n".join(out)


def call(name: str, **args) -> dict:
    return {"tool_calls": [{"name": name, "arguments": args}]}


def results(h: Harness, run_id: str) -> list[dict]:
    return [e.data for e in events(h, run_id) if e.type in ("tool.result", "tool.refused")]


async def test_mcp_time_tool_asks_then_runs_and_the_model_gets_its_answer(tmp_path, repo, srv):
    h = await harness_with(tmp_path, servers(time=TIME))
    try:
        srv.push(PLAN, call("time__get_current_time", timezone="UTC"))
        srv.push_text("It is now.")
        srv.push_text("No docs needed.")
        meta = await h.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
        approval = await next_approval(h, meta.id, within=60)
        assert approval.tool == "mcp:time.get_current_time"  # as docs/mcp.md names it
        from harness_ls.tools.consent import view_of

        view = view_of(approval.preview)
        assert view.kind == "mcp" and not view.parts  # not rendered as a shell command
        assert approval.preview.summary == 'mcp:time.get_current_time {"timezone": "UTC"}'
        await h.answer_approval(approval.id, "approve", "cli")
        final = await h.wait_run(meta.id, 60)
        assert final.status == "completed", final.outcome
    finally:
        await h.close()
    offered = {t["function"]["name"] for t in srv.requests[1]["tools"]}
    assert {"time__get_current_time", "time__convert_time", "read_file"} <= offered
    evs = events(h, meta.id)
    tool_call = next(e.data for e in evs if e.type == "tool.call")
    assert (tool_call["mcp_server"], tool_call["mcp_tool"], tool_call["action"]) == (
        "time", "get_current_time", "ask",
    )  # fmt: skip
    result = results(h, meta.id)[0]
    assert result["ok"] and json.loads(result["output"])["timezone"] == "UTC"
    tool_msg = next(m for m in srv.requests[2]["messages"] if m["role"] == "tool")
    assert '"timezone": "UTC"' in tool_msg["content"]


async def test_mcp_policy_deny_beats_allow_and_allow_skips_the_question(tmp_path, repo, srv):
    config = servers(t=TEST_SERVER) + '\n[mcp]\nallow = ["t.*"]\ndeny = ["t.crash"]\n'
    h = await harness_with(tmp_path, config)
    try:
        srv.push(PLAN, call("t__echo", text="hi"))
        srv.push(call("t__crash"))
        srv.push_text("Done.")
        srv.push_text("No docs needed.")
        meta = await h.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
        final = await h.wait_run(meta.id, 60)
        assert final.status == "completed", final.outcome
    finally:
        await h.close()
    echo, crash = results(h, meta.id)
    assert echo["ok"] and echo["output"] == "echo: hi"
    assert crash["reason"] == "denied by policy (config.toml [mcp] deny 't.crash')"
    assert not any(e.type == "approval.requested" for e in events(h, meta.id))


async def test_a_server_crashing_mid_call_and_one_that_never_answers(tmp_path, repo, srv):
    h = await harness_with(tmp_path, servers(t=TEST_SERVER) + '\n[mcp]\nallow = ["t.*"]\n')
    try:
        srv.push(PLAN, call("t__crash"))
        srv.push(call("t__hang"))
        srv.push(call("t__add", a=2, b=3))  # the server was restarted after the crash/timeout
        srv.push_text("Done.")
        srv.push_text("No docs needed.")
        meta = await h.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
        final = await h.wait_run(meta.id, 90)
        assert final.status == "completed", final.outcome
    finally:
        await h.close()
    crash, hang, add = results(h, meta.id)
    assert not crash["ok"] and crash["error_code"] == "mcp_unavailable"
    assert "stopped during crash" in crash["output"] and "effects are unknown" in crash["output"]
    assert not hang["ok"] and "did not answer hang within 5 s" in hang["output"]
    assert add["ok"] and add["output"] == "5"


@pytest.fixture
def http_mcp_url():
    """The SDK-built server over streamable HTTP on 127.0.0.1, in its own process."""
    proc = subprocess.Popen(
        [*TEST_SERVER, "--http", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)


async def test_mcp_git_server_and_a_streamable_http_server(tmp_path, repo, srv, http_mcp_url):
    git = [sys.executable, "-m", "mcp_server_git", "--repository", "{workspace}"]
    config = servers(git=git, web=http_mcp_url) + '\n[mcp]\nallow = ["git.git_status", "web.*"]\n'
    h = await harness_with(tmp_path, config)
    try:
        (repo / "new.txt").write_text("untracked\n")
        srv.push(PLAN, call("git__git_status", repo_path=str(repo)))
        srv.push(call("web__add", a=20, b=22))
        srv.push_text("Done.")
        srv.push_text("No docs needed.")
        meta = await h.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
        final = await h.wait_run(meta.id, 90)
        assert final.status == "completed", final.outcome
    finally:
        await h.close()
    status, added = results(h, meta.id)
    assert status["ok"] and "new.txt" in status["output"]
    assert added["ok"] and added["output"] == "42"


async def test_a_server_that_cannot_start_is_a_warning_and_the_run_goes_on(tmp_path, repo, srv):
    h = await harness_with(tmp_path, servers(broken=["/nonexistent/mcp-server"]))
    try:
        srv.push(PLAN)
        srv.push_text("Done.")
        srv.push_text("No docs needed.")
        meta = await h.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
        final = await h.wait_run(meta.id, 60)
        assert final.status == "completed", final.outcome
    finally:
        await h.close()
    warn = next(e.data for e in events(h, meta.id) if e.data.get("code") == "mcp.unavailable")
    assert warn["message"].startswith("MCP server broken is unavailable: ")


async def test_workspace_mcp_servers_start_only_once_trusted(tmp_path, repo, srv):
    (repo / ".harness").mkdir(exist_ok=True)
    (repo / ".harness" / "mcp.toml").write_text(servers(t=TEST_SERVER))
    # A workspace's server runs in the sandbox, where this test's venv may be out of sight (CI
    # clones under the host's /tmp, which the box hides): this test is about trust, so the
    # sandbox is off here; tests/e2e/test_mcp_sandbox.py starts one in the box.
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "policy.toml").write_text('sandbox = "off"\n')
    h = await harness_with(tmp_path, '[mcp]\nallow = ["t.*"]\n')
    try:
        srv.push(PLAN, call("t__echo", text="untrusted"))
        srv.push_text("Done.")
        srv.push_text("No docs needed.")
        first = await h.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
        assert (await h.wait_run(first.id, 60)).status == "completed"
        warn = next(e.data for e in events(h, first.id) if e.data.get("code") == "mcp.unavailable")
        assert "mcp.toml declares MCP servers but is not trusted" in warn["message"]
        assert f"agentctl policy trust --workspace {repo}" in warn["message"]
        assert results(h, first.id)[0]["error_code"] == "unknown_tool"

        out = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "harness_ls.cli.agentctl", "--data-dir", str(h.data_dir),
             "policy", "trust", "--workspace", str(repo)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 0 and "mcp.toml" in out.stdout, out.stderr
        srv.push(PLAN, call("t__echo", text="trusted"))
        srv.push_text("Done.")
        srv.push_text("No docs needed.")
        second = await h.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
        assert (await h.wait_run(second.id, 60)).status == "completed"
        assert results(h, second.id)[0]["output"] == "echo: trusted"
    finally:
        await h.close()
