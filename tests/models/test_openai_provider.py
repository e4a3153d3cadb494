"""OpenAI-compatible provider against a real local Chat Completions server (FakeOpenAIServer)."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from harness_ls.models import (
    BadRequest,
    ContentPart,
    ContextOverflow,
    HttpSettings,
    InvalidToolArguments,
    MalformedResponse,
    Message,
    ModelAuthError,
    ModelNotFound,
    OpenAIProvider,
    ProviderUnavailable,
    RateLimited,
    StreamCut,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    ToolSpec,
    Usage,
)
from harness_ls.testing.fake_models import FakeOpenAIServer, recorded_retries

HI = [Message(role="user", content="hi")]


async def events(provider, messages=HI, tools=None, **opts):
    return [ev async for ev in provider.stream("fake-model", messages, tools, **opts)]


async def test_streams_text_deltas_in_order_then_usage_and_done(oai, fast):
    oai.push({"text": ["Hel", "lo", " world"], "usage": {"input_tokens": 12, "output_tokens": 3}})
    evs = await events(OpenAIProvider(oai.base_url, settings=fast))
    assert [e.text for e in evs if isinstance(e, TextDelta)] == ["Hel", "lo", " world"]
    assert evs[-2] == Usage(input_tokens=12, output_tokens=3)
    assert evs[-1].finish_reason == "stop"
    body = oai.requests[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "fake-model" and body["messages"] == [{"role": "user", "content": "hi"}]


async def test_tool_calls_streamed_in_fragments_are_reassembled(oai, fast):
    args1 = {"path": "src/app.py", "content": "print('hi')\n" * 3}
    oai.push({"text": "Writing.", "fragment": 3, "tool_calls": [
        {"name": "write_file", "arguments": args1, "id": "call_a"},
        {"name": "read_file", "arguments": {"path": "b"}, "id": "call_b"}]})  # fmt: skip
    tools = [ToolSpec(name="write_file", description="write", parameters={"type": "object"})]
    done = await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI, tools)
    assert done.text == "Writing."
    assert [c.id for c in done.tool_calls] == ["call_a", "call_b"]
    assert done.tool_calls[0].arguments == args1
    assert json.loads(done.tool_calls[0].raw_arguments) == args1
    assert done.finish_reason == "tool_calls"
    sent = oai.requests[0]["tools"][0]
    assert sent == {
        "type": "function",
        "function": {
            "name": "write_file",
            "description": "write",
            "parameters": {"type": "object"},
        },
    }


async def test_history_with_tool_calls_and_results_maps_to_wire_format(oai, fast):
    oai.push_text("ok")
    call = ToolCall(
        id="c1", name="read_file", arguments={"path": "a"}, raw_arguments='{"path": "a"}'
    )
    history = [
        Message(role="system", content="be brief"),
        Message(role="user", content="read a"),
        Message(role="assistant", content="", tool_calls=[call]),
        Message(role="tool", tool_call_id="c1", content="contents of a"),
    ]
    await OpenAIProvider(oai.base_url, settings=fast).complete("m", history)
    msgs = oai.requests[0]["messages"]
    assert msgs[0] == {"role": "system", "content": "be brief"}
    assert msgs[2] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a"}'}}]}  # fmt: skip
    assert msgs[3] == {"role": "tool", "content": "contents of a", "tool_call_id": "c1"}


async def test_image_audio_and_file_parts_map_to_openai_parts(oai, fast):
    oai.push_text("seen")
    png = ContentPart.from_bytes(b"\x89PNG fake", "image/png", name="shot.png")
    wav = ContentPart.from_bytes(b"RIFF fake", "audio/wav")
    txt = ContentPart.from_bytes(b"hello notes", "text/markdown", name="notes.md")
    pdf = ContentPart.from_bytes(b"%PDF-1.7", "application/pdf", name="doc.pdf")
    msg = Message(role="user", content=[ContentPart.from_text("look"), png, wav, txt, pdf])
    await OpenAIProvider(oai.base_url, settings=fast).complete("m", [msg])
    parts = oai.requests[0]["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "look"}
    b64 = base64.b64encode(b"\x89PNG fake").decode()
    assert parts[1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64}"}}
    assert parts[2]["type"] == "input_audio" and parts[2]["input_audio"]["format"] == "wav"
    assert (
        parts[3]["type"] == "text"
        and "hello notes" in parts[3]["text"]
        and "notes.md" in parts[3]["text"]
    )
    assert parts[4]["type"] == "file" and parts[4]["file"]["filename"] == "doc.pdf"


async def test_429_waits_for_retry_after_then_succeeds(oai, fast):
    oai.push_error(429, "slow down", retry_after=1).push_text("after the wait")
    with recorded_retries() as notices:
        done = await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)
    assert done.text == "after the wait"
    assert [(n.retry_after_s, n.delay_s) for n in notices] == [(1.0, 1.0)]  # waited as asked
    assert len(oai.requests) == 2


async def test_retry_after_beyond_the_bound_is_reported_not_waited(oai, fast):
    oai.push_error(429, "slow down", retry_after=120)
    with pytest.raises(RateLimited, match="asks to wait 120 s"):  # wait_for: it did not wait
        await asyncio.wait_for(OpenAIProvider(oai.base_url, settings=fast).complete("m", HI), 10)
    assert len(oai.requests) == 1


async def test_500_is_retried_with_backoff_then_succeeds(oai, fast):
    oai.push_error(500).push_error(503).push_text("recovered")
    done = await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)
    assert done.text == "recovered" and len(oai.requests) == 3


async def test_persistent_500_gives_up_after_bounded_attempts(oai, fast):
    for _ in range(fast.max_retries + 1):
        oai.push_error(500, "boom")
    with pytest.raises(ProviderUnavailable, match=r"server error: boom \(after 4 attempts\)"):
        await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)


async def test_401_is_not_retried_and_names_the_key_variable(oai, fast):
    oai.push_error(401, "Incorrect API key provided")
    with pytest.raises(ModelAuthError) as info:
        await OpenAIProvider(
            oai.base_url, api_key="sk-secret-value-0123456789abcdef", settings=fast
        ).complete("m", HI)
    assert len(oai.requests) == 1
    assert "OPENAI_API_KEY" in info.value.hint
    assert "\n" not in info.value.one_line()
    assert oai.headers[0]["authorization"] == "Bearer sk-secret-value-0123456789abcdef"


async def test_404_unknown_model(oai, fast):
    oai.push_error(404, "The model `nope` does not exist", error_code="model_not_found")
    with pytest.raises(ModelNotFound, match="model 'nope' not found"):
        await OpenAIProvider(oai.base_url, settings=fast).complete("nope", HI)


@pytest.mark.parametrize("message,code", [
    ("This model's maximum context length is 8192 tokens", "context_length_exceeded"),
    ("the request exceeds the available context size, try increasing it", None),
])  # fmt: skip
async def test_context_overflow_is_typed(oai, fast, message, code):
    oai.push_error(400, message, error_code=code)
    with pytest.raises(ContextOverflow, match="too long"):
        await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)


async def test_other_400_is_a_bad_request_with_the_servers_message(oai, fast):
    oai.push_error(400, "temperature must be <= 2")
    with pytest.raises(BadRequest, match="temperature must be <= 2"):
        await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI, temperature=5)


async def test_malformed_json_in_the_stream_is_a_typed_error(oai, fast):
    oai.push({"raw": 'data: {"choices": [{"delta": {"content": "a"}}]}\n\ndata: {not json\n\n'})
    with pytest.raises(MalformedResponse, match="malformed JSON"):
        await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)


async def test_malformed_json_error_body_is_reported(oai, fast):
    oai.push({"raw": "<html>Bad Gateway</html>", "status": 400, "content_type": "text/html"})
    with pytest.raises(BadRequest, match="Bad Gateway"):
        await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)


@pytest.mark.parametrize("mode", ["close", "abort"])
async def test_cut_stream_is_reported_after_the_partial_text(oai, fast, mode):
    oai.push({"text": ["one ", "two ", "three"], "cut_after": 3, "cut_mode": mode})
    seen: list[str] = []
    with pytest.raises(StreamCut, match="stream"):
        async for ev in OpenAIProvider(oai.base_url, settings=fast).stream("m", HI):
            if isinstance(ev, TextDelta):
                seen.append(ev.text)
    assert seen == ["one ", "two "]


async def test_invalid_tool_call_json_is_a_typed_one_line_error(oai, fast):
    oai.push({"tool_calls": [{"name": "edit", "raw_arguments": '{"path": "a", "old": '}]})
    with pytest.raises(
        InvalidToolArguments, match="tool call 'edit' has invalid JSON arguments"
    ) as info:
        await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)
    assert info.value.details["raw_arguments"] == '{"path": "a", "old":'
    assert "\n" not in info.value.message


async def test_server_that_ignores_stream_flag_still_works(oai, fast):
    doc = {"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "whole",
           "tool_calls": [{"id": "x", "type": "function", "function": {"name": "t", "arguments": "{}"}}]}}],
           "usage": {"prompt_tokens": 3, "completion_tokens": 1}}  # fmt: skip
    oai.push({"raw": json.dumps(doc), "content_type": "application/json"})
    done = await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)
    assert (
        done.text == "whole"
        and done.tool_calls[0].name == "t"
        and done.finish_reason == "tool_calls"
    )
    assert done.usage == Usage(input_tokens=3, output_tokens=1)


async def test_unreachable_server_is_unavailable_with_a_hint(fast):
    with FakeOpenAIServer() as srv:
        url = srv.base_url
    settings = HttpSettings(max_retries=1, backoff_base=0.01, connect_timeout=1)
    with pytest.raises(ProviderUnavailable, match="cannot reach") as info:
        await OpenAIProvider(url, settings=settings).complete("m", HI)
    assert "base URL" in info.value.hint


async def test_stalled_stream_times_out(oai):
    oai.push({"text": ["a", "b"], "delay": 1.0})
    settings = HttpSettings(read_timeout=0.3, max_retries=0)
    with pytest.raises(ProviderUnavailable, match="stalled|no answer"):
        await OpenAIProvider(oai.base_url, settings=settings).complete("m", HI)


async def test_cancelling_a_stream_stops_promptly(oai, fast):
    oai.push({"text": ["a ", "b ", "c ", "d"], "delay": 0.4})
    got: list[object] = []
    first = asyncio.Event()

    async def consume():
        async for ev in OpenAIProvider(oai.base_url, settings=fast).stream("m", HI):
            got.append(ev)
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)  # guards a hang; how fast: benchmarks/cancel_latency.py
    await asyncio.sleep(0.5)  # past the next chunk's delay: nothing more arrives
    assert len(got) == 1 and task.cancelled()


async def test_options_map_to_chat_completion_fields(oai, fast):
    oai.push_text("{}")
    tools = [ToolSpec(name="edit")]
    await OpenAIProvider(oai.base_url, settings=fast).complete(
        "m", HI, tools, max_tokens=50, temperature=0.2, json=True, tool_choice="edit", seed=7
    )
    body = oai.requests[0]
    assert body["max_tokens"] == 50 and body["temperature"] == 0.2 and body["seed"] == 7
    assert body["response_format"] == {"type": "json_object"}
    assert body["tool_choice"] == {"type": "function", "function": {"name": "edit"}}


def test_tool_call_event_is_a_pydantic_model():
    ev = ToolCallEvent(call=ToolCall(id="1", name="x"))
    assert ev.model_dump()["call"]["arguments"] == {}


async def test_server_rejecting_stream_options_gets_one_retry_without_them(oai, fast):
    oai.push_error(400, "Unrecognized request argument supplied: stream_options").push_text("ok")
    assert (await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)).text == "ok"
    assert "stream_options" in oai.requests[0] and "stream_options" not in oai.requests[1]


async def test_one_script_drives_both_scripted_provider_and_fake_server(oai, fast):
    oai.push({"error": {"code": "model_auth", "message": "bad key"}})
    with pytest.raises(ModelAuthError, match="bad key"):
        await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)
    oai.push({"error": {"code": "model_context_overflow", "message": "too big"}})
    with pytest.raises(ContextOverflow):
        await OpenAIProvider(oai.base_url, settings=fast).complete("m", HI)
