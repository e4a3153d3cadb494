"""A hostile model in full-auto against the machine, end to end: real agentd, the fake model
server, real bash under bubblewrap and under the Landlock fallback.

It leaves a chain of 130 nested shells in a new session behind (under Landlock the chain's lower
levels outlived the call on 23d097e), fills the sandbox's `/tmp` (an uncapped tmpfs: RAM) and
writes into `/dev/shm` (under Landlock a file there outlived the call, outside the workspace).
After the run nothing it started runs, nothing is left in `/dev/shm`, and agentd answers.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from harness_ls.tools import sandbox
from tests.conftest import require_capability
from tests.e2e.helpers import Api, make_repo, run_denying, scripted_agentd, start_agentd
from tests.tools.test_sandbox_leftovers import _alive, _kill

TOKEN = "exhaust-test-token-0123456789abcdef"
CHAIN = 'f(){ if [ "$1" -gt 0 ]; then f $(($1-1)) & wait; else exec sleep {t}; fi; }\nf 130\n'


@pytest.fixture(params=["bwrap", "landlock"])
def daemon(request, tmp_path: Path, monkeypatch):
    if request.param == "bwrap":
        require_capability(sandbox.bwrap() is not None, "a working bubblewrap",
                           sandbox.availability()[1])  # fmt: skip
    else:
        require_capability(sandbox.landlock() >= 6, "Landlock ABI 6+", "a Linux kernel >= 6.7")
    (tmp_path / "d").mkdir()
    with scripted_agentd(tmp_path / "d", TOKEN, "full-auto") as d:
        if request.param == "landlock":  # restart with bubblewrap missing
            d.stop()
            env = {**d.extra["env"], "HARNESS_BWRAP": str(tmp_path / "no-bwrap")}
            d2 = start_agentd(d.extra["root"], d.extra["data"], env=env, name="agentd-ll")
            d2.extra.update(d.extra)
            try:
                yield d2, request.param
            finally:
                d2.stop()
        else:
            yield d, request.param


def test_nothing_outlives_the_run_and_memory_stays_capped(daemon, tmp_path: Path) -> None:
    d, mode = daemon
    token = f"{600 + uuid.uuid4().int % 90}.{uuid.uuid4().int % 10**9:09d}"
    shm = Path("/dev/shm") / f"harness-e2e-{uuid.uuid4().hex}"
    ws = make_repo(tmp_path / "ws")
    fill = "head -c 300000000 /dev/zero > /tmp/fill; echo rc=$?; rm -f /tmp/fill\n"
    calls = [  # scripts: a redirection out of the workspace on the command line would ask
        {"name": "write_file",
         "arguments": {"path": "chain.sh", "content": CHAIN.replace("{t}", token)}},
        {"name": "write_file", "arguments": {"path": "fill.sh", "content": fill}},
        {"name": "write_file",
         "arguments": {"path": "shm.sh", "content": f"echo x > {shm}; echo rc=$?\n"}},
        {"name": "shell",
         "arguments": {"command": "setsid bash chain.sh > /dev/null 2>&1 & sleep 2; echo started"}},
        {"name": "shell", "arguments": {"command": "bash fill.sh"}},
        {"name": "shell", "arguments": {"command": "bash shm.sh"}},
    ]  # fmt: skip
    try:
        run = run_denying(d, TOKEN, ws, {"tool_calls": calls})
        results = [e["data"] for e in run.events if e["type"] == "tool.result"]
        shells = [r for r in results if r["name"] == "shell"]
        assert len(shells) == 3, [(r["name"], r.get("output", "")[:200]) for r in results]
        assert all(r["data"]["sandbox"] == mode for r in shells), shells
        assert "started" in shells[0]["output"], shells[0]
        assert _alive(token) == [], f"the chain outlived the run under {mode}"
        if mode == "bwrap":  # /tmp is a capped tmpfs (under Landlock /tmp is not writable)
            assert "No space left on device" in shells[1]["output"], shells[1]
        assert not shm.exists(), shells[2]  # bwrap: written to its private /dev/shm, gone
        if mode == "landlock":
            assert "Permission denied" in shells[2]["output"], shells[2]
        api = Api(d.url, TOKEN)
        assert api.get(f"/v1/runs/{run.run_id}")["id"] == run.run_id  # still answering
        api.close()
    finally:
        _kill(_alive(token))
        if shm.exists():
            os.unlink(shm)
