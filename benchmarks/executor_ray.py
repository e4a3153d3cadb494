"""The Ray executor: overhead to a run's first event, worker → SSE subscriber latency, and the
throughput of 20 concurrent scripted runs on one worker node vs two.

A real Ray cluster on this machine (ray.cluster_utils.Cluster: a head with no CPU, worker nodes
with two CPUs each, so two runs at a time per node); this process is agentd's core (the driver)
and serves the HTTP app under uvicorn; an SSE subscriber in a thread reads
/v1/runs/{id}/events. Latency: an event's id is made by the worker when it appends (a ULID with
its millisecond time), the subscriber notes when the event arrives: same machine, same clock.
The scripted model answers after `--model-delay` seconds per call, like a model would.

    .venv/bin/python benchmarks/executor_ray.py [--runs 20] [--samples 5] [--model-delay 0.3]

Goals (issue 34): first event ≤ 1.5 s over in-process; p99 ≤ 50 ms; two nodes ≥ 1.7× one.
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
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPEC = "specs/greet/spec.md"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_repo(root: Path, name: str) -> Path:
    from harness_ls.testing.greet import SPEC as TEXT

    ws = root / name
    (ws / "specs" / "greet").mkdir(parents=True)
    (ws / "greet.txt").write_text("hi\n")
    (ws / "specs" / "greet" / "spec.md").write_text(TEXT)
    git(ws, "init", "-q", "-b", "main")
    git(ws, "-c", "user.email=b@x", "-c", "user.name=b", "add", "-A")
    git(ws, "-c", "user.email=b@x", "-c", "user.name=b", "commit", "-qm", "init")
    return ws


def script(root: Path, delay: float) -> str:
    from harness_ls.testing.greet import DOCS, PLAN, WRITE

    chunks = {"text": ["thinking " * 8] * 20, "delay": 0.005}  # ~20 message.delta events
    responses = [{**r, "delay": delay} for r in (PLAN, WRITE)] + [chunks, {**DOCS, "delay": delay}]
    path = root / f"script-{len(list(root.glob('script-*')))}.json"
    path.write_text(json.dumps({"responses": responses}))
    return f"scripted:{path}"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Subscriber(threading.Thread):
    """Reads one run's SSE stream; (event id, arrival ms) per event."""

    def __init__(self, url: str, run_id: str) -> None:
        super().__init__(daemon=True)
        self.url, self.run_id = url, run_id
        self.arrivals: list[tuple[str, str, float]] = []
        self.opened = float("inf")  # ms: events made before it are replayed, not measured

    def run(self) -> None:
        import httpx

        with httpx.stream("GET", f"{self.url}/v1/runs/{self.run_id}/events", timeout=300) as r:
            self.opened = time.time() * 1000
            for line in r.iter_lines():
                if line.startswith("data:"):
                    ev = json.loads(line[5:])
                    self.arrivals.append((ev["id"], ev["type"], time.time() * 1000))
                    if ev["type"] in ("run.completed", "run.failed", "run.cancelled"):
                        return


async def first_event(h, repo: Path, name: str) -> float:
    """Seconds from start_run to the run's first event after run.created."""
    t0 = time.perf_counter()
    meta = await h.start_run(str(repo), SPEC, model=name)
    sub = h.store.reader("run", meta.id).subscribe()
    async for ev in sub:
        if ev.type in ("run.started", "run.resumed"):
            break
    took = time.perf_counter() - t0
    await h.wait_run(meta.id, 600)
    return took


async def overhead(h_local, h_ray, root: Path, samples: int, delay: float) -> dict:
    out = {}
    for label, h in (("in-process", h_local), ("ray", h_ray)):
        times = []
        for i in range(samples):
            repo = make_repo(root, f"{label}-{i}")
            times.append(await first_event(h, repo, script(root, delay)))
        out[label] = times
    return out


WORST: list[tuple[float, str]] = []


async def latency(h, url: str, root: Path, runs: int, delay: float) -> list[float]:
    from harness_ls.store.ids import id_time

    lat: list[float] = []
    for i in range(runs):
        repo = make_repo(root, f"lat-{i}")
        meta = await h.start_run(str(repo), SPEC, model=script(root, delay))
        sub = Subscriber(url, meta.id)
        sub.start()
        await h.wait_run(meta.id, 600)
        await asyncio.to_thread(sub.join, 60)
        for eid, etype, arrived in sub.arrivals:
            made = id_time(eid)
            if made is not None and made.timestamp() * 1000 > sub.opened:
                lat.append(arrived - made.timestamp() * 1000)
                WORST.append((lat[-1], etype))
    return lat


