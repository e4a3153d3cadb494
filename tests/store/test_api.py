"""The RunStore / EventStream API as other packages use it."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from harness_ls.errors import InvalidInput, NotFound, StorageError
from harness_ls.store import TERMINAL_RUN_EVENTS, Event, RunStore


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "data")


def new_run(store: RunStore, spec: str = "# Goal\nDo it.\n"):
    return store.create_run(
        workspace="/ws", spec_path="specs/demo/spec.md", spec_text=spec, model="m1"
    )


def test_create_run_writes_layout_and_first_event(store: RunStore) -> None:
    meta = new_run(store)
    d = store.root / "runs" / meta.id
    assert meta.id.startswith("run_") and meta.status == "created" and meta.kind == "run"
    assert (
        meta.title == "demo"
        and meta.workspace == "/ws"
        and meta.model == "m1"
        and meta.last_seq == 1
    )
    assert (d / "artifacts" / "spec.md").read_text() == "# Goal\nDo it.\n"
    line = json.loads((d / "events.ndjson").read_text().splitlines()[0])
    assert list(line) == ["seq", "id", "ts", "type", "run_id", "data"]
    assert line["seq"] == 1 and line["type"] == "run.created" and line["run_id"] == meta.id
    assert line["ts"].endswith("Z") and len(line["ts"]) == 24
    assert json.loads((d / "meta.json").read_text())["status"] == "created"


async def test_append_read_and_status_follow_events(store: RunStore) -> None:
    meta = new_run(store)
    s = store.stream("run", meta.id)
    await s.append("run.started", {"model": "m1"})
    await s.append("step.started", {"title": "plan"}, step_id="s1")
    await s.append("message.delta", {"text": "hel"}, step_id="s1")
    await s.append("approval.requested", {"tool": "write_file"}, step_id="s2")
    assert store.get("run", meta.id).status == "waiting_approval"
    await s.append("approval.resolved", {"decision": "approve", "surface": "http"}, step_id="s2")
    assert store.get("run", meta.id).status == "running"
    ev = await s.append("run.completed", {"outcome": "success"})
    assert isinstance(ev, Event) and ev.seq == 7 and ev.type in TERMINAL_RUN_EVENTS
    assert [e.seq for e in s.read()] == list(range(1, 8))
    assert [e.seq for e in s.read(after=5)] == [6, 7]
    await s.close()
    got = store.get("run", meta.id)
    assert got.status == "completed" and got.outcome == "success" and got.last_seq == 7
    assert [e.type for e in store.reader("run", meta.id).read(after=2)][:2] == [
        "step.started",
        "message.delta",
    ]


async def test_chatty_events_are_batched_but_visible_to_read(store: RunStore) -> None:
    meta = new_run(store)
    s = store.stream("run", meta.id)
    path = s.path
    before = path.stat().st_size
    await s.append("log", {"message": "x"})
    assert path.stat().st_size == before  # batched, not yet written
    assert [e.type for e in s.read(after=1)] == ["log"]  # read() makes it visible
    await s.append("log", {"message": "y"})
    assert store.get("run", meta.id).last_seq == 3  # exact even before the batch is written
    await asyncio.sleep(0.25)  # the batch timer writes it
    assert path.read_bytes().count(b"\n") == 3
    await s.close()


async def test_subscribe_replays_then_follows_live(store: RunStore) -> None:
    meta = new_run(store)
    s = store.stream("run", meta.id)
    for i in range(5):
        await s.append("log", {"message": str(i)})
    got: list[int] = []

    async def consume() -> None:
        async for ev in store.reader("run", meta.id).subscribe(after=2):
            got.append(ev.seq)
            if ev.type == "run.completed":
                return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.01)
    await s.append("run.started")
    await s.append("run.completed")
    await asyncio.wait_for(task, 2)
    assert got == [3, 4, 5, 6, 7, 8]
    await s.close()


async def test_subscriber_survives_writer_close_and_follows_new_writer(store: RunStore) -> None:
    meta = new_run(store)
    s = store.stream("run", meta.id)
    sub = store.reader("run", meta.id).subscribe(poll_interval=0.01)
    assert (await anext(sub)).seq == 1
    await s.append("run.started")
    assert (await anext(sub)).seq == 2
    await s.close()
    s2 = store.stream("run", meta.id)
    await s2.append("run.completed")
    assert (await asyncio.wait_for(anext(sub), 2)).type == "run.completed"
    await sub.aclose()
    await s2.close()


def test_unknown_and_bad_ids(store: RunStore) -> None:
    with pytest.raises(NotFound):
        store.get("run", "run_nope")
    with pytest.raises(NotFound):
        store.stream("run", "run_nope")
    for bad in ["../x", "a/b", "..", "a\x00b", "", " x", "a\\b", "x" * 200]:
        with pytest.raises(InvalidInput):
            store.get("run", bad)
    with pytest.raises(InvalidInput):
        store.get("bogus", "run_x")  # type: ignore[arg-type]


async def test_unknown_type_and_bad_data_are_invalid_input(store: RunStore) -> None:
    meta = new_run(store)
    s = store.stream("run", meta.id)
    with pytest.raises(InvalidInput, match="unknown event type"):
        await s.append("no.such")
    with pytest.raises(InvalidInput, match="tool.call"):
        await s.append("tool.call", {"arguments": {}})  # name missing
    assert s.last_seq == 1
    await s.close()


async def test_same_process_gets_the_same_writer(store: RunStore) -> None:
    meta = new_run(store)
    a = store.stream("run", meta.id)
    assert store.stream("run", meta.id) is a
    await a.close()
    b = store.stream("run", meta.id)
    assert b is not a
    await b.close()


async def test_reader_cannot_append(store: RunStore) -> None:
    meta = new_run(store)
    with pytest.raises(Exception, match="read-only"):
        await store.reader("run", meta.id).append("log", {"message": "x"})


async def test_list_newest_first_and_filter(store: RunStore) -> None:
    ids = [new_run(store).id for _ in range(3)]
    s = store.stream("run", ids[1])
    await s.append("run.started")
    await s.close()
    assert [m.id for m in store.list("run")] == ids[::-1]
    assert [m.id for m in store.list("run", status="running")] == [ids[1]]
    assert [m.id for m in store.list("run", limit=2)] == ids[:0:-1]
    assert store.list("session") == []


async def test_meta_is_rebuilt_from_log_when_lost(store: RunStore) -> None:
    meta = new_run(store)
    s = store.stream("run", meta.id)
    await s.append("run.started")
    await s.append("run.failed", {"error": "boom"})
    await s.close()
    path = store.root / "runs" / meta.id / "meta.json"
    path.write_text("{garbage")
    got = RunStore(store.root).get("run", meta.id)
    assert got.status == "failed" and got.outcome == "boom" and got.last_seq == 3
    assert json.loads(path.read_text())["status"] == "failed"
    path.unlink()
    assert RunStore(store.root).list("run")[0].status == "failed"


async def test_sessions(store: RunStore) -> None:
    meta = store.create_session(workspace="/ws", title="chat 1")
    assert meta.id.startswith("session_") and meta.status == "idle" and meta.kind == "session"
    assert store.attachments_dir(meta.id).is_dir()
    s = store.stream("session", meta.id)
    await s.append("user.message", {"content": "hi"})
    await s.append("turn.started", {"turn": 1})
    assert store.get("session", meta.id).status == "running"
    ev = await s.append("message.delta", {"text": "he"}, call_id="c1")
    assert ev.session_id == meta.id and ev.run_id is None and ev.call_id == "c1"
    await s.append("turn.completed", {"turn": 1})
    await s.close()
    assert store.get("session", meta.id).status == "idle"


async def test_oversize_event_is_stored_as_artifact(store: RunStore) -> None:
    meta = new_run(store)
    s = store.stream("run", meta.id)
    big = "x" * 400_000
    ev = await s.append("tool.result", {"name": "read_file", "ok": True, "output": big})
    ref = ev.data["$artifact"]
    assert ref["path"].startswith("artifacts/events/") and ref["truncated"] is True
    assert len(ev.data["output"]) < 5000
    on_disk = list(s.read(after=1))[0]
    assert on_disk.data == ev.data
    assert store.load_data("run", meta.id, on_disk)["output"] == big
    assert max(len(x) for x in s.path.read_bytes().split(b"\n")) < 10_000
    await s.close()


async def test_recover_interrupted_marks_only_in_flight_unlocked(store: RunStore) -> None:
    a, b, c = new_run(store), new_run(store), new_run(store)
    for rid in (a.id, b.id, c.id):
        s = store.stream("run", rid)
        await s.append("run.started")
        if rid == c.id:
            await s.append("run.completed")
        await s.close()
    live = store.stream("run", b.id)  # b's host is alive
    assert store.recover_interrupted() == [a.id]
    assert store.get("run", a.id).status == "interrupted"
    assert store.get("run", b.id).status == "running"
    assert store.get("run", c.id).status == "completed"
    await live.close()


def test_data_dir_not_writable_names_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    store = RunStore(blocker / "data")
    with pytest.raises(StorageError) as err:
        new_run(store)
    assert str(blocker) in err.value.message


@pytest.mark.parametrize(
    "path",
    ["{outside}", "../" * 30 + "{name}", "artifacts/events/" + "../" * 30 + "{name}",
     "artifacts/events/00000001-tool.result.json"],
)  # fmt: skip
async def test_an_artifact_reference_in_event_data_reads_only_the_stores_own_files(
    store: RunStore, tmp_path: Path, path: str
) -> None:
    """A `$artifact` reference is event data, which a remote worker writes too: it was followed
    to any JSON file of yours (`~/.docker/config.json`), or a link or FIFO planted there (fails
    on d0bf429)."""
    outside = tmp_path / "creds.json"
    outside.write_text('{"auths": "hunter2"}')
    meta = new_run(store)
    s = store.stream("run", meta.id)
    events = s.dir / "artifacts" / "events"
    events.mkdir(parents=True)
    (events / "00000001-tool.result.json").symlink_to(outside)
    rel = path.format(outside=outside, name=os.path.relpath(outside, "/"))
    data = {"name": "read_file", "ok": True, "$artifact": {"path": rel}}
    ev = await s.append("tool.result", data)
    await s.close()
    on_disk = list(s.read())[-1]
    assert on_disk.data["$artifact"] == {"path": rel}
    assert store.load_data("run", meta.id, on_disk) == on_disk.data
    assert "hunter2" not in json.dumps(store.load_data("run", meta.id, ev))
