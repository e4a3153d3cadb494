"""Nothing a command starts outlives its call, under bubblewrap and under the Landlock fallback.

A process left running could race the daemon's own file operations (write_file, revert,
checkpoints run outside the sandbox) or keep writing after the call was reported done. Each form
of leaving something behind is tried with real processes and checked in /proc afterwards:
`&`, `nohup`, `setsid`, a double fork, `disown`, a process ignoring SIGTERM and SIGHUP, and a
chain of nested shells (in a new session) deeper than the Landlock helper's old 100 reaping passes (its reaper
killed one level per pass, so levels below the 100th outlived the call, found by this test).
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import pytest

from harness_ls.tools import TOOLS, sandbox
from tests.conftest import require_capability
from tests.tools.test_sandbox import ctx_for

shell = TOOLS["shell"]

# each form leaves `sleep <token>` behind (the token makes it findable in /proc)
FORMS = {
    "background": "sleep {t} > /dev/null 2>&1 &",
    "nohup": "nohup sleep {t} > /dev/null 2>&1 &",
    "setsid": "setsid sleep {t} > /dev/null 2>&1 &",
    "double fork": "( ( sleep {t} > /dev/null 2>&1 & ) & )",
    "disown": "sleep {t} > /dev/null 2>&1 & disown",
    "ignores TERM and HUP": "( trap '' TERM HUP; setsid sleep {t} > /dev/null 2>&1 & wait ) &",
    "chain of 130 shells": (
        "setsid bash -c 'f(){ if [ $1 -gt 0 ]; then f $(($1-1)) & wait; "
        "else exec sleep {t}; fi; }; f 130' > /dev/null 2>&1 & sleep 2"
    ),
}


@pytest.fixture(params=["bwrap", "landlock"])
def mode(request, monkeypatch) -> str:
    if request.param == "bwrap":
        require_capability(sandbox.bwrap() is not None, "a working bubblewrap",
                           sandbox.availability()[1])  # fmt: skip
    else:
        require_capability(sandbox.landlock() > 0, "Landlock in the kernel",
                           "a Linux kernel >= 5.13 with Landlock on")  # fmt: skip
        monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    return request.param


def _token() -> str:
    # a sleep argument no other process on the machine uses
    return f"{700 + uuid.uuid4().int % 200}.{uuid.uuid4().int % 10**9:09d}"


def _alive(token: str) -> list[int]:
    """Pids whose command line holds `token` (zombies excluded: they run nothing)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{entry}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if token.encode() in cmdline and state != b"Z":
            found.append(int(entry))
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.parametrize("form", list(FORMS))
async def test_nothing_a_command_starts_outlives_the_call(mode: str, form: str, repo: Path):
    token = _token()
    command = FORMS[form].replace("{t}", token) + "; echo started"
    try:
        r = await shell.run(ctx_for(repo), {"command": command, "timeout": 30})
        assert r.data["sandbox"] == mode, r.data
        assert "started" in r.output, r.output
        await asyncio.sleep(0.3)
        assert _alive(token) == [], f"{form}: a process outlived the call under {mode}"
    finally:
        _kill(_alive(token))


async def test_a_timed_out_call_leaves_no_chain_behind(mode: str, repo: Path):
    token = _token()
    chain = FORMS["chain of 130 shells"].replace("{t}", token).replace("sleep 2", "sleep 60")
    try:
        r = await shell.run(ctx_for(repo), {"command": chain, "timeout": 3})
        assert r.error_code == "timeout", r.output
        await asyncio.sleep(0.3)
        assert _alive(token) == [], f"a process outlived the timed-out call under {mode}"
    finally:
        _kill(_alive(token))


async def test_the_command_is_the_oom_killers_first_choice(mode: str, repo: Path) -> None:
    """A memory hog inside is killed before the daemon (whose score stays as it was)."""
    r = await shell.run(
        ctx_for(repo),
        {"command": "cat /proc/self/oom_score_adj; sh -c 'cat /proc/self/oom_score_adj'"},
    )
    assert r.output.split("\n")[1:] == ["1000", "1000"], r.output
    assert Path("/proc/self/oom_score_adj").read_text().strip() != "1000"