async def cancel_latency(h, root: Path, samples: int) -> list[float]:
    """ms from cancel_run() to the worker's engine recording run.cancelled (its event id holds
    the worker's clock: same machine)."""
    from harness_ls.store.ids import id_time
    from harness_ls.testing.greet import PLAN

    out = []
    for i in range(samples):
        repo = make_repo(root, f"cancel-{i}")
        slow = {"text": ["still thinking "] * 50, "delay": 1.0}
        path = root / f"cancel-{i}.json"
        path.write_text(json.dumps({"responses": [PLAN, slow]}))
        meta = await h.start_run(str(repo), SPEC, model=f"scripted:{path}")
        sub = h.store.reader("run", meta.id).subscribe()
        async for ev in sub:
            if ev.type == "message.delta":
                break
        t0 = time.time() * 1000
        await h.cancel_run(meta.id)
        last = list(h.store.reader("run", meta.id).read())[-1]
        made = id_time(last.id)
        if last.type == "run.cancelled" and last.data.get("phase") and made is not None:
            out.append(made.timestamp() * 1000 - t0)
    return out


async def throughput(h, root: Path, n: int, delay: float, tag: str) -> float:
    repos = [make_repo(root, f"{tag}-{i}") for i in range(n)]
    t0 = time.perf_counter()
    metas = [await h.start_run(str(r), SPEC, model=script(root, delay)) for r in repos]
    finals = [await h.wait_run(m.id, 1200) for m in metas]
    took = time.perf_counter() - t0
    bad = [f.status for f in finals if f.status != "completed"]
    if bad:
        print(f"  warning: {len(bad)} run(s) did not complete: {bad[:3]}", flush=True)
    return n / took


async def scale(h: Any, lc: Any, root: Path, args: argparse.Namespace) -> None:
    d = args.model_delay
    one = await throughput(h, root, args.runs, d, "one")
    print(f"{args.runs} concurrent runs ({d} s per model call), one node (2 slots): "
          f"{one:.2f} runs/s", flush=True)  # fmt: skip
    lc.add_node(num_cpus=2)
    two = await throughput(h, root, args.runs, d, "two")
    print(f"{args.runs} concurrent runs, two nodes (4 slots): {two:.2f} runs/s; "
          f"ratio {two / one:.2f}x (goal ≥ 1.7x)", flush=True)  # fmt: skip
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", flush=True)


async def main(args: argparse.Namespace) -> None:
    from harness_ls.core import Harness
    from harness_ls.http.app import create_app
    from harness_ls.http.server import start_server
    from harness_ls.testing.ray_cluster import start_cluster

    root = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    os.chdir(root)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)", flush=True)
    t0 = time.perf_counter()
    lc = start_cluster(0, home=root / "home")
    node = lc.add_node(num_cpus=2)
    print(f"cluster up in {time.perf_counter() - t0:.1f} s (head + 1 worker node)", flush=True)
    try:
        h_local = Harness(root / "data-local", policy_mode="auto-edit")
        h_ray = Harness(root / "data-ray", policy_mode="auto-edit", executor="ray",
                        ray_address=lc.address)  # fmt: skip
        for h in (h_local, h_ray):
            h.options.update(verify_timeout=120.0)
            await h.start()
        sc = await start_server(create_app(h_ray, keepalive=15), "127.0.0.1", 0)
        if args.throughput_only:
            await scale(h_ray, lc, root, args)
            return
        ov = await overhead(h_local, h_ray, root, args.samples, args.model_delay)
        med = {k: statistics.median(v) for k, v in ov.items()}
        print(f"first event: in-process median {med['in-process'] * 1000:.0f} ms, "
              f"ray median {med['ray'] * 1000:.0f} ms (p95 {pct(ov['ray'], 95) * 1000:.0f} ms); "
              f"overhead {(med['ray'] - med['in-process']) * 1000:.0f} ms (goal ≤ 1500 ms)",
              flush=True)  # fmt: skip
        lat = await latency(h_ray, sc.url, root, args.samples, args.model_delay)
        print(
            f"worker → SSE subscriber: {len(lat)} events, p50 {pct(lat, 50):.1f} ms, "
            f"p99 {pct(lat, 99):.1f} ms, max {max(lat):.1f} ms (goal p99 ≤ 50 ms); slowest: "
            + ", ".join(f"{t} {ms:.0f}" for ms, t in sorted(WORST, reverse=True)[:6]),
            flush=True,
        )
        cancels = await cancel_latency(h_ray, root, args.samples)
        if cancels:
            print(f"cancel → worker records run.cancelled: p50 {pct(cancels, 50):.0f} ms, "
                  f"max {max(cancels):.0f} ms over {len(cancels)} (goal ≤ 1000 ms)", flush=True)  # fmt: skip
        await scale(h_ray, lc, root, args)
        load = os.getloadavg()
        print(f"load average at end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", flush=True)
        await sc.stop()
        for h in (h_local, h_ray):
            await h.close()
    finally:
        del node
        lc.shutdown()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--model-delay", type=float, default=0.3)
    p.add_argument("--throughput-only", action="store_true",
                   help="only the one-node vs two-node runs (e.g. with --model-delay 2)")  # fmt: skip
    asyncio.run(main(p.parse_args()))
