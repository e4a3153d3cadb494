"""Opening a damaged log: torn tails are cut aside, bad lines skipped with a warning, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness_ls.store import RunStore


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "data")


async def _run_with_events(store: RunStore, n: int) -> tuple[str, Path]:
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    s = store.stream("run", run_id)
    await s.append("run.started")
    for i in range(n):
        await s.append("step.started", {"title": f"s{i}"}, step_id=f"s{i}")
    await s.close()
    return run_id, s.path


async def test_torn_last_line_is_cut_aside_and_recorded(store: RunStore) -> None:
    run_id, path = await _run_with_events(store, 3)
    good = path.read_bytes()
    torn = b'{"seq":6,"id":"ev_x","ts":"2026-11-24T17:54:12.123Z","type":"step.sta'
    path.write_bytes(good + torn)
    # readers never see the half line, before or after repair
    assert [e.seq for e in store.reader("run", run_id).read()] == [1, 2, 3, 4, 5]
    s = store.stream("run", run_id)
    assert s.recovered == {
        "cut_bytes": len(torn),
        "corrupt_path": "events.ndjson.corrupt",
        "last_seq": 5,
    }
    events = list(s.read())
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[-1].type == "store.recovered" and events[-1].data["cut_bytes"] == len(torn)
    assert (path.parent / "events.ndjson.corrupt").read_bytes() == torn + b"\n"
    ev = await s.append("run.completed")
    assert ev.seq == 7
    await s.close()
    assert path.read_bytes().startswith(good)
    # a clean reopen repairs nothing more
    s = store.stream("run", run_id)
    assert s.recovered is None and s.last_seq == 7
    await s.close()


async def test_bad_middle_line_is_skipped_with_one_warning(store: RunStore) -> None:
    run_id, path = await _run_with_events(store, 3)
    lines = path.read_bytes().split(b"\n")
    lines[2] = b"this is not json"  # seq 3 destroyed
    path.write_bytes(b"\n".join(lines))
    offset = len(lines[0]) + len(lines[1]) + 2
    assert [e.seq for e in store.reader("run", run_id).read()] == [1, 2, 4, 5]
    s = store.stream("run", run_id)
    warn = list(s.read())[-1]
    assert warn.type == "store.warning" and warn.seq == 6
    assert warn.data["offset"] == offset and warn.data["excerpt"] == "this is not json"
    await s.close()
    s = store.stream("run", run_id)  # the same bad line is not reported twice
    assert [e.type for e in s.read()].count("store.warning") == 1
    await s.close()


async def test_lost_meta_and_garbage_meta_are_rebuilt_by_the_writer(store: RunStore) -> None:
    run_id, path = await _run_with_events(store, 2)
    meta_path = path.parent / "meta.json"
    meta_path.unlink()
    s = store.stream("run", run_id)
    await s.close()
    meta = json.loads(meta_path.read_text())
    assert meta["status"] == "running" and meta["last_seq"] == 4 and meta["workspace"] == "/ws"


async def test_empty_or_all_garbage_log_does_not_crash(store: RunStore) -> None:
    run_id, path = await _run_with_events(store, 0)
    path.write_bytes(b"\x00\x00\x00garbage without newline")
    s = store.stream("run", run_id)
    assert [e.type for e in s.read()] == ["store.recovered"]
    assert s.last_seq == 1
    await s.close()


async def test_subscribe_skips_bad_lines(store: RunStore) -> None:
    run_id, path = await _run_with_events(store, 3)
    path.write_bytes(path.read_bytes() + b"{broken\n")
    sub = store.reader("run", run_id).subscribe(poll_interval=0.01)
    got = [(await anext(sub)).seq for _ in range(5)]
    assert got == [1, 2, 3, 4, 5]
    await sub.aclose()
