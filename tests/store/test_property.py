"""Property: any interleaving of append / subscribe / read / reopen gives every subscriber exactly
seq after+1..n, in order, once — including subscribers that lag behind a tiny live ring."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness_ls.store import RunStore, commit, stream

Op = tuple
ops_strategy = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.booleans()),
        st.tuples(st.just("subscribe"), st.integers(0, 40), st.booleans()),
        st.tuples(st.just("pull"), st.integers(0, 7), st.integers(1, 6)),
        st.tuples(st.just("read"), st.integers(0, 40)),
        st.tuples(st.just("yield"), st.integers(1, 3)),
        st.tuples(st.just("reopen")),
    ),
    max_size=60,
)


async def scenario(root: Path, ops: list[Op]) -> None:
    store = RunStore(root)
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    writer = store.stream("run", run_id)
    subs: list[dict] = []  # after, sub, got (received seqs), task (None = pulled by hand)

    async def background(sub, got: list[int]) -> None:
        async for ev in sub:
            got.append(ev.seq)
            if ev.seq % 3 == 0:
                await asyncio.sleep(0)  # a slow-ish consumer

    for op in ops:
        kind = op[0]
        if kind == "append":
            await writer.append("step.started" if op[1] else "message.delta", {"text": "t"})
        elif kind == "subscribe":
            after = min(op[1], writer.last_seq + 2)
            sub = store.reader("run", run_id).subscribe(after=after, poll_interval=0.001)
            got: list[int] = []
            task = asyncio.create_task(background(sub, got)) if op[2] else None
            subs.append({"after": after, "sub": sub, "got": got, "task": task})
        elif kind == "pull":
            manual = [s for s in subs if s["task"] is None]
            if manual:
                one = manual[op[1] % len(manual)]
                got = one["got"]
                start = got[-1] if got else one["after"]
                for _ in range(min(op[2], writer.last_seq - start)):
                    got.append((await asyncio.wait_for(anext(one["sub"]), 2)).seq)
        elif kind == "read":
            after = op[1]
            assert [e.seq for e in writer.read(after)] == list(
                range(after + 1, writer.last_seq + 1)
            )
        elif kind == "yield":
            for _ in range(op[1]):
                await asyncio.sleep(0)
        elif kind == "reopen":
            await writer.close()
            writer = store.stream("run", run_id)
    await writer.append("run.completed")
    n = writer.last_seq
    for one in subs:
        got = one["got"]
        if one["task"] is None:
            while one["after"] < n and (not got or got[-1] < n):
                got.append((await asyncio.wait_for(anext(one["sub"]), 2)).seq)
        else:
            async with asyncio.timeout(5):
                while one["after"] < n and (not got or got[-1] < n):  # noqa: ASYNC110
                    await asyncio.sleep(0.001)
            await asyncio.sleep(0.002)  # anything extra (a duplicate) would arrive now
            one["task"].cancel()
    for one in subs:
        assert one["got"] == list(range(one["after"] + 1, n + 1)), (one["after"], n, one["got"])
        await one["sub"].aclose()
    await writer.close()


@pytest.fixture
def tiny_ring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "RING_CAPACITY", 4)
    monkeypatch.setattr(stream, "BATCH_EVENTS", 3)
    monkeypatch.setattr(commit, "SYNC", lambda fd: None)  # ordering, not durability, is tested here


@pytest.mark.scaled
@settings(
    max_examples=int(
        os.environ.get("HARNESS_EXAMPLES", "400" if os.environ.get("HARNESS_LONG") else "60")
    ),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=ops_strategy)
def test_every_subscriber_gets_exactly_its_range(tiny_ring: None, ops: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(Path(tmp), ops))
