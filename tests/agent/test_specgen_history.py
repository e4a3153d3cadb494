"""Spec from a prompt (offline template, model with repair, no overwrite) and history trimming."""

from __future__ import annotations

import pytest

from harness_ls.agent.history import estimate_tokens, rebuild, trim
from harness_ls.errors import Conflict, InvalidInput, ModelError
from harness_ls.spec import validate
from harness_ls.store import Event
from harness_ls.testing.fake_models import FakeOpenAIServer

from .test_sessions import VALID_SPEC


async def test_offline_spec_from_prompt_writes_template_with_goal(harness, repo):
    res = await harness.spec_from_prompt(str(repo), "login", "Users can log in with email.")
    assert res.offline and "no model configured" in res.message
    text = (repo / "specs/login/spec.md").read_text()
    assert "Users can log in with email." in text and "# Acceptance tests" in text
    assert not [p for p in validate(text) if p.severity == "error"]
    with pytest.raises(Conflict, match="already exists"):
        await harness.spec_from_prompt(str(repo), "login", "again")
    with pytest.raises(Conflict, match="already exists"):
        harness.new_spec(str(repo), "login")
    with pytest.raises(InvalidInput, match="prompt is empty"):
        await harness.spec_from_prompt(str(repo), "other", "  ")
    with pytest.raises(InvalidInput, match="not valid"):
        await harness.spec_from_prompt(str(repo), "../evil", "x")


async def test_new_spec_from_template(harness, repo):
    path = harness.new_spec(str(repo), "add-login")
    assert path == repo / "specs/add-login/spec.md" and "# Goal" in path.read_text()


async def test_spec_from_prompt_with_model_repairs_then_writes(harness, repo, monkeypatch):
    with FakeOpenAIServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", srv.base_url)
        srv.push_text("# Goal\n\nonly a goal\n")
        srv.push_text(f"```markdown\n{VALID_SPEC}```")
        res = await harness.spec_from_prompt(
            str(repo), "french", "greet in French", model="openai:gpt-4.1"
        )
        assert not res.offline and res.attempts == 2
        assert (repo / "specs/french/spec.md").read_text() == VALID_SPEC
        assert "problems" in srv.requests[1]["messages"][-1]["content"]
        for _ in range(3):
            srv.push_text("nope")
        with pytest.raises(ModelError, match="invalid spec 3 times; nothing was written"):
            await harness.spec_from_prompt(str(repo), "never", "x", model="openai:gpt-4.1")
        assert not (repo / "specs/never").exists()
        # overwrite is explicit
        srv.push_text(VALID_SPEC.replace("French", "Italian"))
        await harness.spec_from_prompt(
            str(repo), "french", "Italian", model="openai:gpt-4.1", overwrite=True
        )
        assert "Italian" in (repo / "specs/french/spec.md").read_text()


def _ev(seq: int, type: str, data: dict, call_id: str | None = None) -> Event:
    return Event(
        seq=seq,
        id=f"ev_{seq}",
        ts="2026-01-01T00:00:00.000Z",
        type=type,
        session_id="ses_1",
        call_id=call_id,
        data=data,
    )


def test_history_rebuild_pairs_tool_calls_and_trims_oldest_turns():
    evs = [
        _ev(1, "user.message", {"content": "first " * 400}),
        _ev(
            2,
            "message",
            {
                "content": "",
                "tool_calls": [{"id": "m1", "name": "read_file", "arguments": {"path": "a"}}],
            },
        ),
        _ev(3, "tool.call", {"name": "read_file", "model_call_id": "m1"}, "call_1"),
        _ev(4, "tool.result", {"name": "read_file", "ok": True, "output": "A"}, "call_1"),
        _ev(5, "message", {"content": "a is A"}),
        _ev(6, "user.message", {"content": "second"}),
        _ev(
            7,
            "message",
            {"content": "", "tool_calls": [{"id": "m2", "name": "shell", "arguments": {}}]},
        ),
        # interrupted: no result for m2
        _ev(8, "user.message", {"content": "third"}),
    ]
    turns = rebuild(evs)
    assert [[m.role for m in t] for t in turns] == [
        ["user", "assistant", "tool", "assistant"],
        ["user", "assistant", "tool"],
        ["user"],
    ]
    assert turns[0][2].tool_call_id == "m1" and turns[0][2].content == "A"
    assert turns[1][2].content == "no result (interrupted)"
    kept, dropped = trim(
        turns, budget_tokens=estimate_tokens(turns[1]) + estimate_tokens(turns[2]) + 5
    )
    assert dropped == 1 and kept == turns[1:]
    kept, dropped = trim(turns, budget_tokens=1)
    assert dropped == 2 and kept == turns[2:]  # the newest turn always stays


def test_compacting_a_long_conversation_trims_oldest_tool_outputs_first():
    from harness_ls.agent.history import compact_tool_outputs
    from harness_ls.models import Message, ToolCall

    msgs = [Message(role="user", content="do it")]
    for i in range(8):
        msgs.append(
            Message(
                role="assistant", content="", tool_calls=[ToolCall(id=f"c{i}", name="read_file")]
            )
        )
        msgs.append(
            Message(
                role="tool",
                content=f"file {i} " + "x" * 4000,
                tool_call_id=f"c{i}",
                name="read_file",
            )
        )
    trimmed, before, after = compact_tool_outputs(msgs, budget_tokens=5000)
    assert trimmed >= 1 and after < before <= 9000
    tools = [m for m in msgs if m.role == "tool"]
    assert tools[0].content.startswith("[output of read_file trimmed")
    assert all(t.content.startswith("file") for t in tools[-4:])  # the newest stay intact
    assert [m.tool_call_id for m in tools] == [f"c{i}" for i in range(8)]
