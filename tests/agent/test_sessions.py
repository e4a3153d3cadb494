"""Chat and spec-mode sessions against the real fake OpenAI server on loopback."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from harness_ls.core import Harness
from harness_ls.errors import Conflict, InvalidInput, NotFound, Refused
from harness_ls.testing.fake_models import FakeOpenAIServer

from .conftest import events, next_approval

MODEL = "openai:gpt-4.1"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
VALID_SPEC = "# Goal\n\nGreet in French.\n\n# Constraints / nuances\n\n- Keep it short.\n\n# Acceptance tests\n\n- `grep -q bonjour greet.txt`\n"


@pytest.fixture
def srv(monkeypatch):
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server


def session_types(h: Harness, sid: str) -> list[str]:
    return [e.type for e in events(h, sid, "session")]


async def test_chat_turn_with_an_approved_write(harness, repo, srv):
    srv.push_tool_call(
        "write_file", {"path": "notes.txt", "content": "hello\n"}, text="Writing it."
    )
    srv.push_text("Done: ", "notes.txt created.")
    meta = await harness.create_session(str(repo), model=MODEL, title="notes")
    assert meta.status == "idle" and meta.id.startswith("ses")
    posted = await harness.post_message(meta.id, "create notes.txt saying hello", surface="cli")
    assert posted["queued"] is False and posted["turn"] == 1
    approval = await next_approval(harness, meta.id)
    assert (
        approval.id.startswith("call_")
        and approval.session_id == meta.id
        and approval.run_id is None
    )
    await harness.answer_approval(approval.id, "approve", "cli")
    final = await harness.wait_session(meta.id)
    assert final.status == "idle"
    assert (repo / "notes.txt").read_text() == "hello\n"
    evs = events(harness, meta.id, "session")
    t = [e.type for e in evs]
    for expected in ("user.message", "turn.started", "message.delta", "tool.call", "approval.requested",
                     "approval.resolved", "tool.result", "message", "turn.completed"):  # fmt: skip
        assert expected in t, expected
    requested = next(e for e in evs if e.type == "approval.requested")
    assert requested.call_id == approval.id
    done = next(e for e in evs if e.type == "turn.completed")
    assert done.data["ok"] is True and done.data["text"] == "Done: notes.txt created."


async def test_session_continues_after_restart_with_history_from_the_log(tmp_path, repo, srv):
    h1 = Harness(tmp_path / "data", policy_mode="full-auto")
    await h1.start()
    srv.push_tool_call("read_file", {"path": "greet.txt"})
    srv.push_text("It says hi.")
    meta = await h1.create_session(str(repo), model=MODEL)
    await h1.post_message(meta.id, "what does greet.txt say?")
    await h1.wait_session(meta.id)
    await h1.close()

    h2 = Harness(tmp_path / "data", policy_mode="full-auto")
    await h2.start()
    srv.push_text("You asked what greet.txt says.")
    await h2.post_message(meta.id, "what did I ask before?")
    await h2.wait_session(meta.id)
    await h2.close()
    sent = srv.requests[-1]["messages"]
    roles = [m["role"] for m in sent]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert "what does greet.txt say?" in json.dumps(sent[1]) and "hi" in json.dumps(sent[3])
    assert sent[2]["tool_calls"][0]["function"]["name"] == "read_file"


async def test_message_during_a_turn_is_queued_and_runs_after(harness, repo, srv):
    srv.push_text("first answer", delay=0.05)
    srv.push_text("second answer")
    meta = await harness.create_session(str(repo), model=MODEL)
    a = await harness.post_message(meta.id, "one")
    b = await harness.post_message(meta.id, "two")
    assert a["queued"] is False and b["queued"] is True
    await harness.wait_session(meta.id)
    evs = events(harness, meta.id, "session")
    assert [e.data["turn"] for e in evs if e.type == "turn.completed"] == [1, 2]
    assert [e.data["turn"] for e in evs if e.type == "turn.queued"] == [2]
    assert json.dumps(srv.requests[1]["messages"]).count("first answer") == 1


async def test_cancel_a_running_turn_then_continue(harness, repo, srv):
    srv.push_text(*(["slow "] * 50), delay=0.1)
    srv.push_text("fresh answer")
    meta = await harness.create_session(str(repo), model=MODEL)
    await harness.post_message(meta.id, "take your time")
    for _ in range(250):
        if "message.delta" in session_types(harness, meta.id):
            break
        await asyncio.sleep(0.02)
    await harness.cancel_turn(meta.id)
    assert session_types(harness, meta.id)[-1] == "turn.cancelled"
    with pytest.raises(Conflict, match="no turn running"):
        await harness.cancel_turn(meta.id)
    await harness.post_message(meta.id, "again")
    await harness.wait_session(meta.id)
    last = events(harness, meta.id, "session")[-1]
    assert last.type == "turn.completed" and last.data["text"] == "fresh answer"


async def test_spec_mode_repairs_an_invalid_model_answer(harness, repo, srv):
    srv.push_tool_call("write_spec", {"content": "# Goal\n\nGreet in French.\n"})
    srv.push_tool_call("write_spec", {"content": f"```markdown\n{VALID_SPEC}```"})
    srv.push_text("The spec now asks for French greetings.")
    meta = await harness.create_session(
        str(repo), mode="spec", spec_path="specs/greet/spec.md", model=MODEL
    )
    assert meta.mode == "spec"
    await harness.post_message(meta.id, "make it about French greetings")
    await harness.wait_session(meta.id)
    evs = events(harness, meta.id, "session")
    validated = [e.data["ok"] for e in evs if e.type == "spec.validated"]
    assert validated == [False, True]
    assert (repo / "specs/greet/spec.md").read_text() == VALID_SPEC
    written = next(e for e in evs if e.type == "spec.written")
    assert written.data["via"] == "disk"
    # the model saw the problems of its first attempt
    assert "NOT written" in json.dumps(srv.requests[1]["messages"])
    assert "approval.requested" not in [e.type for e in evs]
    # spec mode offers only reads + write_spec
    names = {t["function"]["name"] for t in srv.requests[0]["tools"]}
    assert "write_spec" in names and "write_file" not in names and "shell" not in names


async def test_spec_mode_gives_up_after_bounded_invalid_answers(harness, repo, srv):
    for _ in range(3):
        srv.push_tool_call("write_spec", {"content": "not a spec"})
    before = (repo / "specs/greet/spec.md").read_text()
    meta = await harness.create_session(
        str(repo), mode="spec", spec_path="specs/greet/spec.md", model=MODEL
    )
    await harness.post_message(meta.id, "break it")
    await harness.wait_session(meta.id)
    last = events(harness, meta.id, "session")[-1]
    assert last.type == "turn.completed" and last.data["ok"] is False
    assert "invalid spec 3 times" in last.data["error"]
    assert (repo / "specs/greet/spec.md").read_text() == before


async def test_attachments_image_and_text_round_trip(harness, repo, srv):
    srv.push_text("A tiny image and a note.")
    meta = await harness.create_session(str(repo), model=MODEL)
    img = await harness.add_attachment(meta.id, "shot.png", PNG)
    img2 = await harness.add_attachment(meta.id, "shot.png", PNG)
    note = await harness.add_attachment(meta.id, "../note.md", b"# Note\nremember the milk\n")
    assert img["ref"] == "attachments/shot.png" and img2["ref"] == "attachments/shot-1.png"
    assert img["mime"] == "image/png" and note["ref"] == "attachments/note.md"
    await harness.post_message(
        meta.id, "what are these?", refs=[img["ref"], {"ref": note["ref"], "mime": "text/markdown"}]
    )
    await harness.wait_session(meta.id)
    user = srv.requests[0]["messages"][-1]
    parts = user["content"]
    kinds = [p["type"] for p in parts]
    assert kinds[0] == "text" and "image_url" in kinds
    image = next(p for p in parts if p["type"] == "image_url")
    assert image["image_url"]["url"].startswith("data:image/png;base64,")
    assert any("remember the milk" in (p.get("text") or "") for p in parts)
    added = [e for e in events(harness, meta.id, "session") if e.type == "attachment.added"]
    assert len(added) == 3


async def test_bad_session_input_gets_clear_errors(harness, repo, srv):
    meta = await harness.create_session(str(repo), model=MODEL)
    with pytest.raises(InvalidInput, match="message is empty"):
        await harness.post_message(meta.id, "   ")
    with pytest.raises(NotFound):
        await harness.post_message("ses_nope", "hi")
    with pytest.raises(NotFound, match="unknown attachment ref"):
        await harness.post_message(meta.id, "hi", refs=["attachments/missing.png"])
    with pytest.raises(Refused):
        await harness.post_message(meta.id, "hi", refs=["attachments/../../meta.json"])
    with pytest.raises(InvalidInput, match="unknown binary"):
        await harness.add_attachment(meta.id, "blob.bin", b"\x00\x01\x02\x03" * 10)
    with pytest.raises(InvalidInput, match="declared image/png but its content is text/plain"):
        await harness.add_attachment(meta.id, "fake.png", b"hello", mime="image/png")
    from harness_ls.agent import attachments

    with pytest.raises(InvalidInput, match="limit"):
        attachments.store_attachment(repo, "big.txt", b"x" * (attachments.MAX_BYTES + 1))
    with pytest.raises(InvalidInput, match="mode must be"):
        await harness.create_session(str(repo), mode="poetry")
    with pytest.raises(InvalidInput, match="spec path"):
        await harness.create_session(str(repo), mode="spec")
    with pytest.raises(Refused, match="outside the workspace"):
        await harness.create_session(str(repo), mode="spec", spec_path="../x.md")


OGG = b"OggS\x00\x02" + b"\x00" * 60
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40


def _texts(message: dict) -> str:
    content = message["content"]
    if isinstance(content, str):
        return content
    return "\n".join(p.get("text") or "" for p in content if p["type"] == "text")


async def test_unsupported_attachment_is_left_out_with_a_note_and_later_turns_work(
    harness, repo, srv
):
    """An OGG the provider's wire format cannot carry (OpenAI takes WAV/MP3) is dropped from
    the turn with a note to the model and an event; it never blocks this or any later turn."""
    srv.push_text("I cannot hear OGG, but here is my answer.")
    srv.push_text("Plain answer.")
    meta = await harness.create_session(str(repo), model="openai:gpt-4o-audio-preview")
    ogg = await harness.add_attachment(meta.id, "voice.ogg", OGG)
    assert ogg["mime"] == "audio/ogg"
    await harness.post_message(meta.id, "listen to this", refs=[ogg["ref"]])
    await harness.wait_session(meta.id)
    await harness.post_message(meta.id, "and now plain text")
    await harness.wait_session(meta.id)
    assert len(srv.requests) == 2  # the model was called for both turns
    note = (
        "[attachment voice.ogg could not be sent to you: audio type audio/ogg is not accepted; "
        "send WAV or MP3 audio]"
    )
    for request in srv.requests:
        user_msgs = [m for m in request["messages"] if m["role"] == "user"]
        assert note in _texts(user_msgs[0])
        assert "input_audio" not in json.dumps(request)
    evs = events(harness, meta.id, "session")
    skipped = [e.data for e in evs if e.type == "attachment.skipped"]
    assert skipped == [
        {
            "name": "voice.ogg",
            "mime": "audio/ogg",
            "reason": "audio type audio/ogg is not accepted; send WAV or MP3 audio",
            "model": "openai:gpt-4o-audio-preview",
        }
    ]  # said once, in the turn it came with
    completed = [e.data for e in evs if e.type == "turn.completed"]
    assert [c["ok"] for c in completed] == [True, True]


async def test_audio_for_a_model_without_audio_input_is_left_out_with_the_reason(
    harness, repo, srv
):
    srv.push_text("No audio here.")
    meta = await harness.create_session(str(repo), model=MODEL)
    wav = await harness.add_attachment(meta.id, "hi.wav", WAV)
    await harness.post_message(meta.id, "listen", refs=[wav["ref"]])
    await harness.wait_session(meta.id)
    skipped = next(
        e.data for e in events(harness, meta.id, "session") if e.type == "attachment.skipped"
    )
    assert skipped["reason"] == "openai:gpt-4.1 has no audio input"
    assert "has no audio input" in _texts(srv.requests[0]["messages"][-1])


@pytest.mark.parametrize(
    "name,declared",
    [
        ("main.rs", "application/rls-services+xml"),
        ("schema.sql", "application/sql"),
        ("run.bat", "application/x-msdos-program"),
        ("lib.rb", None),
        ("app.dart", None),
    ],
)
async def test_source_files_of_any_extension_are_text(harness, repo, name, declared):
    meta = await harness.create_session(str(repo), model=MODEL)
    info = await harness.add_attachment(meta.id, name, b"fn main() {}\n", mime=declared)
    assert info["mime"].startswith("text/") or info["mime"] in (
        "application/json",
        "application/xml",
    ), info


async def test_offline_session_says_no_model(harness, repo):
    meta = await harness.create_session(str(repo))
    await harness.post_message(meta.id, "hello?")
    await harness.wait_session(meta.id)
    evs = events(harness, meta.id, "session")
    unavailable = next(e for e in evs if e.type == "model.unavailable")
    assert "OPENAI_API_KEY" in unavailable.data["hint"]
    assert evs[-1].type == "turn.completed" and evs[-1].data["ok"] is False


async def test_long_history_is_trimmed_to_the_models_context_with_an_event(harness, repo, srv):
    (repo / ".harness").mkdir()
    (repo / ".harness" / "models.toml").write_text(
        '[[models]]\nid = "tiny"\nprovider = "openai"\ncontext_window = 1500\n'
    )
    srv.push_text("noted")
    srv.push_text("short answer")
    meta = await harness.create_session(str(repo), model="openai:tiny")
    await harness.post_message(meta.id, "remember this: " + "lorem ipsum " * 700)
    await harness.wait_session(meta.id)
    await harness.post_message(meta.id, "and now?")
    await harness.wait_session(meta.id)
    trimmed = [e for e in events(harness, meta.id, "session") if e.type == "context.trimmed"]
    assert len(trimmed) == 1 and trimmed[0].data["dropped"] == 1
    assert trimmed[0].data["tokens_after"] < trimmed[0].data["tokens_before"]
    sent = json.dumps(srv.requests[-1]["messages"])
    assert "lorem ipsum" not in sent and "and now?" in sent
    usage = [e for e in events(harness, meta.id, "session") if e.type == "model.usage"]
    assert usage and "cost" in usage[0].data


async def test_approve_similar_lasts_for_the_rest_of_the_session(harness, repo, srv):
    srv.push_tool_call("write_file", {"path": "notes/a.txt", "content": "a"})
    srv.push_text("wrote a")
    srv.push_tool_call("write_file", {"path": "notes/b.txt", "content": "b"})
    srv.push_text("wrote b")
    meta = await harness.create_session(str(repo), model=MODEL)
    await harness.post_message(meta.id, "write a")
    approval = await next_approval(harness, meta.id)
    await harness.answer_approval(approval.id, "approve", "dashboard", scope="similar")
    await harness.wait_session(meta.id)
    await harness.post_message(meta.id, "write b")
    await harness.wait_session(meta.id)
    assert (repo / "notes/b.txt").read_text() == "b"
    asked = [e for e in events(harness, meta.id, "session") if e.type == "approval.requested"]
    assert len(asked) == 1


async def test_closed_session_refuses_messages(harness, repo, srv):
    srv.push_text(*(["slow "] * 40), delay=0.05)
    meta = await harness.create_session(str(repo), model=MODEL)
    await harness.post_message(meta.id, "one")
    await harness.post_message(meta.id, "two (queued)")
    closed = await harness.close_session(meta.id)
    assert closed.status == "closed"
    t = session_types(harness, meta.id)
    assert t[-1] == "session.closed" and t.count("turn.started") <= 1
    with pytest.raises(Conflict, match="closed"):
        await harness.post_message(meta.id, "three")
    with pytest.raises(Conflict, match="already closed"):
        await harness.close_session(meta.id)
