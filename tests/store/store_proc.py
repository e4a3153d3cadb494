"""A second process for the store tests: hold a writer, tail a stream, or fill a disk.

Usage: python store_proc.py MODE DATA_DIR [ARGS...]; results are printed as lines / JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

from harness_ls.errors import HarnessError
from harness_ls.store import TERMINAL_RUN_EVENTS, RunStore


def hold(root: str, run_id: str) -> None:
    """Open the writer, say so, and keep it until stdin closes."""
    store = RunStore(root)
    try:
        s = store.stream("run", run_id)
    except HarnessError as exc:
        print(json.dumps({"error": exc.message}), flush=True)
        return
    print("ready", flush=True)
    sys.stdin.read()
    s.close_sync()


async def tail(root: str, run_id: str) -> None:
    """Follow a run written by another process; print each seq; stop after a terminal event."""
    sub = RunStore(root).reader("run", run_id).subscribe(poll_interval=0.01)
    print("ready", flush=True)
    async for ev in sub:
        print(ev.seq, flush=True)
        if ev.type in TERMINAL_RUN_EVENTS:
            break


def fill(root: str, limit: int) -> None:
    """Append durable events until the file size limit (RLIMIT_FSIZE) makes writes fail."""
    store = RunStore(root)
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="# Goal\n").id
    s = store.stream("run", run_id)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    size = s.path.stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + limit, resource.RLIM_INFINITY))
    acked, error = [], None
    for i in range(100_000):
        try:
            acked.append(s.append_nowait("step.started", {"title": "x" * 300, "i": i}).seq)
        except HarnessError as exc:
            error = exc.to_dict()
            break
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    s.close_sync()
    print(json.dumps({"run_id": run_id, "acked": acked, "error": error}), flush=True)


def tmpfs(mount_dir: str) -> None:
    """Inside a private mount namespace: a tiny tmpfs that fills up, then turns read-only."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount_dir], check=True)
    print("mounted", flush=True)
    root = Path(mount_dir) / "data"
    out: dict[str, object] = {}
    store = RunStore(root)
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="# Goal\n").id
    s = store.stream("run", run_id)
    acked = []
    for i in range(100_000):
        try:
            acked.append(s.append_nowait("step.started", {"title": "y" * 500, "i": i}).seq)
        except HarnessError as exc:
            out["full"] = exc.to_dict()
            break
    out["acked"] = acked
    out["events_after_full"] = [e.seq for e in s.read()]
    out["tail_ok"] = s.path.read_bytes().endswith(b"\n")
    s.close_sync()
    subprocess.run(["mount", "-o", "remount,ro", mount_dir], check=True)
    for what, action in (
        ("ro_create", lambda: store.create_run(workspace="/", spec_path="a", spec_text="")),
        ("ro_stream", lambda: store.stream("run", run_id)),
    ):
        try:
            action()
            out[what] = None
        except HarnessError as exc:
            out[what] = exc.to_dict()
    out["ro_list"] = [m.id for m in store.list("run")]
    print(json.dumps(out), flush=True)


async def unclosed(root: str, run_id: str) -> None:
    """Append chatty events and exit without closing: atexit must still write them."""
    s = RunStore(root).stream("run", run_id)
    for i in range(10):
        await s.append("message.delta", {"text": str(i)})
    print(s.last_seq, flush=True)


def main() -> None:
    mode, root, *rest = sys.argv[1:]
    if mode == "hold":
        hold(root, rest[0])
    elif mode == "tail":
        asyncio.run(tail(root, rest[0]))
    elif mode == "fill":
        fill(root, int(rest[0]))
    elif mode == "tmpfs":
        tmpfs(root)
    elif mode == "unclosed":
        asyncio.run(unclosed(root, rest[0]))
        return  # a normal exit: atexit handlers run
    else:
        raise SystemExit(f"unknown mode {mode}")
    os._exit(0)


if __name__ == "__main__":
    main()
