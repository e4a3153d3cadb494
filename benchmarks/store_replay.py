"""Runstore replay figures: reading and subscribing to a 100k-event log from disk.

    .venv/bin/python benchmarks/store_replay.py [--dir DIR] [--events N]

Target (issue 4): replay of a 100k-event log ≤ 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from harness_ls.store import RunStore


async def build(store: RunStore, n: int) -> str:
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    s = store.stream("run", run_id)
    for i in range(n - 1):
        if i % 10 == 0:
            data = {"name": "shell", "arguments": {"command": f"echo {i}"}}
            await s.append("tool.call", data, step_id=f"s{i // 100}")
        else:
            await s.append("message.delta", {"text": f"token {i} of streamed output"})
    await s.close()
    return run_id


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir")
    ap.add_argument("--events", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        store = RunStore(Path(tmp))
        from harness_ls.store import commit

        sync, commit.SYNC = commit.SYNC, lambda fd: None  # building only; not measured
        run_id = await build(store, args.events)
        commit.SYNC = sync
        reader = store.reader("run", run_id)
        size = reader.path.stat().st_size
        print(
            f"log: {args.events:,} events, {size / 1e6:.1f} MB; load avg {os.getloadavg()[0]:.1f}"
        )

        t, c = time.perf_counter(), time.process_time()
        n = sum(1 for _ in reader.read())
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        print(
            f"read(after=0):        {n:,} events in {wall:.3f} s wall, {cpu:.3f} s CPU (target ≤ 1 s)"
        )

        t, c = time.perf_counter(), time.process_time()
        sub = reader.subscribe()
        got = 0
        async for ev in sub:
            got += 1
            if ev.seq == args.events:
                break
        await sub.aclose()
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        print(
            f"subscribe(after=0):   {got:,} events in {wall:.3f} s wall, {cpu:.3f} s CPU (target ≤ 1 s)"
        )

        t = time.perf_counter()
        tail = list(reader.read(after=args.events - 100))
        print(
            f"read(after=n-100):    {len(tail)} events in {(time.perf_counter() - t) * 1000:.2f} ms"
        )

        t = time.perf_counter()
        w = store.stream("run", run_id)  # writer open = full scan + repair check
        await w.close()
        print(f"writer open (scan):   {time.perf_counter() - t:.3f} s")

        t = time.perf_counter()
        for _ in range(100):
            store.list("run")
        print(f"list runs (cached):   {(time.perf_counter() - t) * 10:.3f} ms per call")


if __name__ == "__main__":
    asyncio.run(main())
