"""Anthropic provider against a real local Messages API server (FakeAnthropicServer)."""

from __future__ import annotations

import pytest

from harness_ls.models import (
    AnthropicProvider,
    BadRequest,
    ContentPart,
    ContextOverflow,
    InvalidToolArguments,
    MalformedResponse,
    Message,
    ModelAuthError,
    ProviderUnavailable,
    StreamCut,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    ToolSpec,
    Usage,
)
from harness_ls.testing.fake_models import recorded_retries

KEY = "sk-ant-test-key-123456"
HI = [Message(role="user", content="hi")]


def provider(srv, fast, key=KEY):
    return AnthropicProvider(srv.base_url, key, settings=fast)


async def test_streams_text_usage_and_done(ant, fast):
    ant.push({"text": ["Hi", " there"], "usage": {"input_tokens": 9, "output_tokens": 2}})
    evs = [e async for e in provider(ant, fast).stream("claude-sonnet-4-5", HI)]
    assert [e.text for e in evs if isinstance(e, TextDelta)] == ["Hi", " there"]
    assert evs[-2] == Usage(input_tokens=9, output_tokens=2)
    assert evs[-1].finish_reason == "stop"
    assert (
        ant.headers[0]["x-api-key"] == KEY and ant.headers[0]["anthropic-version"] == "2023-06-01"
    )
    assert ant.requests[0]["max_tokens"] == 16384  # from the registry, capped


async def test_tool_use_blocks_with_partial_json_become_tool_calls(ant, fast):
    args = {"path": "a.py", "content": "x = 1\n" * 5}
    ant.push(
        {
            "text": "Let me write it.",
            "fragment": 4,
            "tool_calls": [{"name": "write_file", "arguments": args, "id": "toolu_1"}],
        }
    )
    tools = [ToolSpec(name="write_file", description="w", parameters={"type": "object"})]
    evs = [e async for e in provider(ant, fast).stream("m", HI, tools)]
    calls = [e.call for e in evs if isinstance(e, ToolCallEvent)]
    assert calls == [
        ToolCall(
            id="toolu_1", name="write_file", arguments=args, raw_arguments=calls[0].raw_arguments
        )
    ]
    assert evs[-1].finish_reason == "tool_calls"
    assert ant.requests[0]["tools"] == [
        {"name": "write_file", "description": "w", "input_schema": {"type": "object"},
         "cache_control": {"type": "ephemeral"}}
    ]  # fmt: skip


async def test_system_tool_results_and_images_map_to_messages_api(ant, fast):
    ant.push_text("ok")
    call = ToolCall(id="toolu_9", name="read_file", arguments={"path": "a"})
    png = ContentPart.from_bytes(b"\x89PNG", "image/png")
    pdf = ContentPart.from_bytes(b"%PDF", "application/pdf", name="d.pdf")
    history = [
        Message(role="system", content="rules"),
        Message(role="user", content=[ContentPart.from_text("see"), png, pdf]),
        Message(role="assistant", content="reading", tool_calls=[call]),
        Message(role="tool", tool_call_id="toolu_9", content="A"),
        Message(role="user", content="and?"),
    ]
    await provider(ant, fast).complete("m", history, cache=False)
    body = ant.requests[0]
    assert body["system"] == "rules"
    user, assistant, result = body["messages"]
    assert [b["type"] for b in user["content"]] == ["text", "image", "document"]
    assert user["content"][1]["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": png.data_b64,
    }
    assert assistant["content"][1] == {
        "type": "tool_use",
        "id": "toolu_9",
        "name": "read_file",
        "input": {"path": "a"},
    }
    # the tool result and the next user text merge into one user turn
    assert result["role"] == "user"
    assert result["content"][0] == {"type": "tool_result", "tool_use_id": "toolu_9", "content": "A"}
    assert result["content"][1] == {"type": "text", "text": "and?"}


async def test_audio_is_refused_with_a_hint(ant, fast):
    wav = ContentPart.from_bytes(b"RIFF", "audio/wav")
    with pytest.raises(BadRequest, match="cannot take audio") as info:
        await provider(ant, fast).complete("m", [Message(role="user", content=[wav])])
    assert "audio-capable" in info.value.hint


async def test_wrong_key_is_401_and_the_key_never_shows(ant, fast):
    with pytest.raises(ModelAuthError) as info:
        await provider(ant, fast, key="sk-ant-wrong-but-secret-999").complete("m", HI)
    text = f"{info.value} {info.value.hint} {info.value.to_dict()}"
    assert "sk-ant-wrong-but-secret-999" not in text
    assert "ANTHROPIC_API_KEY" in info.value.hint


async def test_overloaded_529_is_retried(ant, fast):
    ant.push_error(529, "Overloaded").push_text("fine")
    assert (await provider(ant, fast).complete("m", HI)).text == "fine"


async def test_429_retry_after_is_honoured(ant, fast):
    ant.push_error(429, retry_after=1).push_text("later")
    with recorded_retries() as notices:
        assert (await provider(ant, fast).complete("m", HI)).text == "later"
    assert [(n.retry_after_s, n.delay_s) for n in notices] == [(1.0, 1.0)]  # waited as asked


async def test_prompt_too_long_is_context_overflow(ant, fast):
    ant.push_error(400, "prompt is too long: 210000 tokens > 200000 maximum")
    with pytest.raises(ContextOverflow):
        await provider(ant, fast).complete("m", HI)


async def test_error_event_mid_stream_is_typed(ant, fast):
    raw = ('event: message_start\ndata: {"type": "message_start", "message": {"usage": {"input_tokens": 1}}}\n\n'
           'event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n')  # fmt: skip
    ant.push({"raw": raw})
    with pytest.raises(ProviderUnavailable, match="Overloaded"):
        await provider(ant, fast).complete("m", HI)


@pytest.mark.parametrize("mode", ["close", "abort"])
async def test_cut_stream_is_reported(ant, fast, mode):
    ant.push({"text": ["a", "b", "c"], "cut_after": 4, "cut_mode": mode})
    with pytest.raises(StreamCut):
        await provider(ant, fast).complete("m", HI)


async def test_malformed_event_data(ant, fast):
    ant.push({"raw": "event: message_start\ndata: {oops\n\n"})
    with pytest.raises(MalformedResponse):
        await provider(ant, fast).complete("m", HI)


async def test_invalid_tool_input_json(ant, fast):
    ant.push({"tool_calls": [{"name": "edit", "raw_arguments": "[1, 2"}]})
    with pytest.raises(InvalidToolArguments, match="'edit'"):
        await provider(ant, fast).complete("m", HI)


async def test_prompt_caching_marks_the_prefix_and_the_latest_user_turn(ant, fast):
    ant.push_text("ok")
    history = [Message(role="system", content="rules"), Message(role="user", content="q1"),
               Message(role="assistant", content="a1"), Message(role="user", content="q2")]  # fmt: skip
    await provider(ant, fast).complete("m", history)
    body = ant.requests[0]
    eph = {"type": "ephemeral"}
    assert body["system"] == [{"type": "text", "text": "rules", "cache_control": eph}]
    assert "cache_control" not in body["messages"][0]["content"][-1]
    assert body["messages"][2]["content"][-1] == {
        "type": "text",
        "text": "q2",
        "cache_control": eph,
    }
