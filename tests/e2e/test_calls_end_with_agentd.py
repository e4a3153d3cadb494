"""A call's processes end with the call even when the call never gets to end it: the run is
cancelled while an approved long command runs, or agentd itself dies (`kill -9`, the OOM killer)
in the middle of one. Real agentd, the fake model server, real bash under bubblewrap and under
the Landlock fallback; each command leaves a `setsid` sleep behind, found in /proc by a token.

Under Landlock the helper waited for its command whatever happened to agentd: on eafb02f both
sleeps outlived a `kill -9` of agentd (and would race the restarted daemon's checkpoints and
writes). bubblewrap's `--die-with-parent` already held.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from harness_ls.tools import sandbox
from tests.conftest import require_capability
from tests.e2e.helpers import DOCS, Api, make_repo, queue, scripted_agentd, start_agentd, wait_for
from tests.tools.test_sandbox_leftovers import _alive, _kill

TOKEN = "calls-end-test-token-0123456789abcdef"


def _daemon(request, tmp_path: Path, mode: str):
    if request.param == "bwrap":
        require_capability(sandbox.bwrap() is not None, "a working bubblewrap",
                           sandbox.availability()[1])  # fmt: skip
    else:
        require_capability(sandbox.landlock() > 0, "Landlock in the kernel",
                           "a Linux kernel >= 5.13 with Landlock on")  # fmt: skip
    (tmp_path / "d").mkdir()
    with scripted_agentd(tmp_path / "d", TOKEN, mode) as d:
        if request.param == "bwrap":
            yield d, request.param
            return
        d.stop()  # restart with bubblewrap missing: the Landlock fallback
        env = {**d.extra["env"], "HARNESS_BWRAP": str(tmp_path / "no-bwrap")}
        d2 = start_agentd(d.extra["root"], d.extra["data"], env=env, name="agentd-ll")
        d2.extra.update(d.extra)
        try:
            yield d2, request.param
        finally:
            d2.stop()


@pytest.fixture(params=["bwrap", "landlock"])
def full_auto(request, tmp_path: Path):
    yield from _daemon(request, tmp_path, "full-auto")


@pytest.fixture(params=["bwrap", "landlock"])
def asking(request, tmp_path: Path):
    yield from _daemon(request, tmp_path, "ask")


def _sleeps(token: str) -> list[int]:
    """The `sleep <token>` processes themselves (not the shells or sandbox naming the token)."""
    out = []
    for pid in _alive(token):
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes() == f"sleep\0{token}\0".encode():
                out.append(pid)
        except OSError:
            pass
    return out


def _token() -> str:
    return f"{500 + uuid.uuid4().int % 90}.{uuid.uuid4().int % 10**9:09d}"


def _start(d, ws: Path, token: str) -> tuple[Api, str]:
    command = f"setsid sleep {token} > /dev/null 2>&1 & sleep {token}; echo done"
    plan = json.dumps({"steps": [{"title": "wait"}]})
    call = {"name": "shell", "arguments": {"command": command}}
    queue(d.extra["fake"].url, {"text": plan}, {"tool_calls": [call]}, {"text": "done"}, DOCS)
    api = Api(d.url, TOKEN)
    return api, api.start_run(ws, "openai:gpt-4o-mini")["id"]


def test_nothing_a_call_started_outlives_agentd_killed_mid_call(full_auto, tmp_path: Path):
    d, mode = full_auto
    token = _token()
    api, _ = _start(d, make_repo(tmp_path / "ws"), token)
    try:
        wait_for(lambda: len(_sleeps(token)) == 2, 60, what="both sleeps to start")
        api.close()
        d.kill9()
        left = wait_for(lambda: _alive(token) == [] or None, 20, what="nothing left")
        assert left is True, f"under {mode} the call outlived agentd"
    finally:
        _kill(_alive(token))


def test_an_approved_long_call_ends_when_the_run_is_cancelled(asking, tmp_path: Path):
    d, mode = asking
    token = _token()
    api, run_id = _start(d, make_repo(tmp_path / "ws"), token)
    try:
        approval = api.wait_approval(run_id, 60)
        assert approval["tool"] == "shell"
        api.approve(run_id, approval["id"])
        wait_for(lambda: len(_sleeps(token)) == 2, 60, what="both sleeps to start")
        api.post(f"/v1/runs/{run_id}/cancel", {})
        assert api.wait_status(run_id, 60)["status"] == "cancelled"
        assert _alive(token) == [], f"under {mode} the cancelled call left processes"
        results = [e for e in api.events(run_id) if e["type"] == "tool.result"]
        assert results == [] or results[0]["data"]["ok"] is False
    finally:
        _kill(_alive(token))
        api.close()
