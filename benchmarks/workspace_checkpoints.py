"""Per-tool-call snapshot cost and revert cost on a synthetic repository (prints figures only).

.venv/bin/python benchmarks/workspace_checkpoints.py [--files 5000] [--calls 100] [--repeat 100]

Each mutating tool call costs a snapshot of the whole work tree before it; after it, a shell call
walks the whole tree again while a write/edit call re-reads only the file it wrote; "warm" means the run's private index already exists (every call but a run's
first). The revert figure is a 100-call run (one file written per call) reverted from its log.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from harness_ls.workspace import revert, run_diff
from harness_ls.workspace.checkpoints import FINAL, call_after, call_before, step_checkpoint


def git(ws: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=ws, check=True, capture_output=True)


def cpu_ms() -> float:
    """CPU time of finished child processes (the git commands): the cost on an idle machine,
    unlike wall time on a box shared by many jobs."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        ws, data = Path(t) / "ws", Path(t) / "data"
        ws.mkdir()
        git(ws, "init", "-q")
        for i in range(args.files):
            d = ws / f"pkg{i % 50}"
            d.mkdir(exist_ok=True)
            (d / f"mod{i}.py").write_text(f"# module {i}\n" + "x = 1\n" * 40)
        git(ws, "add", ".")
        git(ws, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init")
        print(f"repo: {args.files} tracked files")
        time.sleep(1.5)  # a real repo's files are not seconds old (git's racy-clean re-hashing)

        t0 = time.perf_counter()
        call_before(data, ws, "cold")
        print(
            f"first snapshot in a workspace:    {(time.perf_counter() - t0) * 1000:7.1f} ms (hashes every file)"
        )
        t0 = time.perf_counter()
        call_before(data, ws, "second")
        print(
            f"first snapshot of a later run:    {(time.perf_counter() - t0) * 1000:7.1f} ms (index seeded)"
        )

        singles: list[float] = []
        pairs: dict[str, list[float]] = {"shell": [], "write": []}
        cpus: dict[str, list[float]] = {"shell": [], "write": []}
        for i in range(args.repeat):
            # alternate a shell call (full after-walk) and a write/edit call (its one file)
            kind = "write" if i % 2 else "shell"
            rel = f"pkg{i % 50}/mod{i}.py"
            c0, t0 = cpu_ms(), time.perf_counter()
            footprint = [rel] if kind == "write" else None  # as agent/checkpoints.py passes it
            before = call_before(data, ws, "bench", paths=footprint)
            t1 = time.perf_counter()
            (ws / rel).write_text(f"# call {i}\n")
            t2 = time.perf_counter()
            call_after(data, ws, "bench", before, paths=[rel] if kind == "write" else None)
            t3, c1 = time.perf_counter(), cpu_ms()
            singles.append((t1 - t0) * 1000)
            if kind == "shell":
                singles.append((t3 - t2) * 1000)
            pairs[kind].append((t1 - t0 + t3 - t2) * 1000)
            cpus[kind].append(c1 - c0)
        print(
            f"one full snapshot, warm, wall:     median {statistics.median(singles):6.1f} ms  "
            f"p95 {pct(singles, 0.95):6.1f} ms  max {max(singles):6.1f} ms"
        )
        for kind, label in (("shell", "shell call"), ("write", "write/edit call")):
            wall, cpu = pairs[kind], cpus[kind]
            print(
                f"per {label:15} (before+after), wall: median {statistics.median(wall):6.1f} ms  "
                f"p95 {pct(wall, 0.95):6.1f} ms  max {max(wall):6.1f} ms; CPU median "
                f"{statistics.median(cpu):5.1f} ms p95 {pct(cpu, 0.95):5.1f} ms (git children)"
            )

        events: list[SimpleNamespace] = []
        rid = "run100"

        def ev(type_: str, data_: dict, call_id: str | None = None) -> None:
            events.append(SimpleNamespace(type=type_, data=data_, call_id=call_id, step_id="st_0"))

        ev("checkpoint.created", {**step_checkpoint(data, ws, rid, "0"), "step": 0})
        for i in range(args.calls):
            cid = f"call_{i}"
            b = call_before(data, ws, rid)
            ev("checkpoint.before", {**b, "tool": "write_file"}, cid)
            target = ws / f"pkg{i % 50}" / f"mod{i + 1000}.py"
            target.write_text(f"# agent {i}\n")
            after = call_after(data, ws, rid, b, paths=[target.relative_to(ws).as_posix()])
            ev("checkpoint.delta", {**after, "tool": "write_file"}, cid)
            if i % 10 == 0:
                (ws / f"user{i}.txt").write_text("the user's\n")
        ev("checkpoint.created", {**step_checkpoint(data, ws, rid, FINAL), "step": None})
        t0 = time.perf_counter()
        d = run_diff(data, ws, rid, events)
        print(f"diff of a {args.calls}-call run:        {(time.perf_counter() - t0) * 1000:7.1f} ms  "
              f"({sum(len(c.paths) for c in d.calls)} agent files, {len(d.user_paths)} user files)")  # fmt: skip
        t0 = time.perf_counter()
        report = revert(data, ws, rid, events, dry_run=True)
        print(
            f"revert plan, {args.calls} calls:         {(time.perf_counter() - t0) * 1000:7.1f} ms"
        )
        c0, t0 = cpu_ms(), time.perf_counter()
        report = revert(data, ws, rid, events)
        print(f"revert applied, CPU of git:  {cpu_ms() - c0:7.1f} ms")
        print(f"revert applied, {args.calls} calls:      {(time.perf_counter() - t0) * 1000:7.1f} ms  "
              f"ok={report.ok} files={len(report.files)}")  # fmt: skip


if __name__ == "__main__":
    main()
