"""Recovery closes what a dead host left open: approvals and tool calls (issue 26).

The dead host is simulated in-process: events are appended and the stream closed without a
terminal event, as after a `kill -9` (the real-process version is tests/e2e/test_crash_resume.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness_ls.store import RunStore


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "data")


async def test_a_run_killed_with_open_approvals_and_calls_is_closed_before_interrupted(store):
    rid = store.create_run(workspace="/w", spec_path="s.md", spec_text="# Goal\n").id
    s = store.stream("run", rid)
    await s.append("run.started")
    await s.append("step.started", {"phase": "execute"}, step_id="st_1")
    # call 1: allowed, ran, result recorded
    await s.append(
        "tool.call", {"name": "read_file", "action": "allow"}, step_id="st_1", call_id="c1"
    )
    await s.append("tool.result", {"name": "read_file", "ok": True}, step_id="st_1", call_id="c1")
    # call 2: approved, no result (it was running)
    await s.append("tool.call", {"name": "shell", "action": "ask"}, step_id="st_1", call_id="c2")
    await s.append(
        "approval.requested",
        {"approval_id": "ap2", "tool": "shell", "tool_call_id": "c2"},
        step_id="ap2",
    )
    await s.append(
        "approval.resolved", {"approval_id": "ap2", "decision": "approve"}, step_id="ap2"
    )
    # call 3: allowed by a rule, no result
    await s.append("tool.call", {"name": "shell", "action": "allow"}, step_id="st_1", call_id="c3")
    # call 4: waiting for its approval
    await s.append(
        "tool.call", {"name": "write_file", "action": "ask"}, step_id="st_1", call_id="c4"
    )
    await s.append(
        "approval.requested",
        {"approval_id": "ap4", "tool": "write_file", "tool_call_id": "c4"},
        step_id="ap4",
    )
    await s.close()  # the host dies: no run.interrupted

    assert store.recover_interrupted() == [rid]
    evs = list(store.reader("run", rid).read())
    closing = evs[-5:-1]
    assert [e.type for e in closing] == [
        "approval.resolved",
        "tool.result",
        "tool.result",
        "tool.result",
    ]
    resolved = closing[0].data
    assert resolved["approval_id"] == "ap4" and closing[0].step_id == "ap4"
    assert (resolved["decision"], resolved["surface"], resolved["reason"]) == (
        "cancelled",
        "recovery",
        "daemon stopped",
    )
    results = {e.call_id: e.data for e in closing[1:]}
    assert set(results) == {"c2", "c3", "c4"}
    for cid, started in (("c2", True), ("c3", True), ("c4", False)):
        r = results[cid]
        assert r["ok"] is False and r["error_code"] == "interrupted"
        assert r["data"]["started"] is started and r["data"]["exit_status"] is None
        assert r["data"]["effects"] == ("unknown" if started else "none")
    assert results["c2"]["output"].startswith("interrupted: effects unknown")
    assert store.get("run", rid).status == "interrupted"
    # a second recovery finds nothing open
    assert store.recover_interrupted() == []


async def test_a_session_killed_mid_turn_with_a_pending_approval_is_closed_too(store):
    sid = store.create_session(workspace="/w").id
    s = store.stream("session", sid)
    await s.append("turn.started", {"turn": 1})
    await s.append("tool.call", {"name": "shell", "action": "ask"}, call_id="c1")
    await s.append("approval.requested", {"approval_id": "c1", "tool": "shell"}, call_id="c1")
    await s.close()

    assert store.recover_interrupted() == [sid]
    evs = list(store.reader("session", sid).read())
    assert [e.type for e in evs[-3:]] == ["approval.resolved", "tool.result", "session.interrupted"]
    assert evs[-3].call_id == "c1" and evs[-3].data["decision"] == "cancelled"
    assert evs[-3].data["surface"] == "recovery"
    assert evs[-2].call_id == "c1" and evs[-2].data["data"]["started"] is False
