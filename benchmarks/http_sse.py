"""SSE fan-out: N concurrent subscribers on loopback, append → delivery latency, lost events.

The server (a real Harness + the app under uvicorn) runs in a child process and appends events
stamped with `time.monotonic()` (system-wide on Linux, so comparable across processes); this
process holds N httpx streams and records when each event arrives. Every subscriber must see
every seq exactly once, in order.

    .venv/bin/python benchmarks/http_sse.py [--subscribers 200] [--events 100] [--rate 20]

Target (issue 7): 200 subscribers, p99 ≤ 50 ms, 0 lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------- server side (child process)
async def serve(rate: float) -> None:
    from harness_ls.core import Harness
    from harness_ls.http.app import create_app
    from harness_ls.http.server import start_server

    tmp = Path(tempfile.mkdtemp(prefix="sse-bench-"))
    ws = tmp / "ws"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)  # noqa: ASYNC221 - setup
    harness = Harness(tmp / "data")
    await harness.start()
    sc = await start_server(create_app(harness, keepalive=15), "127.0.0.1", 0)
    print(json.dumps({"url": sc.url}), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    stream = None
    while line := (await reader.readline()).decode().strip():
        if line == "session":  # a fresh stream per phase, so replays never mix in
            if stream is not None:
                await stream.close()
            session = await harness.create_session(str(ws))
            stream = harness.store.stream("session", session.id)
            print(json.dumps({"session": session.id}), flush=True)
            continue
        etype, count = line.split()
        cpu0 = time.process_time()
        for i in range(int(count)):
            data = {"level": "info", "message": f"m{i}", "t": time.monotonic()}
            if etype == "message":
                data = {"role": "assistant", "text": f"m{i}", "t": time.monotonic()}
            await stream.append(etype, data)
            await asyncio.sleep(1 / rate)
        await asyncio.sleep(0.5)  # let the last fan-out finish before reading the CPU clock
        cpu = time.process_time() - cpu0
        print(json.dumps({"done": etype, "last_seq": stream.last_seq, "cpu_s": cpu}), flush=True)
    if stream is not None:
        await stream.close()
    await sc.stop()
    await harness.close()


# ---------------------------------------------------------------- client side
async def subscriber(
    host: str, port: int, path: str, ready: asyncio.Event, out: list, want: int, counter: list
) -> None:
    """A lean HTTP/1.1 SSE client on a raw socket, so the figures measure the server rather
    than client-side parsing (uvicorn sends each frame as one chunk; `data:` lines stay whole)."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    status = await reader.readline()
    assert b" 200 " in status, status
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            if not line.startswith(b"data: "):
                continue
            now = time.monotonic()
            ev = json.loads(line[6:])
            if ev["type"] == "session.created":
                counter[0] += 1
                if counter[0] == counter[1]:
                    ready.set()
                continue
            out.append((ev["seq"], now - ev["data"]["t"], ev["type"]))
            if len(out) >= want:
                return
    finally:
        writer.close()


async def phase(url: str, proc: subprocess.Popen, subs: int, events: int, etype: str) -> dict:
    proc.stdin.write("session\n")
    proc.stdin.flush()
    session = json.loads(await asyncio.to_thread(proc.stdout.readline))["session"]
    host, port = url.removeprefix("http://").rsplit(":", 1)
    if True:
        ready = asyncio.Event()
        counter = [0, subs]
        results: list[list] = [[] for _ in range(subs)]
        path = f"/v1/sessions/{session}/events"
        tasks = [
            asyncio.create_task(
                subscriber(host, int(port), path, ready, results[i], events, counter)
            )
            for i in range(subs)
        ]
        await asyncio.wait_for(ready.wait(), 60)
        t0 = time.monotonic()
        proc.stdin.write(f"{etype} {events}\n")
        proc.stdin.flush()
        done, pending = await asyncio.wait(tasks, timeout=60 + events / 10)
        for t in pending:
            t.cancel()
        wall = time.monotonic() - t0
    status = json.loads(await asyncio.to_thread(proc.stdout.readline))
    lats = sorted(lat for r in results for _, lat, _ in r)
    lost = dup = 0
    for r in results:
        seqs = [s for s, _, _ in r]
        dup += len(seqs) - len(set(seqs))
        lost += events - len(set(seqs))
        assert seqs == sorted(seqs), "out of order"
    q = statistics.quantiles(lats, n=100) if len(lats) > 1 else [0] * 99
    return {
        "type": etype, "subscribers": subs, "events": events, "deliveries": len(lats),
        "lost": lost, "duplicates": dup, "p50_ms": round(q[49] * 1000, 2), "p95_ms": round(q[94] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2), "max_ms": round(lats[-1] * 1000, 2) if lats else None,
        "wall_s": round(wall, 2), "server_last_seq": status["last_seq"],
        "server_cpu_us_per_delivery": round(status["cpu_s"] / max(1, len(lats)) * 1e6, 1),
    }  # fmt: skip


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subscribers", type=int, default=200)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--rate", type=float, default=20.0, help="appends per second")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        await serve(args.rate)
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any streaming
        [sys.executable, __file__, "--serve", "--rate", str(args.rate)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        hello = json.loads(proc.stdout.readline())
        rows = []
        for etype in ("log", "message"):  # chatty (batched to disk) and durable (fsync'd) events
            rows.append(await phase(hello["url"], proc, args.subscribers, args.events, etype))
        for row in rows:
            print(json.dumps(row))
        ok = all(r["lost"] == 0 and r["duplicates"] == 0 and r["p99_ms"] <= 50 for r in rows)
        print(f"target (p99 <= 50 ms, 0 lost, 0 dup): {'MET' if ok else 'NOT MET'}")
    finally:
        proc.stdin.close()
        proc.wait(30)


if __name__ == "__main__":
    asyncio.run(main())
