"""Export zips, id properties, and subscribers on other threads' event loops."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import zipfile
from pathlib import Path

from harness_ls.store import RunStore, new_id
from harness_ls.store.ids import id_time


async def test_export_run_is_complete_ordered_and_deterministic(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "data")
    meta = store.create_run(workspace="/ws", spec_path="specs/a/spec.md", spec_text="# Goal\nv1\n")
    (store.artifacts_dir(meta.id) / "notes.txt").write_text("hello")
    s = store.stream("run", meta.id)
    await s.append("run.started")
    await s.append("step.started", {"title": "Write code"}, step_id="s1")
    await s.append("tool.call", {"name": "write_file", "arguments": {"path": "a.py"}}, step_id="s1")
    await s.append("approval.requested", {"tool": "write_file"}, step_id="s1")
    await s.append("approval.resolved", {"decision": "approve", "surface": "lsp"}, step_id="s1")
    await s.append("verify.result", {"command": "pytest", "ok": True, "exit_code": 0})
    await s.append("message.delta", {"text": "partial"})  # batched: export must still include it
    await s.append("run.completed", {"outcome": "success"})
    await s.close()
    out = store.export_run(meta.id)
    assert out == store.root / "runs" / meta.id / "export.zip"
    first = out.read_bytes()
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert names == [
            "meta.json",
            "events.ndjson",
            "spec.md",
            "summary.md",
            "artifacts/notes.txt",
            "artifacts/spec.md",
        ]
        assert zf.read("spec.md") == b"# Goal\nv1\n"
        assert json.loads(zf.read("meta.json"))["status"] == "completed"
        assert len(zf.read("events.ndjson").splitlines()) == 9
        summary = zf.read("summary.md").decode()
    for needle in [
        "completed",
        "success",
        "Write code",
        "write_file: 1",
        "approve (by lsp)",
        "pass: `pytest`",
    ]:
        assert needle in summary, needle
    again = store.export_run(meta.id, tmp_path / "copy.zip").read_bytes()
    assert hashlib.sha256(again).digest() == hashlib.sha256(first).digest()


async def test_export_session_default_location_and_attachments(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "data")
    meta = store.create_session(workspace="/ws")
    (store.attachments_dir(meta.id) / "pic.png").write_bytes(b"\x89PNG")
    s = store.stream("session", meta.id)
    await s.append("user.message", {"content": "hello there"})
    await s.append("message", {"role": "assistant", "content": "hi!"})
    out = store.export_session(meta.id)  # while the writer is still open
    await s.close()
    assert out == store.root / "sessions" / meta.id / "export.zip"
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == ["meta.json", "events.ndjson", "summary.md", "attachments/pic.png"]
        summary = zf.read("summary.md").decode()
    assert "**user**: hello there" in summary and "**assistant**: hi!" in summary


def test_ids_are_unique_sortable_and_carry_time() -> None:
    ids = [new_id("run") for _ in range(5000)]
    assert len(set(ids)) == 5000 and ids == sorted(ids)
    assert all(len(i) == 30 and i.isascii() and "/" not in i for i in ids)
    t = id_time(ids[0])
    assert t is not None and t.year >= 2026


async def test_subscriber_on_another_threads_loop_gets_live_events(tmp_path: Path) -> None:
    """The LSP and the HTTP sidecar may run different event loops in one process."""
    store = RunStore(tmp_path / "data")
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    s = store.stream("run", run_id)
    got: list[int] = []
    ready = threading.Event()

    async def follow() -> None:
        sub = store.reader("run", run_id).subscribe()
        ready.set()
        async for ev in sub:
            got.append(ev.seq)
            if ev.type == "run.completed":
                return

    thread = threading.Thread(target=lambda: asyncio.run(follow()))
    thread.start()
    await asyncio.to_thread(ready.wait, 5)
    for i in range(200):
        await s.append("message.delta", {"text": str(i)})
        if i % 50 == 0:
            await asyncio.sleep(0.01)
    await s.append("run.completed")
    await asyncio.to_thread(thread.join, 10)
    assert got == list(range(1, 203))
    await s.close()


async def test_lagging_subscriber_catches_up_from_disk(tmp_path: Path, monkeypatch) -> None:
    from harness_ls.store import stream as stream_mod

    monkeypatch.setattr(stream_mod, "RING_CAPACITY", 16)
    store = RunStore(tmp_path / "data")
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    s = store.stream("run", run_id)
    sub = store.reader("run", run_id).subscribe()
    assert (await anext(sub)).seq == 1
    for i in range(100):  # the subscriber does not read meanwhile
        await s.append("message.delta", {"text": str(i)})
    rest = [(await anext(sub)).seq for _ in range(100)]
    assert rest == list(range(2, 102)) and sub.lagged >= 1
    await sub.aclose()
    await s.close()


async def test_cancelling_one_waiting_subscriber_does_not_disturb_the_others(
    tmp_path: Path,
) -> None:
    store = RunStore(tmp_path / "data")
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    s = store.stream("run", run_id)
    got: list[int] = []

    async def follow(out: list[int] | None) -> None:
        async for ev in store.reader("run", run_id).subscribe(after=1):
            if out is not None:
                out.append(ev.seq)
                if ev.seq == 3:
                    return

    victim = asyncio.create_task(follow(None))
    keeper = asyncio.create_task(follow(got))
    await asyncio.sleep(0.01)  # both wait on the live hub
    victim.cancel()
    await s.append("run.started")
    await s.append("run.completed")
    await asyncio.wait_for(keeper, 2)
    assert got == [2, 3] and victim.cancelled()
    await s.close()
