"""The scripted provider replays canned responses; the offline provider explains itself."""

from __future__ import annotations

import json

import pytest

from harness_ls.models import (
    Message,
    ModelConfigError,
    RateLimited,
    ScriptedProvider,
    ScriptExhausted,
    TextDelta,
    ToolCallEvent,
    Usage,
)

HI = [Message(role="user", content="hi")]


async def test_replays_file_responses_in_order(tmp_path):
    script = {"responses": [
        {"text": ["I will ", "write it."], "tool_calls": [{"name": "write_file", "arguments": {"path": "a", "content": "x"}}]},
        {"text": "Done.", "usage": {"input_tokens": 5, "output_tokens": 1}},
    ]}  # fmt: skip
    path = tmp_path / "s.json"
    path.write_text(json.dumps(script))
    p = ScriptedProvider(path)
    evs = [e async for e in p.stream("m", HI)]
    assert [e.text for e in evs if isinstance(e, TextDelta)] == ["I will ", "write it."]
    (call,) = [e.call for e in evs if isinstance(e, ToolCallEvent)]
    assert (
        call.name == "write_file"
        and call.arguments == {"path": "a", "content": "x"}
        and call.id == "call_1_1"
    )
    assert evs[-1].finish_reason == "tool_calls"
    second = await p.complete("m", HI)
    assert second.text == "Done." and second.usage == Usage(input_tokens=5, output_tokens=1)
    assert p.remaining == 0 and len(p.calls) == 2
    with pytest.raises(ScriptExhausted, match="all 2 responses"):
        await p.complete("m", HI)


async def test_accepts_a_list_and_scripted_errors():
    p = ScriptedProvider(
        [{"error": {"code": "model_rate_limited", "message": "slow"}}, {"text": "ok"}]
    )
    with pytest.raises(RateLimited, match="slow"):
        await p.complete("m", HI)
    assert (await p.complete("m", HI)).text == "ok"


def test_invalid_script_names_the_response():
    with pytest.raises(ModelConfigError, match=r"response 2: tool_calls.0.name"):
        ScriptedProvider([{"text": "a"}, {"tool_calls": [{"arguments": {}}]}])
    with pytest.raises(ModelConfigError, match="expected"):
        ScriptedProvider({"answers": []})


def test_unreadable_script_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ModelConfigError, match="cannot read"):
        ScriptedProvider(bad)
