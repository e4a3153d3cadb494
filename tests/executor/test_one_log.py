"""The control plane's half of "one event log", without a cluster: worker-made ids are kept, a
message delivered twice is written once, and an approval asked again after a re-attach is
logged once. (The worker side is exercised on a real cluster in test_ray_*.py.)"""

from __future__ import annotations

from pathlib import Path

from harness_ls.core import Harness
from harness_ls.executor.control import RemoteRun
from harness_ls.executor.relay import Outbox, RelayStream


async def test_a_message_delivered_twice_is_written_once(tmp_path: Path) -> None:
    h = Harness(tmp_path / "data")
    meta = h.store.create_run(workspace=str(tmp_path), spec_path="s.md", spec_text="x")
    outbox = Outbox()
    worker = RelayStream(meta.id, tmp_path / "w", outbox, [], lambda trees: b"")
    worker.append_nowait("log", {"level": "info", "message": "one"})
    worker.append_nowait("step.started", {"phase": "execute", "title": "t"}, step_id="st_1")
    sent = await outbox.after(0, 0)
    remote = RemoteRun(h, None, meta.id, tmp_path)
    remote.open()
    for msg in [*sent, *sent]:  # a retried pull brings the same messages again
        await remote._handle(msg)
    await remote.stream.close()
    evs = list(h.store.reader("run", meta.id).read())
    assert [e.type for e in evs] == ["run.created", "log", "step.started"]
    assert [e.id for e in evs[1:]] == [m["event"]["id"] for m in sent]
    assert [e.seq for e in evs] == [1, 2, 3]
    # a new agentd (re-attach) knows the ids from the log: still written once
    again = RemoteRun(h, None, meta.id, tmp_path)
    again.open()
    for msg in sent:
        await again._handle(msg)
    await again.stream.close()
    assert len(list(h.store.reader("run", meta.id).read())) == 3


async def test_the_outbox_keeps_messages_until_acknowledged(tmp_path: Path) -> None:
    box = Outbox()
    for i in range(3):
        box.put({"kind": "event", "i": i})
    first = await box.after(0, 0)
    assert [m["n"] for m in first] == [1, 2, 3]
    assert [m["n"] for m in await box.after(0, 0)] == [1, 2, 3]  # not acknowledged: again
    assert [m["n"] for m in await box.after(2, 0)] == [3]
    assert await box.after(3, 0.01) == []
    box.put({"kind": "end"})
    assert [m["n"] for m in await box.after(3, 0)] == [4]
