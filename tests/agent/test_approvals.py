"""ApprovalBroker: first answer wins, from any surface or thread; cancellation; subscriptions.

The broker only ever calls `stream.append`, so these unit tests record appends in memory; the run
tests exercise the broker with the real RunStore.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from harness_ls.agent.approvals import ApprovalBroker
from harness_ls.errors import Conflict, InvalidInput, NotFound


class RecordingStream:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict, dict]] = []

    async def append(self, type, data=None, **ids):
        self.events.append((type, data or {}, ids))


PREVIEW = {"kind": "write", "summary": "write a.txt", "path": "a.txt", "diff": "+hi"}


async def _request(broker, stream, id="st_1", run_id="run_1"):
    return asyncio.create_task(
        broker.request(
            stream=stream, id=id, tool="write_file", preview=PREVIEW, run_id=run_id, spec_line=3
        )
    )


async def _until_pending(broker, id):
    for _ in range(200):
        if any(a.id == id for a in broker.pending()):
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{id} never became pending")


async def test_approve_resolves_request_and_records_both_events():
    broker, stream = ApprovalBroker(), RecordingStream()
    task = await _request(broker, stream)
    await _until_pending(broker, "st_1")
    pending = broker.pending()
    assert [p.id for p in pending] == ["st_1"] and pending[0].spec_line == 3
    answered = broker.answer("st_1", "approve", "editor", "looks fine")
    assert answered.status == "approved" and answered.surface == "editor"
    res = await task
    assert res.approved and res.surface == "editor" and res.note == "looks fine"
    types = [e[0] for e in stream.events]
    assert types == ["approval.requested", "approval.resolved"]
    assert stream.events[0][1]["preview"]["diff"] == "+hi"
    assert stream.events[0][2] == {"step_id": "st_1"}
    assert stream.events[1][1] == {
        "approval_id": "st_1",
        "decision": "approve",
        "surface": "editor",
        "note": "looks fine",
        "scope": "once",
    }
    assert broker.pending() == []


async def test_second_answer_is_rejected_after_dashboard_approves():
    broker, stream = ApprovalBroker(), RecordingStream()
    task = await _request(broker, stream)
    await _until_pending(broker, "st_1")
    broker.answer("st_1", "approve", "dashboard")
    with pytest.raises(Conflict, match=r"already answered \(by dashboard, approve\)"):
        broker.answer("st_1", "deny", "editor")
    assert (await task).decision == "approve"


async def _race_two_surfaces(id: str) -> None:
    broker, stream = ApprovalBroker(), RecordingStream()
    task = await _request(broker, stream, id=id)
    await _until_pending(broker, id)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def answer(surface, decision):
        barrier.wait()
        try:
            broker.answer(id, decision, surface)
            outcomes[surface] = "won"
        except Conflict:
            outcomes[surface] = "conflict"

    threads = [
        threading.Thread(target=answer, args=("editor", "approve")),
        threading.Thread(target=answer, args=("dashboard", "deny")),
    ]
    for t in threads:
        t.start()

    def join() -> None:
        for t in threads:
            t.join()

    await asyncio.to_thread(join)
    assert sorted(outcomes.values()) == ["conflict", "won"]
    winner = next(s for s, o in outcomes.items() if o == "won")
    res = await task
    assert res.surface == winner
    resolved = [e for e in stream.events if e[0] == "approval.resolved"]
    assert len(resolved) == 1 and resolved[0][1]["surface"] == winner


async def test_two_threads_answering_concurrently_exactly_one_wins():
    for round_ in range(20):
        await _race_two_surfaces(f"st_{round_}")


async def test_cancel_for_resolves_only_that_runs_approvals_as_cancelled():
    broker, stream = ApprovalBroker(), RecordingStream()
    a = await _request(broker, stream, id="st_a", run_id="run_a")
    b = await _request(broker, stream, id="st_b", run_id="run_b")
    await _until_pending(broker, "st_a")
    await _until_pending(broker, "st_b")
    cancelled = broker.cancel_for("run_a")
    assert [c.id for c in cancelled] == ["st_a"]
    assert (await a).decision == "cancelled"
    assert [p.id for p in broker.pending()] == ["st_b"]
    with pytest.raises(Conflict, match="system, cancelled"):
        broker.answer("st_a", "approve", "cli")
    broker.answer("st_b", "deny", "cli", "no")
    assert (await b).decision == "deny"


async def test_requester_cancelled_marks_approval_cancelled():
    broker, stream = ApprovalBroker(), RecordingStream()
    task = await _request(broker, stream)
    await _until_pending(broker, "st_1")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert broker.pending() == []
    assert broker.get("st_1").status == "cancelled"
    assert (
        stream.events[-1][0] == "approval.resolved"
        and stream.events[-1][1]["decision"] == "cancelled"
    )


async def test_subscriber_sees_pending_replay_then_live_changes():
    broker, stream = ApprovalBroker(), RecordingStream()
    first = await _request(broker, stream, id="st_1")
    await _until_pending(broker, "st_1")
    seen = []

    async def watch():
        async for change in broker.subscribe():
            seen.append((change.kind, change.approval.id, change.approval.status))
            if len(seen) == 4:
                return

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.01)
    second = await _request(broker, stream, id="st_2")
    await _until_pending(broker, "st_2")
    broker.answer("st_1", "approve", "editor")
    broker.answer("st_2", "deny", "dashboard")
    await asyncio.wait_for(watcher, 2)
    await first, await second
    assert seen == [
        ("requested", "st_1", "pending"),
        ("requested", "st_2", "pending"),
        ("resolved", "st_1", "approved"),
        ("resolved", "st_2", "denied"),
    ]


async def test_bad_answers_get_clear_errors():
    broker, stream = ApprovalBroker(), RecordingStream()
    task = await _request(broker, stream)
    await _until_pending(broker, "st_1")
    with pytest.raises(NotFound, match="st_nope"):
        broker.answer("st_nope", "approve", "cli")
    with pytest.raises(InvalidInput, match="approve' or 'deny"):
        broker.answer("st_1", "yes", "cli")
    with pytest.raises(InvalidInput, match="scope"):
        broker.answer("st_1", "approve", "cli", scope="forever")
    broker.answer("st_1", "approve", "cli", scope="similar")
    assert (await task).scope == "similar"


async def test_duplicate_approval_id_is_refused():
    broker, stream = ApprovalBroker(), RecordingStream()
    task = await _request(broker, stream)
    await _until_pending(broker, "st_1")
    with pytest.raises(Conflict, match="already in use"):
        await broker.request(stream=stream, id="st_1", tool="shell", preview={}, run_id="run_1")
    broker.answer("st_1", "approve", "cli")
    await task
