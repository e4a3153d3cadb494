"""Checkpoint / diff / revert cost on a synthetic repository (prints figures, asserts nothing).

.venv/bin/python benchmarks/workspace_checkpoints.py [--files 5000] [--changed 50]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from harness_ls.workspace import checkpoint, diff, finalize, revert
from harness_ls.workspace.gc import delete_run


def git(ws: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=ws, check=True, capture_output=True)


def timed(fn, repeat: int = 5) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs), max(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--changed", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as t:
        ws = Path(t)
        git(ws, "init", "-q")
        for i in range(args.files):
            d = ws / f"pkg{i % 50}"
            d.mkdir(exist_ok=True)
            (d / f"mod{i}.py").write_text(f"# module {i}\n" + "x = 1\n" * 40)
        git(ws, "add", ".")
        git(ws, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "init")
        print(f"repo: {args.files} tracked files, {args.changed} changed per step")

        n = iter(range(10_000))
        med, worst = timed(lambda: checkpoint(ws, "bench", next(n)))
        print(f"checkpoint, clean tree:           median {med:7.1f} ms   max {worst:7.1f} ms")

        for i in range(args.changed):
            (ws / f"pkg{i % 50}" / f"mod{i}.py").write_text(f"# changed {i}\n")
        (ws / "untracked").mkdir()
        for i in range(args.changed):
            (ws / "untracked" / f"new{i}.txt").write_text(f"new {i}\n")
        med, worst = timed(lambda: checkpoint(ws, "bench", next(n)))
        print(
            f"checkpoint, {args.changed} modified + {args.changed} new: median {med:7.1f} ms   max {worst:7.1f} ms"
        )

        delete_run(ws, "bench")
        git(ws, "stash", "-u", "-q")
        checkpoint(ws, "run", 0)
        for i in range(args.changed):
            (ws / f"pkg{i % 50}" / f"mod{i}.py").write_text(f"# agent {i}\n")
        finalize(ws, "run")
        med, _ = timed(lambda: diff(ws, "run"))
        print(f"diff of the run ({args.changed} files):     median {med:7.1f} ms")
        med, _ = timed(lambda: revert(ws, "run", dry_run=True))
        print(f"revert plan ({args.changed} files):         median {med:7.1f} ms")
        t0 = time.perf_counter()
        report = revert(ws, "run")
        print(
            f"revert applied ({args.changed} files):      {(time.perf_counter() - t0) * 1000:7.1f} ms  ok={report.ok}"
        )


if __name__ == "__main__":
    main()
