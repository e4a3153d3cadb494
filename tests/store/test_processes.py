"""Cross-process behaviour with real processes: kill -9 crash safety, one writer, tailing, full disk."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness_ls.errors import StorageError
from harness_ls.store import RunStore
from tests.conftest import require_capability, require_tool

PROC = Path(__file__).with_name("store_proc.py")
LONG = os.environ.get("HARNESS_LONG") == "1"


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(PROC), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _crash_child(root: Path, run_id: str, wfd: int, concurrent: bool) -> None:
    """Forked child: append durable (and some chatty / large) events, ack each durable seq.

    `concurrent`: three asyncio tasks append at once (fsync off-loop, group commit);
    otherwise synchronous appends (fsync inline)."""
    try:
        s = RunStore(root).stream("run", run_id)
        if concurrent:

            async def worker(k: int) -> None:
                i = 0
                while True:
                    i += 1
                    if i % 3 == 0:
                        await s.append("log", {"message": f"chatty {k}.{i}"})
                    if i % 7 == 0:
                        await s.append("message.delta", {"text": "z" * 200_000})
                    ev = await s.append("tool.call", {"name": f"t{k}", "arguments": {"i": i}})
                    os.write(wfd, f"{ev.seq}\n".encode())

            async def main() -> None:
                await asyncio.gather(*(worker(k) for k in range(3)))

            asyncio.run(main())
        i = 0
        while True:
            i += 1
            if i % 3 == 0:
                s.append_nowait("log", {"message": f"chatty {i}"})
            if i % 7 == 0:  # a large line: a kill can land in the middle of writing it
                s.append_nowait("message.delta", {"text": "z" * 200_000})
            ev = s.append_nowait("step.started", {"title": f"step {i}"}, step_id=f"s{i}")
            os.write(wfd, f"{ev.seq}\n".encode())
    finally:
        os._exit(1)


def _read_acks(rfd: int) -> list[int]:
    chunks = []
    while True:
        b = os.read(rfd, 65536)
        if not b:
            break
        chunks.append(b)
    return [int(x) for x in b"".join(chunks).split()]


@pytest.mark.scaled
def test_kill_9_never_loses_an_acknowledged_event(tmp_path: Path) -> None:
    """Fork a writer, kill -9 it at a random moment, reopen: every acked event is there, no torn
    line, seq gap-free. Repeated on the same run so recovery runs after every crash."""
    root = tmp_path / "data"
    store = RunStore(root)
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="# Goal\n").id
    rounds = 200 if LONG else 20
    rng = random.Random(int(os.environ.get("HARNESS_SEED", "0")) or None)
    all_acked: set[int] = set()
    recovered = 0
    per_mode = [0, 0]  # acks from sync / concurrent children
    for round_ in range(rounds):
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            _crash_child(root, run_id, wfd, concurrent=round_ % 2 == 1)
        os.close(wfd)
        time.sleep(rng.uniform(0.005, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        acks = _read_acks(rfd)
        per_mode[round_ % 2] += len(acks)
        all_acked.update(acks)
        os.close(rfd)

        s = RunStore(root).stream("run", run_id)  # recovery happens here
        recovered += s.recovered is not None
        raw = s.path.read_bytes()
        assert raw.endswith(b"\n")
        lines = raw.split(b"\n")[:-1]
        seqs = [json.loads(line)["seq"] for line in lines]  # every line is whole JSON
        assert seqs == list(range(1, len(seqs) + 1))
        assert all_acked <= set(seqs)
        assert [e.seq for e in s.read()] == seqs
        s.close_sync()
    assert per_mode[0] and per_mode[1], f"a child mode never got to append: {per_mode}"
    meta = RunStore(root).get("run", run_id)
    assert meta.last_seq == len(seqs)
    print(f"{rounds} kills, acked {per_mode} (sync/concurrent), {recovered} torn tails repaired")


def test_second_process_cannot_write_the_same_stream(tmp_path: Path) -> None:
    root = tmp_path / "data"
    store = RunStore(root)
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    proc = spawn("hold", str(root), run_id)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        with pytest.raises(StorageError) as err:
            store.stream("run", run_id)
        assert f"process {proc.pid}" in err.value.message and run_id in err.value.message
        assert err.value.hint
        assert store.reader("run", run_id).last_seq == 1  # reading is always allowed
    finally:
        proc.kill()
        proc.wait()
    s = store.stream("run", run_id)  # the kernel dropped the dead holder's lock
    s.close_sync()
    # and the other way round: this process holds it, the child is refused
    s = store.stream("run", run_id)
    proc = spawn("hold", str(root), run_id)
    out, _ = proc.communicate(timeout=30)
    s.close_sync()
    assert "already being written by process" in json.loads(out)["error"]


async def test_another_process_tails_a_live_run(tmp_path: Path) -> None:
    root = tmp_path / "data"
    store = RunStore(root)
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    s = store.stream("run", run_id)
    await s.append("run.started")
    proc = spawn("tail", str(root), run_id)
    assert proc.stdout is not None
    loop = asyncio.get_running_loop()
    assert (await loop.run_in_executor(None, proc.stdout.readline)).strip() == "ready"
    for i in range(50):
        await s.append("message.delta" if i % 2 else "step.started", {"text": str(i)})
        if i % 10 == 0:
            await asyncio.sleep(0.02)
    await s.append("run.completed")
    # read through proc.stdout (communicate() would bypass what readline() already buffered)
    out = await asyncio.wait_for(loop.run_in_executor(None, proc.stdout.read), 30)
    proc.wait(timeout=30)
    assert [int(x) for x in out.split()] == list(range(1, 54))
    await s.close()


def test_batched_events_are_written_at_normal_exit_without_close(tmp_path: Path) -> None:
    root = tmp_path / "data"
    store = RunStore(root)
    run_id = store.create_run(workspace="/ws", spec_path="s/spec.md", spec_text="x").id
    proc = spawn("unclosed", str(root), run_id)
    out, _ = proc.communicate(timeout=60)
    assert int(out) == 11
    assert [e.seq for e in store.reader("run", run_id).read()] == list(range(1, 12))


def test_file_size_limit_gives_storage_error_and_no_half_line(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes write() fail part-way like a full disk does."""
    root = tmp_path / "data"
    proc = spawn("fill", str(root), "20000")
    out, err = proc.communicate(timeout=60)
    res = json.loads(out)
    assert res["error"]["code"] == "storage_error", err
    assert "events.ndjson" in res["error"]["message"] and res["error"]["hint"]
    s = RunStore(root).stream("run", res["run_id"])
    raw = s.path.read_bytes()
    assert raw.endswith(b"\n") and s.recovered is None
    seqs = [e.seq for e in s.read()]
    assert seqs == list(range(1, len(seqs) + 1)) and set(res["acked"]) <= set(seqs)
    s.close_sync()


