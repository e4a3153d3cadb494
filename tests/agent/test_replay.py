"""Rebuilding an interrupted step from its log (agent/replay.py, issue 26).

Events are written through a real RunStore stream and read back, as a resumed run reads them.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

from harness_ls.agent.replay import already_applied, interrupted_step
from harness_ls.store import RunStore
from harness_ls.store.recover import closing_events
from harness_ls.tools.textfile import MAX_TEXT_BYTES


def _msg(*calls: tuple[str, str, dict]) -> dict:
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"id": i, "name": n, "arguments": a} for i, n, a in calls],
    }


async def _log(tmp_path: Path) -> list:
    store = RunStore(tmp_path / "data")
    rid = store.create_run(workspace="/w", spec_path="s.md", spec_text="# Goal\n").id
    s = store.stream("run", rid)
    st = "st_1"
    await s.append("step.started", {"phase": "execute", "title": "T"}, step_id=st)
    # turn 1: one call, finished
    await s.append("message", _msg(("m1", "read_file", {"path": "a"})), step_id=st)
    await s.append(
        "tool.call", {"name": "read_file", "model_call_id": "m1"}, step_id=st, call_id="c1"
    )
    await s.append(
        "tool.result", {"name": "read_file", "ok": True, "output": "A"}, step_id=st, call_id="c1"
    )
    # turn 2 (the model reuses its ids): done, refused, effects unknown, waiting, never logged
    await s.append(
        "message",
        _msg(
            ("m1", "shell", {"command": "echo 1"}),
            ("m2", "shell", {"command": "rm -rf /"}),
            ("m3", "shell", {"command": "echo 3"}),
            ("m4", "write_file", {"path": "x", "content": "x"}),
            ("m5", "shell", {"command": "echo 5"}),
        ),
        step_id=st,
    )
    await s.append(
        "tool.call",
        {"name": "shell", "model_call_id": "m1", "action": "allow"},
        step_id=st,
        call_id="c2",
    )
    await s.append(
        "tool.result",
        {"name": "shell", "ok": False, "output": "boom", "error_code": "exit_1"},
        step_id=st,
        call_id="c2",
    )
    await s.append(
        "tool.call",
        {"name": "shell", "model_call_id": "m2", "action": "deny"},
        step_id=st,
        call_id="c3",
    )
    await s.append(
        "tool.refused", {"name": "shell", "reason": "denied by policy"}, step_id=st, call_id="c3"
    )
    await s.append(
        "tool.call",
        {"name": "shell", "model_call_id": "m3", "action": "allow"},
        step_id=st,
        call_id="c4",
    )
    await s.append(
        "tool.call",
        {"name": "write_file", "model_call_id": "m4", "action": "ask"},
        step_id=st,
        call_id="c5",
    )
    await s.append(
        "approval.requested", {"approval_id": "ap5", "tool_call_id": "c5"}, step_id="ap5"
    )
    for t, data, step_id, call_id in closing_events(s.read()):  # what recovery writes
        await s.append(t, data, step_id=step_id, call_id=call_id)
    await s.close()
    return list(store.reader("run", rid).read())


async def test_the_interrupted_step_is_rebuilt_with_each_call_state(tmp_path: Path):
    replay = interrupted_step(await _log(tmp_path))
    assert replay is not None and replay.step_id == "st_1" and replay.phase == "execute"
    roles = [m.role for m in replay.history]
    assert roles == ["assistant", "tool", "assistant"]  # turn 1 complete, turn 2's assistant
    assert replay.history[1].content == "A"
    states = [(rc.call.id, rc.state) for rc in replay.last]
    assert states == [
        ("m1", "done"),
        ("m2", "done"),
        ("m3", "unknown"),
        ("m4", "not_started"),
        ("m5", "unlogged"),
    ]
    assert replay.last[0].content == "Error (exit_1): boom"
    assert replay.last[1].content == "Refused: denied by policy"
    assert [c.call.id for c in replay.interrupted_calls] == ["m3"]
    assert replay.finished_calls == 3


async def test_a_completed_step_or_a_plan_step_has_nothing_to_replay(tmp_path: Path):
    evs = await _log(tmp_path)
    done = [
        *evs,
        type(evs[0])(
            **{
                **evs[0].model_dump(),
                "seq": 999,
                "type": "step.completed",
                "step_id": "st_1",
                "data": {},
            }
        ),
    ]
    assert interrupted_step(done) is None
    assert interrupted_step([]) is None


def test_a_write_whose_target_already_holds_the_content_is_not_redone(tmp_path: Path):
    (tmp_path / "f.txt").write_text("new\n")
    assert already_applied(tmp_path, "write_file", {"path": "f.txt", "content": "new\n"})
    assert already_applied(tmp_path, "write_file", {"path": "f.txt", "content": "other\n"}) is None
    assert already_applied(tmp_path, "write_file", {"path": "missing", "content": ""}) is None
    assert already_applied(tmp_path, "write_file", {"path": "../f.txt", "content": "new\n"}) is None
    assert already_applied(tmp_path, "edit", {"path": "f.txt", "old": "old", "new": "new"})
    assert already_applied(tmp_path, "edit", {"path": "f.txt", "old": "ne", "new": "new"}) is None
    assert already_applied(tmp_path, "shell", {"command": "true"}) is None


def test_an_interrupted_write_is_checked_without_reading_a_huge_file_whole(tmp_path: Path):
    """On crash-resume the target of an interrupted write was read whole (`read_bytes`): a huge
    sparse file at that path (`truncate -s 50G`, no disk used) went into the daemon's memory.
    A write compares by size first; an edit reads at most the edit tool's own limit."""
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.write(b"new\n")
        fh.truncate(2 * 1024**3)  # 2 GiB, no disk used
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    assert already_applied(tmp_path, "write_file", {"path": "big.txt", "content": "new\n"}) is None
    assert already_applied(tmp_path, "edit", {"path": "big.txt", "old": "x", "new": "new"}) is None
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 256, grown_mib


def test_an_edit_over_the_edit_tools_limit_is_not_taken_as_applied(tmp_path: Path):
    """The edit tool refuses files over MAX_TEXT_BYTES, so such a file never held its edit."""
    (tmp_path / "f.txt").write_bytes(b"new\n" + b"a" * MAX_TEXT_BYTES)
    assert already_applied(tmp_path, "edit", {"path": "f.txt", "old": "x", "new": "new"}) is None
    (tmp_path / "f.txt").write_bytes(b"new\n")
    assert already_applied(tmp_path, "edit", {"path": "f.txt", "old": "x", "new": "new"}) == (
        "f.txt already holds the edit (old text gone, new text present)"
    )


def test_a_fifo_at_an_interrupted_write_never_blocks_the_resume(tmp_path: Path):
    os.mkfifo(tmp_path / "pipe")
    assert already_applied(tmp_path, "write_file", {"path": "pipe", "content": ""}) is None
    assert already_applied(tmp_path, "edit", {"path": "pipe", "old": "a", "new": "b"}) is None


def test_a_link_at_an_interrupted_write_leading_out_is_not_read(tmp_path: Path):
    ws, outside = tmp_path / "ws", tmp_path / "home"
    ws.mkdir()
    outside.mkdir()
    (outside / "key").write_text("new\n")
    os.symlink(outside / "key", ws / "f.txt")
    assert already_applied(ws, "write_file", {"path": "f.txt", "content": "new\n"}) is None
    assert already_applied(ws, "edit", {"path": "f.txt", "old": "x", "new": "new"}) is None
