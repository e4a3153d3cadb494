"""Bounded soak: a real agentd serves back-to-back runs and live SSE clients for N seconds.

Each worker owns a git workspace and runs the greet spec over and over with the scripted model
(a fresh script file per run; writes approved over HTTP, like a user on the dashboard), while
`--clients` SSE readers follow every run to its terminal event and check the seqs they get are
gap-free. agentd's RSS and open file descriptors are sampled every second; the report gives
runs/min, failures, SSE events delivered, and RSS/fd growth after warm-up (leaks show as growth
that keeps rising with the duration, not as a fixed step).

    .venv/bin/python benchmarks/soak.py [--seconds 60] [--workers 3] [--clients 2] [--json]
                                        [--model scripted|fake]

`--model fake` serves the runs from the fake OpenAI-compatible server process over HTTP (the real
provider path; every answer is "done" and the workspace already passes its test, so no writes or
approvals). Use it for the memory figure: the in-process `scripted` provider keeps one provider
per script file and records every call it gets (messages, tool specs) for tests to inspect, which
shows up as ~50 KB of RSS per run that a real provider never holds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.helpers import (  # noqa: E402 - after the path tweak
    DOCS,
    DONE,
    PLAN,
    WRITE,
    Api,
    clean_env,
    make_repo,
    start_agentd,
    start_fake,
)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Soak:
    def __init__(self, root: Path, url: str, seconds: float, clients: int, fake: bool) -> None:
        self.root, self.url, self.seconds, self.clients = root, url, seconds, clients
        self.fake = fake
        self.deadline = time.monotonic() + seconds
        self.lock = threading.Lock()
        self.durations: list[float] = []
        self.statuses: dict[str, int] = {}
        self.errors: list[str] = []
        self.sse_events = 0
        self.sse_gaps = 0
        self.n = 0

    def follow(self, run_id: str) -> None:
        api = Api(self.url)
        try:
            seqs = []
            with api.c.stream("GET", f"/v1/runs/{run_id}/events", timeout=120) as r:
                for line in r.iter_lines():
                    if line.startswith("id:"):
                        seqs.append(int(line[3:]))
            with self.lock:
                self.sse_events += len(seqs)
                if seqs != list(range(1, len(seqs) + 1)):
                    self.sse_gaps += 1
        except Exception as exc:  # noqa: BLE001 - counted, reported
            with self.lock:
                self.errors.append(f"sse {run_id}: {exc!r}")
        finally:
            api.close()

    def worker(self, i: int) -> None:
        ws = make_repo(self.root / f"ws{i}")
        api = Api(self.url)
        try:
            while time.monotonic() < self.deadline:
                with self.lock:
                    self.n += 1
                    n = self.n
                model = None
                if not self.fake:
                    script = self.root / f"script-{n}.json"
                    script.write_text(json.dumps({"responses": [PLAN, WRITE, DONE, DOCS]}))
                    model = f"scripted:{script}"
                (ws / "greet.txt").write_text("hello\n" if self.fake else "hi\n")
                t0 = time.monotonic()
                try:
                    run = api.start_run(ws, model)
                    readers = [threading.Thread(target=self.follow, args=(run["id"],), daemon=True)
                               for _ in range(self.clients)]  # fmt: skip
                    for t in readers:
                        t.start()
                    final = api.wait_status(run["id"], 120, approve=True)
                    for t in readers:
                        t.join(60)
                except Exception as exc:  # noqa: BLE001 - counted, reported
                    with self.lock:
                        self.errors.append(f"run: {exc!r}"[:300])
                    continue
                with self.lock:
                    self.durations.append(time.monotonic() - t0)
                    self.statuses[final["status"]] = self.statuses.get(final["status"], 0) + 1
        finally:
            api.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--workers", type=int, default=3, help="runs in flight at once")
    p.add_argument("--clients", type=int, default=2, help="SSE readers per run")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--model", choices=["scripted", "fake"], default="scripted")
    args = p.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="harness-soak-"))
    fake = start_fake(root, default={"text": "done"}) if args.model == "fake" else None
    extra = {"OPENAI_BASE_URL": fake.url, "HARNESS_MODEL": "openai:gpt-4.1-mini"} if fake else {}
    env = clean_env(root / "home", HARNESS_DATA_DIR=str(root / "data"), **extra)
    d = start_agentd(root, root / "data", env=env)
    pid = d.proc.pid
    samples: list[tuple[float, int, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.monotonic(), rss_kib(pid), fds(pid)))
            stop.wait(1.0)

    try:
        soak = Soak(root, d.url, args.seconds, args.clients, fake is not None)
        start_rss = rss_kib(pid)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.monotonic()
        workers = [threading.Thread(target=soak.worker, args=(i,)) for i in range(args.workers)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(args.seconds + 180)
        elapsed = time.monotonic() - t0
        stop.set()
        sampler.join(5)
        samples.append((time.monotonic(), rss_kib(pid), fds(pid)))
        warm = [s for s in samples if s[0] - t0 >= min(10.0, elapsed / 4)] or samples
        report = {
            "seconds": round(elapsed, 1),
            "model": args.model,
            "workers": args.workers,
            "sse_clients_per_run": args.clients,
            "runs": sum(soak.statuses.values()),
            "statuses": soak.statuses,
            "runs_per_min": round(sum(soak.statuses.values()) / elapsed * 60, 1),
            "run_p50_s": round(statistics.median(soak.durations), 2) if soak.durations else None,
            "sse_events": soak.sse_events,
            "sse_streams_with_gaps": soak.sse_gaps,
            "errors": soak.errors[:5],
            "error_count": len(soak.errors),
            "rss_start_mib": round(start_rss / 1024, 1),
            "rss_after_warmup_mib": round(warm[0][1] / 1024, 1),
            "rss_end_mib": round(samples[-1][1] / 1024, 1),
            "rss_max_mib": round(max(s[1] for s in samples) / 1024, 1),
            "rss_growth_after_warmup_mib": round((samples[-1][1] - warm[0][1]) / 1024, 1),
            "fds_after_warmup": warm[0][2],
            "fds_end": samples[-1][2],
        }
    finally:
        d.stop()
        if fake is not None:
            fake.stop()
        agentd_err = d.stderr()
        shutil.rmtree(root, ignore_errors=True)
    report["agentd_tracebacks"] = agentd_err.count("Traceback")
    if args.json:
        print(json.dumps(report))
    else:
        print(f"soak {report['seconds']} s, {args.workers} workers, {args.clients} SSE clients/run")
        for k, v in report.items():
            print(f"  {k}: {v}")
    return 0 if not soak.errors and set(soak.statuses) <= {"completed"} else 1


if __name__ == "__main__":
    sys.exit(main())