def test_full_then_read_only_tmpfs(tmp_path: Path) -> None:
    """A real 64 KiB tmpfs (private mount namespace): ENOSPC, then EROFS, both named clearly."""
    require_capability(os.geteuid() == 0, "root to mount a tmpfs", "run as root (CI does)")
    require_tool("unshare")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    cmd = [
        "unshare",
        "-m",
        "--propagation",
        "private",
        sys.executable,
        str(PROC),
        "tmpfs",
        str(mnt),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    lines = proc.stdout.splitlines()
    mounted = bool(lines) and lines[0] == "mounted"
    require_capability(mounted, "a private tmpfs mount", proc.stderr.strip()[:200])
    assert proc.returncode == 0, proc.stderr
    res = json.loads(lines[-1])
    assert res["full"]["code"] == "storage_error"
    assert "No space left" in res["full"]["message"] and str(mnt) in res["full"]["message"]
    assert "full" in res["full"]["hint"]
    assert res["tail_ok"] and set(res["acked"]) <= set(res["events_after_full"])
    assert res["events_after_full"] == list(range(1, len(res["events_after_full"]) + 1))
    for key in ("ro_create", "ro_stream"):
        assert res[key]["code"] == "storage_error"
        assert "Read-only file system" in res[key]["message"] and str(mnt) in res[key]["message"]
    assert len(res["ro_list"]) == 1
