"""Runs against the real fake OpenAI-compatible server over HTTP on loopback."""

from __future__ import annotations

import json

import pytest

from harness_ls.testing.fake_models import FakeOpenAIServer

from .conftest import events, next_approval


@pytest.fixture
def openai_server(monkeypatch):
    with FakeOpenAIServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        yield srv


async def test_run_over_http_edits_with_approval_and_verifies_green(harness, repo, openai_server):
    srv = openai_server
    srv.push_text('{"steps": [{"title": "Replace hi with hello in greet.txt"}]}')
    srv.push_tool_call("read_file", {"path": "greet.txt"}, text="Let me look.")
    srv.push_tool_call("edit", {"path": "greet.txt", "old": "hi", "new": "hello"})
    srv.push_text("Changed ", "greet.txt ", "to say hello.")
    srv.push_text("No docs needed.")
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
    approval = await next_approval(harness, meta.id)
    assert (
        approval.tool == "edit"
        and "-hi" in approval.preview.diff
        and "+hello" in approval.preview.diff
    )
    await harness.answer_approval(approval.id, "approve", "dashboard")
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "completed", final.outcome
    assert (repo / "greet.txt").read_text() == "hello\n"
    evs = events(harness, meta.id)
    deltas = "".join(e.data["text"] for e in evs if e.type == "message.delta")
    assert "Changed greet.txt to say hello." in deltas
    assert any(e.type == "model.usage" for e in evs)
    # the model got the tools and, in the next request, the tool result of read_file
    execute = srv.requests[1]
    assert {t["function"]["name"] for t in execute["tools"]} >= {
        "read_file",
        "edit",
        "write_file",
        "shell",
    }
    tool_msgs = [m for m in srv.requests[2]["messages"] if m["role"] == "tool"]
    assert tool_msgs and "hi" in json.dumps(tool_msgs[0])


async def test_http_model_error_fails_the_run_with_the_reason(harness, repo, openai_server):
    openai_server.push_text('{"steps": [{"title": "x"}]}')
    openai_server.push_error(400, "bad request from the fake")
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
    final = await harness.wait_run(meta.id, 30)
    assert final.status == "failed"
    failed = events(harness, meta.id)[-1]
    assert failed.type == "run.failed" and "bad request from the fake" in failed.data["error"]
