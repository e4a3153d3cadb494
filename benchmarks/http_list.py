"""GET /v1/runs under a steady open-loop load: latency percentiles at a fixed request rate.

The server (a real Harness over a data dir holding `--runs` runs, the app under uvicorn) runs in a
child process; this process sends requests on a fixed schedule over keep-alive connections and
measures each from its *scheduled* send time, so a stall shows up instead of being hidden
(no coordinated omission). Bounded: `--seconds` of load, then it stops.

    .venv/bin/python benchmarks/http_list.py [--rate 500] [--seconds 10] [--runs 50]

Target (issue 7): p99 ≤ 10 ms at 500 requests/s.
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

SPEC = "# Goal\n\nBench.\n\n# Constraints / nuances\n\n- none\n\n# Acceptance tests\n\n- `true`\n"


async def serve(runs: int) -> None:
    from harness_ls.core import Harness
    from harness_ls.http.app import create_app
    from harness_ls.http.server import start_server

    tmp = Path(tempfile.mkdtemp(prefix="list-bench-"))
    harness = Harness(tmp / "data")
    await harness.start()
    for i in range(runs):
        meta = harness.store.create_run(
            workspace=str(tmp), spec_path=f"specs/s{i}/spec.md", spec_text=SPEC
        )
        stream = harness.store.stream("run", meta.id)
        await stream.append("run.started", {})
        await stream.close()
    sc = await start_server(create_app(harness), "127.0.0.1", 0)
    print(json.dumps({"url": sc.url}), flush=True)
    await asyncio.to_thread(sys.stdin.read)  # until the parent closes stdin
    await sc.stop()
    await harness.close()


class Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def get(self, request: bytes) -> tuple[int, int]:
        self.writer.write(request)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length)
        return status, len(body)


async def load(url: str, rate: float, seconds: float, conns: int, limit: int) -> dict:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    pool: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(conns):
        pool.put_nowait(Conn(*await asyncio.open_connection(host, int(port))))
    request = f"GET /v1/runs?limit={limit} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    lat: list[float] = []
    service: list[float] = []
    errors = 0
    sizes = set()

    async def one(scheduled: float) -> None:
        nonlocal errors
        conn = await pool.get()
        started = time.perf_counter()
        try:
            status, size = await conn.get(request)
        finally:
            pool.put_nowait(conn)
        done = time.perf_counter()
        if status != 200:
            errors += 1
        sizes.add(size)
        lat.append(done - scheduled)
        service.append(done - started)

    # warm-up
    for _ in range(50):
        await one(time.perf_counter())
    lat.clear()
    service.clear()
    total = int(rate * seconds)
    t0 = time.perf_counter()
    tasks = []
    for i in range(total):
        at = t0 + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(at)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    q = statistics.quantiles(lat, n=100)
    s = statistics.quantiles(service, n=100)
    return {
        "rate_target": rate, "rate_achieved": round(total / wall, 1), "requests": total, "errors": errors,
        "body_bytes": sorted(sizes), "p50_ms": round(q[49] * 1e3, 2), "p95_ms": round(q[94] * 1e3, 2),
        "p99_ms": round(q[98] * 1e3, 2), "max_ms": round(max(lat) * 1e3, 2),
        "service_p99_ms": round(s[98] * 1e3, 2),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--runs", type=int, default=50, help="runs in the data dir")
    ap.add_argument("--limit", type=int, default=100, help="?limit= of each request")
    ap.add_argument("--conns", type=int, default=16, help="keep-alive connections")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        asyncio.run(serve(args.runs))
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, __file__, "--serve", "--runs", str(args.runs)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        url = json.loads(proc.stdout.readline())["url"]
        row = asyncio.run(load(url, args.rate, args.seconds, args.conns, args.limit))
        row["runs"] = args.runs
        print(json.dumps(row))
        ok = row["p99_ms"] <= 10 and row["errors"] == 0
        print(f"target (p99 <= 10 ms at {args.rate:g} req/s): {'MET' if ok else 'NOT MET'}")
    finally:
        proc.stdin.close()
        proc.wait(30)


if __name__ == "__main__":
    main()
