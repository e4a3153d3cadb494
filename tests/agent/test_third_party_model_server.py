"""A run against a model server we did not write: `llm-mock-api` from PyPI (OpenAI format),
started in the test on 127.0.0.1. Checks that the tool call, the approval, a 429 retry
(recorded as `model.retry`) and usage work against someone else's idea of the wire format."""

from __future__ import annotations

import pytest
from llm_mock_api import MockServer, MockServerOptions, ReplyObject, ToolCall
from llm_mock_api.types.reply import Usage

from .conftest import events, next_approval


@pytest.fixture
async def mock_server(monkeypatch):
    async with MockServer(MockServerOptions(default_latency=0, default_chunk_size=4)) as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.url + "/v1")
        yield srv


def scripted(*replies):
    """A resolver answering `replies` in order (llm-mock-api matches rules, not a queue)."""
    queue = list(replies)

    def resolve(_request):
        return queue.pop(0) if queue else "No docs needed."

    return resolve


async def test_run_with_tool_call_approval_and_retry_against_llm_mock_api(
    harness, repo, mock_server
):
    mock_server.when(lambda _req: True).reply(
        scripted(
            '{"steps": [{"title": "Write hello into greet.txt"}]}',
            ReplyObject(
                text="Writing it.",
                tools=[
                    ToolCall(name="write_file", args={"path": "greet.txt", "content": "hello\n"})
                ],
                usage=Usage(120, 30),
            ),
            ReplyObject(text="Wrote greet.txt.", usage=Usage(150, 8)),
        )
    )
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
    approval = await next_approval(harness, meta.id)
    assert approval.tool == "write_file" and "+hello" in approval.preview.diff
    mock_server.next_error(429, "slow down")  # the next model call is refused once
    await harness.answer_approval(approval.id, "approve", "cli")
    final = await harness.wait_run(meta.id, 60)
    assert final.status == "completed", final.outcome
    assert (repo / "greet.txt").read_text() == "hello\n"
    evs = events(harness, meta.id)
    retry = [e.data for e in evs if e.type == "model.retry"]
    assert [(r["attempt"], r["status"], r["error"]) for r in retry] == [
        (1, 429, "model_rate_limited")
    ]
    usages = [e.data for e in evs if e.type == "model.usage"]  # execute turns (plan: step usage)
    assert [(u["input_tokens"], u["output_tokens"]) for u in usages[:2]] == [(120, 30), (150, 8)]
    assert final.model == "openai:gpt-4.1"


async def test_session_with_an_ogg_then_text_turns_against_llm_mock_api(harness, repo, mock_server):
    mock_server.when(lambda _req: True).reply(scripted("Heard nothing, sorry.", "Plain answer."))
    meta = await harness.create_session(str(repo), model="openai:gpt-4o-audio-preview")
    ogg = await harness.add_attachment(meta.id, "voice.ogg", b"OggS\x00\x02" + b"\x00" * 60)
    await harness.post_message(meta.id, "listen", refs=[ogg["ref"]])
    await harness.wait_session(meta.id)
    await harness.post_message(meta.id, "and now?")
    await harness.wait_session(meta.id)
    evs = events(harness, meta.id, "session")
    done = [e.data for e in evs if e.type == "turn.completed"]
    assert [(d["ok"], d["text"]) for d in done] == [
        (True, "Heard nothing, sorry."),
        (True, "Plain answer."),
    ]
    assert [e.data["name"] for e in evs if e.type == "attachment.skipped"] == ["voice.ogg"]
    assert len(mock_server.history.all) == 2


async def test_a_503_from_llm_mock_api_is_retried_once_per_budget_not_nested(
    harness, repo, mock_server
):
    """Issue 32 item 2 against a server we did not write: every model call after the plan is
    refused with 503. The execute call makes exactly 1 + HARNESS_MODEL_RETRIES (3) requests."""
    from llm_mock_api.types.reply import ErrorReply

    seen: list[int] = []

    def resolve(_request):
        seen.append(1)
        if len(seen) == 1:
            return '{"steps": [{"title": "Write hello into greet.txt"}]}'
        return ReplyObject(error=ErrorReply(status=503, message="overloaded", type="server_error"))

    mock_server.when(lambda _req: True).reply(resolve)
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model="openai:gpt-4.1")
    final = await harness.wait_run(meta.id, 60)
    assert final.status == "failed"
    assert len(seen) == 1 + 4, len(seen)
    retry = [e.data for e in events(harness, meta.id) if e.type == "model.retry"]
    assert [(r["attempt"], r["phase"], r.get("status")) for r in retry] == [
        (1, "request", 503),
        (2, "request", 503),
        (3, "request", 503),
    ]
