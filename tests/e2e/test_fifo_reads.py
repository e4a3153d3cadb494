"""A FIFO in the workspace and the model's reads, end to end: a real agentd (mode ask: reads run
unasked) with the fake OpenAI server as the model.

A workspace unpacked from an archive (or one the agent ran `mkfifo` in) holds FIFOs; `read_file`,
`edit` and `search` on one blocked a daemon worker thread for good (fails on ac122d8: the run never
ends), and a handful of them wedge every `to_thread` of the daemon (six threads on two CPUs).
They now get an error naming the file and the run goes on.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.helpers import make_repo, run_denying, scripted_agentd

TOKEN = "tok-e2e-fifo-reads-7d8e9f0a1b2c"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with scripted_agentd(tmp_path_factory.mktemp("fifo-reads"), TOKEN, "ask") as d:
        yield d


def test_reading_a_fifo_is_an_error_not_a_hung_daemon(daemon, tmp_path: Path) -> None:
    ws = make_repo(tmp_path / "ws")
    os.mkfifo(ws / "pipe")
    read = {"name": "read_file", "arguments": {"path": "pipe"}}
    edit = {"name": "edit", "arguments": {"path": "pipe", "old": "a", "new": "b"}}
    search = {"name": "search", "arguments": {"pattern": "x", "path": "pipe"}}
    r = run_denying(daemon, TOKEN, ws, *({"tool_calls": [c]} for c in (read, edit, search)))
    assert r.final["status"] in ("failed", "completed"), r.final
    results = [e["data"] for e in r.events if e["type"] == "tool.result"]
    assert [(d["name"], d["ok"], d["output"]) for d in results[:3]] == [
        (name, False, f"pipe is not a regular file (a FIFO, socket or device) ({hint})")
        for name, hint in (("read_file", "only text files can be read or edited"),
                           ("edit", "only text files can be read or edited"),
                           ("search", "search a folder or a text file"))
    ]  # fmt: skip
