"""kill -9 of a real agentd between a tool call and its after-snapshot: `agentctl revert`
(no daemon) still undoes the agent's finished calls, keeps every user file, and claims nothing
the unfinished shell call may or may not have written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.helpers import PLAN, Api, clean_env, make_repo, start_agentd, wait_for, write_script

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]


def call(name: str, **arguments: str) -> dict:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def test_kill9_mid_shell_call_then_revert_keeps_user_files(tmp_path: Path):
    ws = make_repo(tmp_path / "ws")
    data = tmp_path / "data"
    script = write_script(
        tmp_path / "s.json", PLAN, call("write_file", path="a.txt", content="agent a\n"),
        call("shell", command="echo agent > made.txt; for i in $(seq 300); do "
             "[ -e .git/stop-test ] && break; sleep 0.2; done"),
    )  # fmt: skip
    d = start_agentd(tmp_path, data)
    try:
        api = Api(d.url)
        rid = api.start_run(ws, script)["id"]
        first = api.wait_approval(rid)
        (ws / "user-early.txt").write_text("written while the run waited\n")
        api.approve(rid, first["id"])
        second = api.wait_approval(rid, skip={first["id"]})
        api.approve(rid, second["id"])
        wait_for(lambda: (ws / "made.txt").exists(), 30, what="the shell call to start")
        (ws / "user-late.txt").write_bytes(b"\x00user bytes\n")
        api.close()
    finally:
        d.kill9()
        (
            ws / ".git" / "stop-test"
        ).touch()  # lets the orphaned sandboxed shell end (not snapshotted)
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data))
    diff = subprocess.run([*AGENTCTL, "diff", rid], cwd=ws, env=env, capture_output=True, text=True)
    assert diff.returncode == 0, diff.stderr
    assert "+agent a" in diff.stdout and "unfinished call" in diff.stdout
    assert "user-early.txt" in diff.stdout.split("not the agent's", 1)[1]
    proc = subprocess.run(
        [*AGENTCTL, "revert", "--json", rid], cwd=ws, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    outcome = {f["path"]: f["action"] for f in report["files"]}
    assert outcome["a.txt"] == "deleted"
    assert outcome.get("made.txt") == "skipped" and outcome.get("user-late.txt") == "skipped"
    assert not (ws / "a.txt").exists()
    assert (ws / "user-early.txt").read_text() == "written while the run waited\n"
    assert (ws / "user-late.txt").read_bytes() == b"\x00user bytes\n"
    assert (ws / "made.txt").exists()  # owner unknown: reported, not deleted
    again = subprocess.run(
        [*AGENTCTL, "revert", rid], cwd=ws, env=env, capture_output=True, text=True
    )
    assert again.returncode == 0 and "nothing to revert" in again.stdout, again.stdout
