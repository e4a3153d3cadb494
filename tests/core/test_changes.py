"""core.changes: the daemon (/v1/runs/{id}/diff) and the CLI (`agentctl diff`) give the same
diff for the same run, from checkpoints when the run has them, else from approval previews.

Real git repository in a temp dir, a real run log in a real store, real uvicorn.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from harness_ls.cli.agentctl import main as agentctl
from harness_ls.core import changes
from harness_ls.http.app import create_app
from harness_ls.http.server import start_server
from harness_ls.store import RunStore
from harness_ls.workspace.checkpoints import call_after, call_before
from tests.workspace.attribution_sim import make_repo

PREVIEW = "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+uno\n"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _new_run(data: Path, ws: Path) -> tuple[RunStore, str, object]:
    store = RunStore(data)
    meta = store.create_run(workspace=str(ws), spec_path="specs/x.md", spec_text="# Goal\n")
    return store, meta.id, store.stream("run", meta.id)


def checkpointed_run(data: Path, ws: Path) -> str:
    """Two write_file calls to one file and one to a new file, each between snapshots."""
    store, run_id, stream = _new_run(data, ws)
    writes = [("a.txt", "one\n2\nthree\n"), ("a.txt", "one\n2\n3\n"), ("b.txt", "new\n")]
    for n, (rel, text) in enumerate(writes, start=1):
        cid = f"call_{n}"
        stream.append_nowait("tool.call", {"name": "write_file", "arguments": {"path": rel}},
                             step_id="st_1", call_id=cid)  # fmt: skip
        before = call_before(data, ws, run_id, paths=[rel])
        stream.append_nowait("checkpoint.before", {**before, "tool": "write_file"},
                             step_id="st_1", call_id=cid)  # fmt: skip
        (ws / rel).write_text(text)
        after = call_after(data, ws, run_id, before, paths=[rel])
        stream.append_nowait("checkpoint.delta", {**after, "tool": "write_file"},
                             step_id="st_1", call_id=cid)  # fmt: skip
    stream.close_sync()
    return run_id


def previews_run(data: Path, ws: Path) -> str:
    """No checkpoints: one approved write (its preview is the diff) and one denied."""
    store, run_id, stream = _new_run(data, ws)
    for aid, decision in (("ap_1", "approve"), ("ap_2", "deny")):
        stream.append_nowait("approval.requested",
                             {"approval_id": aid, "tool": "write_file",
                              "preview": {"diff": PREVIEW if aid == "ap_1" else "-x\n+y\n"}},
                             step_id="st_1")  # fmt: skip
        stream.append_nowait("approval.resolved", {"approval_id": aid, "decision": decision},
                             step_id="st_1")  # fmt: skip
    stream.close_sync()
    return run_id


def cli_diff(data: Path, run_id: str, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert agentctl(["--data-dir", str(data), "--json", "diff", run_id]) == 0
    return json.loads(capsys.readouterr().out)


async def daemon_diff(data: Path, run_id: str) -> dict:
    from harness_ls.core import Harness

    harness = Harness(data)
    await harness.start()
    sc = await start_server(create_app(harness, keepalive=0.2), "127.0.0.1", 0,
                            graceful_timeout=1.0)  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=sc.url, timeout=10) as client:
            r = await client.get(f"/v1/runs/{run_id}/diff")
            assert r.status_code == 200, r.text
            return r.json()
    finally:
        await sc.stop()
        await harness.close()


async def test_checkpointed_run_same_diff_from_cli_and_daemon(ws, data, capsys):
    run_id = checkpointed_run(data, ws)
    core = changes.run_agent_diff(RunStore(data), data, run_id)
    assert core.source == "checkpoints"
    # one combined diff: a.txt before the first call -> after the last, and the new b.txt
    assert "-two\n-three\n+2\n+3\n" in core.diff and "+new\n" in core.diff, core.diff
    cli = cli_diff(data, run_id, capsys)
    http = await daemon_diff(data, run_id)
    assert http == {"run_id": run_id, "diff": core.diff, "source": "checkpoints"}
    assert (cli["diff"], cli["source"]) == (core.diff, "checkpoints")
    assert [c["call_id"] for c in cli["calls"]] == ["call_1", "call_2", "call_3"]  # per call too


async def test_previews_only_run_same_diff_from_cli_and_daemon(ws, data, capsys):
    run_id = previews_run(data, ws)
    core = changes.run_agent_diff(RunStore(data), data, run_id)
    assert (core.diff, core.source) == (PREVIEW, "events")  # the denied preview is left out
    cli = cli_diff(data, run_id, capsys)
    http = await daemon_diff(data, run_id)
    assert http == {"run_id": run_id, "diff": PREVIEW, "source": "events"}
    assert (cli["diff"], cli["source"]) == (PREVIEW, "events") and cli["calls"] == []
    # the text output shows the same diff instead of "changed no files"
    assert agentctl(["--data-dir", str(data), "--no-color", "diff", run_id]) == 0
    assert capsys.readouterr().out == PREVIEW


def test_live_status_and_unknown_run(ws, data):
    run_id = previews_run(data, ws)
    store = RunStore(data)
    assert changes.live_status(store, run_id) is None  # no writer holds the log
    assert changes.kind_of("ses_x") == "session" and changes.kind_of(run_id) == "run"
    with pytest.raises(Exception) as err:
        changes.log_meta(store, "run_01ABCDEFGHJKMNPQRSTVWXYZ00")
    assert getattr(err.value, "code", "") == "not_found"
