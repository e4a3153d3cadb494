"""agentctl with two live hosts on one data dir (agentd, and an editor's harness-ls or a second
agentd): each holds the approvals of its own runs, and agentctl talks to the newest one."""

from __future__ import annotations

import json
import subprocess
import time

from tests.cli.conftest import (
    AGENTCTL,
    AGENTD,
    DOCS,
    DONE,
    PLAN,
    WRITE,
    base_env,
    ok,
    read_first_line,
    script,
)


def _agentd(env: dict[str, str], cwd) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([*AGENTD, "--listen", "127.0.0.1:0"], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    line = read_first_line(proc, "dashboard at")
    return proc, line.split("dashboard at ", 1)[1].split()[0].rstrip("/")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_approvals_of_a_run_held_by_an_older_host_are_listed_and_answered(workspace, tmp_path):
    """The run waits for an approval in the host that started it; a newer host came up since
    (the editor opened a spec). `agentctl approvals` said "no pending approvals" and `agentctl
    approve` "no pending approval", while `agentctl list` showed the run waiting_approval."""
    home = tmp_path / "home"
    home.mkdir()
    env = base_env(home, HARNESS_DATA_DIR=str(tmp_path / "data"))

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*AGENTCTL, *args], cwd=workspace, env=env, capture_output=True,
                              text=True, timeout=60)  # fmt: skip

    owner, owner_url = _agentd(env, tmp_path)
    newer = None
    try:
        model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
        run_id = ok(cli("run", "--workspace", ".", "--spec", "specs/greet/spec.md",
                        "--model", model)).stdout.strip()  # fmt: skip
        deadline = time.monotonic() + 30
        while not (pending := json.loads(ok(cli("approvals", "--json")).stdout)):
            assert time.monotonic() < deadline, "the run never asked"
            time.sleep(0.1)
        step = pending[0]["id"]
        time.sleep(0.01)  # endpoint files are ordered by their start time (ms)
        newer, newer_url = _agentd(env, tmp_path)
        assert ok(cli("doctor", "--json")).stdout.count(newer_url) >= 1  # agentctl's host now
        listed = json.loads(ok(cli("approvals", "--json")).stdout)
        assert [(a["id"], a["run_id"]) for a in listed] == [(step, run_id)]
        text = ok(cli("approvals")).stdout
        assert f"agentctl approve --step {step} {run_id}" in text
        answered = ok(cli("approve", "--step", step, run_id))
        assert answered.stdout.strip() == f"✓ approved {step} ({run_id})"
        ok(cli("attach", "--no-input", run_id))  # exit 0: the run completed
        assert (workspace / "greet.txt").read_text() == "hello\n"
        unknown = cli("approve", "--step", "st_nope", run_id)
        assert unknown.returncode == 5 and "no pending approval 'st_nope'" in unknown.stderr

        # cancel: the newer host answered "run ... is already being written by process N"
        again = script(tmp_path, PLAN, WRITE, DONE, DOCS)
        second = subprocess.run(
            [*AGENTCTL, "--url", owner_url, "run", "--workspace", ".", "--spec",
             "specs/greet/spec.md", "--model", again],
            cwd=workspace, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        run2 = ok(second).stdout.strip()
        while not [a for a in json.loads(ok(cli("approvals", "--json")).stdout)
                   if a["run_id"] == run2]:  # fmt: skip
            assert time.monotonic() < deadline + 60, "the second run never asked"
            time.sleep(0.1)
        assert ok(cli("cancel", run2)).stdout.strip() == f"✓ {run2} cancelled"
    finally:
        for proc in (newer, owner):
            if proc is not None:
                _stop(proc)
