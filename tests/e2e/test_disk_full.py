"""Disk full under the data dir while a run writes its log.

Preferred: a real 1 MiB tmpfs mounted over the data dir (needs root and a kernel that lets this
container mount). Fallback when mounting is not allowed: agentd runs with RLIMIT_FSIZE (via
`resource.setrlimit` in the child), so writes past the limit fail with EFBIG — the same write-
failure path in the store, announced in the test output. Either way: the daemon stays up and says
what failed, the log is never corrupt, and after space comes back every durable event that any
client saw is read back on the next start (the run then shows `interrupted`).
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import time
from pathlib import Path

import httpx

from harness_ls.store.events import EVENT_TYPES
from tests.conftest import require_capability
from tests.e2e.helpers import (
    AGENTD,
    DOCS,
    PLAN,
    WRITE,
    Api,
    Proc,
    clean_env,
    make_repo,
    start_agentd,
    wait_for,
    write_script,
)

BIG = {"text": ["x" * 4000] * 100}  # a 400 KB streamed answer (chatty deltas + one big message)


@contextlib.contextmanager
def small_disk(root: Path, ballast_kib: int = 400):
    """Yields (data_dir, mode, free_space): mode "tmpfs" or "rlimit"."""
    mnt = root / "mnt"
    mnt.mkdir()
    mounted = os.environ.get("HARNESS_TEST_NO_TMPFS") != "1" and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, timeout=30
    ).returncode == 0  # fmt: skip
    if not mounted:
        yield mnt / "data", "rlimit", lambda: None
        return
    ballast = mnt / "ballast"
    ballast.write_bytes(b"\0" * (ballast_kib << 10))  # the rest is left for the data dir
    try:
        yield mnt / "data", "tmpfs", lambda: ballast.unlink()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=30)


def start_limited(root: Path, data: Path, limit: int) -> Proc:
    import sys

    def limit_fsize() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = clean_env(root / "home", HARNESS_DATA_DIR=str(data))
    (root / "logs").mkdir(exist_ok=True)
    out, err = root / "logs" / "agentd-1.out", root / "logs" / "agentd-1.err"
    with out.open("wb") as fo, err.open("wb") as fe:
        proc = subprocess.Popen(
            [*AGENTD, "--listen", "127.0.0.1:0"], cwd=root, env=env, stdout=fo, stderr=fe,
            preexec_fn=limit_fsize,
        )  # fmt: skip
    p = Proc(proc, out, err)
    p.url = wait_for(
        lambda: (
            "dashboard at " in p.stdout()
            and p.stdout().split("dashboard at ", 1)[1].split()[0].rstrip("/")
        ),
        40,
    )
    _ = sys
    return p


def test_disk_full_mid_run_clear_error_no_corrupt_log(tmp_path: Path, capsys):
    ws = make_repo(tmp_path / "ws")
    model = write_script(tmp_path / "s.json", PLAN, WRITE, BIG, BIG, BIG, DOCS)
    with small_disk(tmp_path) as (data, mode, free_space):
        if mode == "tmpfs":
            d = start_agentd(tmp_path, data, name="agentd-1")
        else:
            d = start_limited(tmp_path, data, 300 << 10)
        with capsys.disabled():
            print(f"\n[disk full via {mode}]", end=" ")
        try:
            api = Api(d.url)
            rid = api.start_run(ws, model)["id"]
            a = api.wait_approval(rid)
            api.approve(rid, a["id"])
            full = ("No space left on device", "File too large")

            def stopped() -> bool:
                if any(w in d.stderr() for w in full):
                    return True
                return api.run(rid)["status"] in ("failed", "completed", "cancelled")

            wait_for(stopped, 60, what="the run to stop on the failed write")
            seen = api.events(rid)  # what a client has been acknowledged
            assert httpx.get(d.url + "/v1/health", timeout=10).status_code == 200  # still up
            meta = api.run(rid)
            api.close()
        finally:
            d.stop()
        err = d.stderr()
        assert "Traceback" not in err, err
        # the reason is said plainly: in run.failed / the run's outcome, or (when not even that
        # fits) in agentd's log, naming the file that could not be written
        said = (meta.get("outcome") or "") + "\n" + err
        line = next(ln for ln in said.splitlines() if any(w in ln for w in full))
        assert "cannot write" in line and ("events" in line or "artifacts" in line), line
        with capsys.disabled():
            print(f"run {meta['status']}: {line.strip()[:160]}", end=" ")
        free_space()
        d2 = start_agentd(tmp_path, data, name="agentd-2")
        try:
            api = Api(d2.url)
            meta2 = api.run(rid)
            want = "interrupted" if meta["status"] == "running" else meta["status"]
            assert meta2["status"] == want, meta2
            after = api.events(rid)
            assert [e["seq"] for e in after] == list(range(1, len(after) + 1))
            by_seq = {e["seq"]: e for e in after}
            durable = [e for e in seen if EVENT_TYPES[e["type"]].durable]
            assert durable and all(by_seq.get(e["seq"]) == e for e in durable)
            assert not [e for e in after if e["type"] == "store.warning"], "a corrupt line"
            api.close()
        finally:
            d2.stop()


def test_a_run_started_on_a_full_disk_does_not_stay_running(tmp_path: Path):
    ws, ws2 = make_repo(tmp_path / "ws"), make_repo(tmp_path / "ws2")
    model = write_script(tmp_path / "s.json", PLAN, WRITE, BIG, BIG, BIG, DOCS)
    with small_disk(tmp_path) as (data, mode, _free):
        # a size limit is per file (a new run's log starts empty again): only a full tmpfs will do
        require_capability(mode == "tmpfs", "a full file system (a tmpfs mount)",
                           "run as root (CI does); RLIMIT_FSIZE cannot model it")  # fmt: skip
        d = start_agentd(tmp_path, data)
        try:
            api = Api(d.url)
            rid = api.start_run(ws, model)["id"]
            api.approve(rid, api.wait_approval(rid)["id"])
            api.wait_status(rid, 60)  # the first run fills the disk and fails
            r = api.c.post("/v1/runs", json={"workspace": str(ws2), "spec": "specs/greet/spec.md",
                                              "model": model})  # fmt: skip
            if r.status_code >= 400:  # refusing up front with a clear error is fine too
                assert "space" in r.text or "too large" in r.text, r.text
                return
            rid2 = r.json()["id"]
            wait_for(lambda: f"run {rid2} stopped" in d.stderr(), 30)
            time.sleep(0.5)
            run = api.run(rid2)
            assert run["status"] == "failed" and "could not record" in run["outcome"], run
            # the (cached) listing says the same as the detail route
            listed = next(r for r in api.c.get("/v1/runs").json() if r["id"] == rid2)
            assert (listed["status"], listed["outcome"]) == (run["status"], run["outcome"])
            failed = api.c.get("/v1/runs", params={"status": "failed"}).json()
            assert rid2 in [r["id"] for r in failed]
        finally:
            d.stop()
