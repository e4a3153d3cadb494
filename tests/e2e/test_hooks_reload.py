"""Hooks are re-read while the daemon runs (issue 32, item 7), through a real agentd: a hook added
to config.toml after agentd started fires on the next run's end, and `agentctl doctor` reports
the hooks the running daemon actually loaded (through its API), a broken config included."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.helpers import Api, clean_env, make_repo, start_agentd, wait_for

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]


def hook_config(out: Path) -> str:
    script = f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())"
    argv = json.dumps([sys.executable, "-c", script])
    return f'[[hooks]]\non = ["run.completed", "run.failed"]\ncommand = {argv}\n'


def doctor(env: dict[str, str], cwd: Path) -> dict[str, dict]:
    out = subprocess.run([*AGENTCTL, "doctor", "--json"], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    return {c["name"]: c for c in json.loads(out.stdout)["checks"]}


def test_a_hook_added_while_agentd_runs_fires_and_doctor_says_what_it_loaded(tmp_path: Path, procs):
    ws = make_repo(tmp_path / "ws")
    data = tmp_path / "data"
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data))
    agentd = start_agentd(tmp_path, data, env=env)
    procs.append(agentd)
    env = {**env, "HARNESS_URL": agentd.url}
    before = doctor(env, tmp_path)
    assert "0 loaded" in before["daemon hooks"]["detail"], before.get("daemon hooks")

    fired = tmp_path / "fired.json"
    (data / "config.toml").write_text(hook_config(fired))  # after agentd started
    api = Api(agentd.url)
    rid = api.post("/v1/runs", {"workspace": str(ws), "spec": "specs/greet/spec.md"})["id"]
    api.wait_status(rid, 60)  # offline: no model configured; it ends all the same
    doc = wait_for(lambda: fired.exists() and fired.read_text(), 30, what="the hook to fire")
    assert json.loads(doc)["event"]["run_id"] == rid
    loaded = doctor(env, tmp_path)["daemon hooks"]
    assert loaded["status"] == "ok" and "1 loaded" in loaded["detail"], loaded
    assert "run.completed/run.failed" in loaded["detail"]

    time.sleep(0.01)
    (data / "config.toml").write_text("[[hooks]]\non = 'nope'\n")  # broken: said, not fatal
    broken = doctor(env, tmp_path)["daemon hooks"]
    assert broken["status"] == "warn" and "unknown event" in broken["detail"], broken
