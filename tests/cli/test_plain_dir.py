"""A run in a plain directory (no git) through the real agentd and agentctl: it runs, says what
it goes without, and diff/revert work from the shadow repo without creating a .git."""

from __future__ import annotations

import json
import time

from harness_ls.testing.greet import SPEC
from tests.cli.conftest import DOCS, DONE, PLAN, WRITE, ok, script


def test_run_diff_and_revert_in_a_plain_directory(daemon, tmp_path):
    ws = tmp_path / "plain"
    (ws / "specs" / "greet").mkdir(parents=True)
    (ws / "specs" / "greet" / "spec.md").write_text(SPEC)
    (ws / "greet.txt").write_text("hi\n")
    model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
    run_id = ok(daemon.cli("run", "--workspace", ".", "--spec", "specs/greet/spec.md",
                           "--model", model, cwd=ws)).stdout.strip()  # fmt: skip
    approval = daemon.wait_approval(run_id)
    (ws / "NOTES.txt").write_text("mine\n")  # the user's, while the run waits
    ok(daemon.cli("approve", "--step", approval["id"], run_id, cwd=ws))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = json.loads(ok(daemon.cli("list", "--json", cwd=ws)).stdout)
        status = next(r["status"] for r in runs if r["id"] == run_id)
        if status not in ("created", "running", "waiting_approval"):
            break
        time.sleep(0.2)
    assert status == "completed"
    events = [json.loads(line) for line in
              ok(daemon.cli("attach", "--json", run_id, cwd=ws)).stdout.splitlines()]  # fmt: skip
    notes = [
        e for e in events if e["type"] == "log" and e["data"].get("code") == "workspace.not_git"
    ]
    assert len(notes) == 1 and "git init" in notes[0]["data"]["message"]
    diff = json.loads(ok(daemon.cli("diff", "--json", run_id, cwd=ws)).stdout)
    assert [c["paths"] for c in diff["calls"]] == [["greet.txt"]]
    assert diff["user_paths"] == ["NOTES.txt"]
    ok(daemon.cli("revert", run_id, cwd=ws))
    assert (ws / "greet.txt").read_text() == "hi\n" and (ws / "NOTES.txt").read_text() == "mine\n"
    assert not (ws / ".git").exists()
