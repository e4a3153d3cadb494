"""Holds (agent/holds.py) and approved-target checks (tools/target.py): what counts as the
identical call, and that a denial or a changed target holds in chat sessions too (real fake
OpenAI server on loopback, a real git repo)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from harness_ls.agent.holds import CallHolds, identity, logged_identity
from harness_ls.agent.replay import log_holds
from harness_ls.testing.fake_models import FakeOpenAIServer
from harness_ls.tools import TOOLS, Decision, parse_args
from harness_ls.tools.target import target_state, what_changed

from .conftest import events, next_approval

WS = Path("/w")


def _id(tool: str, **args) -> str:
    return identity(tool, parse_args(TOOLS[tool], args), WS)


def test_identical_means_same_tool_and_normalized_arguments():
    assert _id("shell", command="ls  -la") == _id("shell", command="ls -la")
    assert _id("shell", command="ls -la", timeout=5) == _id("shell", command="ls -la")
    assert _id("shell", command="echo 'a b'") != _id("shell", command="echo a b")
    same = [_id("write_file", path=p, content="x") for p in ("a/b.txt", "./a//b.txt", "/w/a/b.txt")]
    assert len(set(same)) == 1
    assert _id("write_file", path="a/b.txt", content="x") != _id(
        "write_file", path="a/b.txt", content="y"
    )
    assert _id("edit", path="a", old="x", new="y") == _id(
        "edit", path="a", old="x", new="y", replace_all=False
    )
    assert _id("read_file", path="a") != _id("write_file", path="a", content="")
    assert logged_identity(TOOLS, "shell", {"command": "ls   -la"}, WS) == _id(
        "shell", command="ls -la"
    )


def test_a_hold_turns_allow_into_ask_and_leaves_deny_and_ask():
    holds = CallHolds()
    key = _id("shell", command="make")
    allow = Decision(action="allow", rule="r")
    assert holds.apply(key, allow) == (allow, None)
    holds.deny(key, "session")
    decision, why = holds.apply(key, allow)
    assert decision.action == "ask" and "denied this identical call earlier in this session" in why
    holds.interrupted(key)
    assert holds.apply(key, allow)[1].startswith("interrupted: effects unknown")  # named first
    deny = Decision(action="deny", rule="r")
    assert holds.apply(key, deny)[0] is deny


def test_the_log_restores_denials_interruptions_and_denied_acceptance_tests(tmp_path):
    (tmp_path / "done.txt").write_text("done\n")

    def ev(type_: str, call_id: str | None = None, **data):
        return SimpleNamespace(type=type_, call_id=call_id, data=data)

    log = [
        ev("tool.call", "c1", name="shell", arguments={"command": "rm  x"}, kind="shell"),
        ev("tool.refused", "c1", reason="denied by dashboard", rule="user"),
        ev("tool.call", "c2", name="shell", arguments={"command": "rm y"}, kind="shell"),
        ev("tool.refused", "c2", reason="denied by policy (x)", rule="policy.toml [deny]"),
        ev("tool.call", "c3", name="shell", arguments={"command": "make"}, kind="shell"),
        ev("tool.result", "c3", error_code="interrupted", data={"started": True}),
        ev(
            "tool.call",
            "c4",
            name="write_file",
            arguments={"path": "done.txt", "content": "done\n"},
            kind="write",
        ),  # fmt: skip
        ev("tool.result", "c4", error_code="interrupted", data={"started": True}),
        ev("tool.call", "c5", name="read_file", arguments={"path": "a"}, kind="read"),
        ev("tool.result", "c5", error_code="interrupted", data={"started": True}),
        ev("verify.result", None, command="touch t", refused="denied by cli"),
        ev("verify.result", None, command="rm -rf /", refused="denied by policy (rm *)"),
    ]
    holds = log_holds(log, tmp_path, TOOLS, "session")
    key = lambda c: identity("shell", parse_args(TOOLS["shell"], {"command": c}), tmp_path)  # noqa: E731
    assert set(holds.denied) == {key("rm x"), key("touch t")}
    assert set(holds.unknown) == {key("make")}  # the applied write and the read: nothing to redo


@pytest.fixture
def srv(monkeypatch):
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        yield server


async def test_a_session_denial_holds_in_later_turns_under_an_allow_rule(harness, repo, srv):
    """The user denies `touch a.txt`, then allows `touch *` for the session ("approve similar"
    on `touch b.txt`); the model's identical `touch  a.txt` in a later turn still asks."""
    touch = {"command": "touch a.txt"}
    srv.push_tool_call("shell", touch).push_text("Denied, ok.")
    srv.push_tool_call("shell", {"command": "touch b.txt"}).push_text("b done.")
    srv.push_tool_call("shell", {"command": "touch  a.txt"}).push_text("a again.")
    meta = await harness.create_session(str(repo), model="openai:gpt-4.1")
    await harness.post_message(meta.id, "touch a", surface="cli")
    first = await next_approval(harness, meta.id)
    await harness.answer_approval(first.id, "deny", "cli")
    await harness.wait_session(meta.id)
    await harness.post_message(meta.id, "touch b", surface="cli")
    second = await next_approval(harness, meta.id)
    await harness.answer_approval(second.id, "approve", "cli", scope="similar")  # `touch *`
    await harness.wait_session(meta.id)
    await harness.post_message(meta.id, "touch a again", surface="cli")
    third = await next_approval(harness, meta.id)
    assert "denied this identical call earlier in this session" in third.preview.summary
    await harness.answer_approval(third.id, "deny", "cli")
    await harness.wait_session(meta.id)
    assert (repo / "b.txt").exists() and not (repo / "a.txt").exists()


async def test_a_session_write_whose_target_changed_asks_again(harness, repo, srv):
    srv.push_tool_call("write_file", {"path": "notes.txt", "content": "agent\n"}).push_text("ok")
    meta = await harness.create_session(str(repo), model="openai:gpt-4.1")
    await harness.post_message(meta.id, "write notes", surface="cli")
    first = await next_approval(harness, meta.id)
    (repo / "notes.txt").write_text("mine\n")
    await harness.answer_approval(first.id, "approve", "cli")
    again = await next_approval(harness, meta.id)
    assert again.id != first.id and "notes.txt was created while" in again.preview.summary
    assert "-mine" in again.preview.diff
    await harness.answer_approval(again.id, "deny", "cli")
    await harness.wait_session(meta.id)
    assert (repo / "notes.txt").read_text() == "mine\n"
    evs = events(harness, meta.id, "session")
    results = [e.data["error_code"] for e in evs if e.type == "tool.result"]
    assert results == ["target_changed"]


def test_target_state_sees_creation_edits_mode_symlinks_and_moved_directories(tmp_path):
    ws = tmp_path
    absent = target_state(ws, "d/f.txt")
    (ws / "d").mkdir()
    (ws / "d" / "f.txt").write_text("a")
    created = target_state(ws, "d/f.txt")
    assert "was created" in what_changed("d/f.txt", absent, created)
    (ws / "d" / "f.txt").write_text("b")
    edited = target_state(ws, "d/f.txt")
    assert edited != created and "was edited" in what_changed("d/f.txt", created, edited)
    (ws / "d" / "f.txt").chmod(0o600)
    assert target_state(ws, "d/f.txt") != edited
    (ws / "e").mkdir()
    (ws / "e" / "f.txt").write_text("b")
    before = target_state(ws, "d/f.txt")
    (ws / "d").rename(ws / "old")
    (ws / "d").symlink_to("e")
    assert "resolves elsewhere" in what_changed("d/f.txt", before, target_state(ws, "d/f.txt"))
