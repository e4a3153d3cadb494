"""Concurrent runs with approvals on one real agentd: throughput, API latency, approval visibility.

For each level N (default 10, 25, 50), N git workspaces each start one run at once (scripted
model: plan, three `write_file` calls that each ask, done, docs). One watcher polls
`GET /v1/approvals` every 20 ms, like the dashboard and `agentctl approvals`; each new approval
goes alternately to an HTTP answerer (`POST /v1/runs/{id}/approvals/{step}`) and to a pool of
CLI answerers (`agentctl approve --step … <run>` as a subprocess), so half are answered each way.

Printed per level: runs/s (N over the time from the first start to the last terminal status),
API p50/p99 (every HTTP request the load clients made while the runs ran: approval polls, HTTP
answers, status reads; `POST /v1/runs` is reported on its own, 8 starts in parallel),
approval visibility p50/p99 (approval `requested_at` → first seen by the watcher; includes up to
one poll interval) and the checks: every run completed, every `approval.requested` has exactly
one `approval.resolved`, seqs gap-free.

    .venv/bin/python benchmarks/load_runs.py [--levels 10,25,50] [--cli-workers 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.helpers import (  # noqa: E402 - after the path tweak
    DOCS,
    DONE,
    PLAN,
    Api,
    clean_env,
    make_repo,
    start_agentd,
    write_script,
)

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
TERMINAL = ("completed", "failed", "cancelled", "interrupted")
POLL = 0.02


def write(content: str) -> dict:
    return {
        "tool_calls": [
            {"name": "write_file", "arguments": {"path": "greet.txt", "content": content}}
        ]
    }


class Timed:
    """An Api whose every request is timed (thread-safe list of seconds)."""

    def __init__(self, url: str, times: list[float], lock: threading.Lock) -> None:
        self.api = Api(url)
        self.times, self.lock = times, lock

    def __getattr__(self, name: str):
        fn = getattr(self.api, name)
        if name not in ("get", "post", "run", "approve"):
            return fn

        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                with self.lock:
                    self.times.append(time.perf_counter() - t0)

        return timed


def level(root: Path, n: int, cli_workers: int) -> dict:
    data = root / "data"
    env = clean_env(root / "home", HARNESS_DATA_DIR=str(data))
    d = start_agentd(root, data, env=env, name=f"agentd-{n}")
    times: list[float] = []
    lock = threading.Lock()
    visible: list[float] = []
    answered = Counter()
    errors: list[str] = []
    try:
        jobs = []
        for i in range(n):
            ws = make_repo(root / f"ws{i}")
            model = write_script(
                root / f"s{i}.json",
                PLAN,
                write("one\n"),
                write("two\n"),
                write("hello\n"),
                DONE,
                DOCS,
            )
            jobs.append((ws, model))
        api = Timed(d.url, times, lock)
        cli_env = {**env, "HARNESS_URL": d.url}
        to_cli: queue.Queue = queue.Queue()
        to_http: queue.Queue = queue.Queue()
        stop = threading.Event()

        def http_answerer() -> None:
            own = Timed(d.url, times, lock)
            while not stop.is_set():
                try:
                    a = to_http.get(timeout=0.1)
                except queue.Empty:
                    continue
                try:
                    own.approve(a["run_id"], a["id"])
                    answered["http"] += 1
                except AssertionError as exc:
                    errors.append(f"http answer: {exc}")

        def cli_answerer() -> None:
            while not stop.is_set():
                try:
                    a = to_cli.get(timeout=0.1)
                except queue.Empty:
                    continue
                p = subprocess.run(
                    [*AGENTCTL, "approve", "--step", a["id"], a["run_id"]],
                    env=cli_env, capture_output=True, text=True, timeout=60,
                )  # fmt: skip
                if p.returncode == 0:
                    answered["cli"] += 1
                else:
                    errors.append(f"cli answer exit {p.returncode}: {p.stderr[-300:]}")

        t0 = time.monotonic()
        starts: list[float] = []

        def start(job: tuple) -> str:
            t = time.perf_counter()
            rid = api.start_run(*job)["id"]  # POST /v1/runs: git checks, spec validation
            with lock:
                starts.append(time.perf_counter() - t)
            return rid

        with ThreadPoolExecutor(8) as pool:
            runs = list(pool.map(start, jobs))
        ids = set(runs)
        workers = [threading.Thread(target=http_answerer, daemon=True)]
        workers += [threading.Thread(target=cli_answerer, daemon=True) for _ in range(cli_workers)]
        for w in workers:
            w.start()
        seen: set[str] = set()
        turn = 0
        deadline = time.monotonic() + 60 + n * 6
        done_at = None
        while time.monotonic() < deadline:
            for a in api.get("/v1/approvals"):
                if a.get("status") != "pending" or a["id"] in seen or a.get("run_id") not in ids:
                    continue
                seen.add(a["id"])
                asked = datetime.fromisoformat(a["requested_at"].replace("Z", "+00:00"))
                visible.append(time.time() - asked.timestamp())
                (to_http if turn % 2 == 0 else to_cli).put(a)
                turn += 1
            if len(seen) >= 3 * n and to_http.empty() and to_cli.empty():
                statuses = [api.run(r)["status"] for r in ids]
                if all(s in TERMINAL for s in statuses):
                    done_at = time.monotonic()
                    break
            time.sleep(POLL)
        stop.set()
        for w in workers:
            w.join(5)
        elapsed = (done_at or time.monotonic()) - t0
        finals = Counter(api.run(r)["status"] for r in ids)
        pairs_ok = gaps = 0
        for rid in ids:
            evs = api.events(rid)
            asked = Counter(
                e["data"]["approval_id"] for e in evs if e["type"] == "approval.requested"
            )
            res = Counter(e["data"]["approval_id"] for e in evs if e["type"] == "approval.resolved")
            pairs_ok += asked == res and set(res.values()) <= {1} and len(asked) == 3
            gaps += [e["seq"] for e in evs] != list(range(1, len(evs) + 1))
        api.close()
    finally:
        d.stop()
    return {
        "runs": n,
        "completed": finals.get("completed", 0),
        "statuses": dict(finals),
        "runs_per_s": round(n / elapsed, 2),
        "seconds": round(elapsed, 1),
        "api_requests": len(times),
        "api_p50_ms": round(pct(times, 50) * 1000, 1),
        "api_p99_ms": round(pct(times, 99) * 1000, 1),
        "start_p99_ms": round(pct(starts, 99) * 1000, 1),
        "approvals": len(visible),
        "answered": dict(answered),
        "visibility_p50_ms": round(pct(visible, 50) * 1000, 1),
        "visibility_p99_ms": round(pct(visible, 99) * 1000, 1),
        "runs_with_every_approval_resolved_once": pairs_ok,
        "logs_with_seq_gaps": gaps,
        "errors": errors[:5],
        "traceback_in_agentd_stderr": "Traceback" in d.stderr(),
    }


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    if len(xs) == 1:
        return xs[0]
    return statistics.quantiles(xs, n=100, method="inclusive")[int(p) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default="10,25,50")
    ap.add_argument("--cli-workers", type=int, default=4)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = []
    for n in (int(x) for x in args.levels.split(",")):
        root = Path(tempfile.mkdtemp(prefix=f"load-runs-{n}-"))
        try:
            r = level(root, n, args.cli_workers)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        out.append(r)
        if not args.json:
            print(
                f"{n:3d} runs: {r['completed']}/{n} completed in {r['seconds']} s = "
                f"{r['runs_per_s']} runs/s; API p50 {r['api_p50_ms']} ms p99 {r['api_p99_ms']} ms "
                f"({r['api_requests']} requests; POST /v1/runs p99 {r['start_p99_ms']} ms); approval visibility p50 "
                f"{r['visibility_p50_ms']} ms p99 {r['visibility_p99_ms']} ms "
                f"({r['approvals']} approvals, answered {r['answered']}); every approval resolved "
                f"once in {r['runs_with_every_approval_resolved_once']}/{n} logs, "
                f"{r['logs_with_seq_gaps']} logs with seq gaps"
                + (f"; errors: {r['errors']}" if r["errors"] else ""),
                flush=True,
            )
    if args.json:
        print(json.dumps(out, indent=1))
    sys.exit(0 if all(r["completed"] == r["runs"] for r in out) else 1)


if __name__ == "__main__":
    main()
