"""Runstore live delivery: append → subscriber latency with many in-process subscribers.

    .venv/bin/python benchmarks/store_fanout.py [--subscribers 200] [--events 500]

Target (issue 4): append → delivery p99 ≤ 2 ms in-process with 200 subscribers.
Latency is measured from just before `append` to the moment each subscriber's `async for`
receives the event; events are spaced 5 ms apart so the figure is delivery, not backlog.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from harness_ls.store import RunStore


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


async def measure(
    store: RunStore, subs: int, events: int, type_: str
) -> tuple[list[float], int, float]:
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    s = store.stream("run", run_id)
    sent: dict[int, float] = {}
    lat: list[float] = []
    last = events + 1  # run.created + events

    async def follow() -> None:
        async for ev in store.reader("run", run_id).subscribe(after=1):
            lat.append(time.perf_counter() - sent[ev.seq])
            if ev.seq == last:
                return

    tasks = [asyncio.create_task(follow()) for _ in range(subs)]
    await asyncio.sleep(0.2)  # every subscriber is waiting live
    cpu = time.process_time()
    for i in range(events):
        sent[s.last_seq + 1] = time.perf_counter()
        await s.append(
            type_, {"text": f"tok {i}"} if type_ == "message.delta" else {"title": str(i)}
        )
        await asyncio.sleep(0.005)
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    cpu = time.process_time() - cpu
    await s.close()
    return [x * 1000 for x in lat], subs * events, cpu


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir")
    ap.add_argument("--subscribers", type=int, default=200)
    ap.add_argument("--events", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        store = RunStore(Path(tmp))
        print(
            f"{args.subscribers} subscribers, {args.events} events; load avg {os.getloadavg()[0]:.1f}"
        )
        for type_, note in (("message.delta", "chatty"), ("step.started", "durable, incl. fsync")):
            lat, expected, cpu = await measure(store, args.subscribers, args.events, type_)
            print(
                f"{type_:14} ({note}): delivery p50 {statistics.median(lat):.3f} ms, "
                f"p99 {pct(lat, 0.99):.3f} ms, max {max(lat):.3f} ms; "
                f"{len(lat)}/{expected} delivered; {cpu / len(lat) * 1e6:.1f} µs CPU per "
                f"delivery → {cpu / args.events * 1000:.2f} ms CPU per event for all "
                f"subscribers (target p99 ≤ 2 ms)"
            )


if __name__ == "__main__":
    asyncio.run(main())
