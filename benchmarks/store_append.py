"""Runstore append figures: batched (chatty) throughput and durable (fsync'd) latency.

    .venv/bin/python benchmarks/store_append.py [--dir DIR] [--events N] [--durable N]

Targets (issue 4): batched append ≥ 50k events/s; durable append p99 ≤ 5 ms. The raw
fdatasync latency of the same disk is printed too: a durable append can't beat it.
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


async def batched(store: RunStore, n: int) -> float:
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    s = store.stream("run", run_id)
    data = {"text": "some streamed model output, about sixty characters long.."}
    t, c = time.perf_counter(), time.process_time()
    for _ in range(n):
        await s.append("message.delta", data, step_id="s1")
    await s.flush()
    elapsed, cpu = time.perf_counter() - t, time.process_time() - c
    await s.close()
    return n / elapsed, n / cpu


async def durable(store: RunStore, n: int, inline: bool) -> list[float]:
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    s = store.stream("run", run_id)
    lat = []
    for i in range(n):
        data = {"name": "shell", "arguments": {"command": f"echo {i}"}}
        t = time.perf_counter()
        if inline:
            s.append_nowait("tool.call", data, step_id="s1")
        else:
            await s.append("tool.call", data, step_id="s1")
        lat.append((time.perf_counter() - t) * 1000)
    await s.close()
    return lat


def raw_fsync(dir_: Path, n: int) -> list[float]:
    fd = os.open(dir_ / "raw.bin", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    lat = []
    for _ in range(n):
        os.write(fd, b"x" * 200 + b"\n")
        t = time.perf_counter()
        os.fdatasync(fd)
        lat.append((time.perf_counter() - t) * 1000)
    os.close(fd)
    return lat


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", help="data dir (default: a temp dir on the default disk)")
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--durable", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        store = RunStore(Path(tmp))
        rate, cpu_rate = await batched(store, args.events)
        print(
            f"batched append (message.delta): {rate:,.0f} events/s wall, {cpu_rate:,.0f} events/s "
            f"per CPU-second, over {args.events:,} (target ≥ 50,000); load avg {os.getloadavg()[0]:.1f}"
        )
        for inline, label in (
            (False, "await append, fsync on a thread"),
            (True, "append_nowait, inline fsync"),
        ):
            lat = await durable(store, args.durable, inline)
            print(
                f"durable append ({label}): p50 {statistics.median(lat):.2f} ms, "
                f"p99 {pct(lat, 0.99):.2f} ms, max {max(lat):.2f} ms over {len(lat)} (target p99 ≤ 5 ms)"
            )
        raw = raw_fsync(Path(tmp), args.durable)
        print(
            f"raw os.fdatasync on this disk:        p50 {statistics.median(raw):.2f} ms, "
            f"p99 {pct(raw, 0.99):.2f} ms (the floor for a durable append)"
        )


if __name__ == "__main__":
    asyncio.run(main())
