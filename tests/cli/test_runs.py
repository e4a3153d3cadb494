"""run / attach / approve / list / export / diff / revert / cancel against a real agentd."""

from __future__ import annotations

import io
import json
import signal
import threading
import time
import zipfile

from tests.cli.conftest import DOCS, DONE, PLAN, WRITE, ok, script


class Lines:
    """Collects a process's stdout lines in a thread so a test can wait for one."""

    def __init__(self, proc) -> None:
        self.proc, self.lines = proc, []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, needle: str, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if any(needle in line for line in self.lines):
                return
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} not in output:\n{''.join(self.lines)}")

    def finish(self, within: float = 60) -> tuple[int, str, str]:
        code = self.proc.wait(within)
        self.thread.join(5)
        return code, "".join(self.lines), self.proc.stderr.read()


def test_run_attach_approve_from_another_process_then_inspect(daemon, workspace, tmp_path):
    model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
    started = ok(daemon.cli("run", "--workspace", ".", "--spec", "specs/greet/spec.md",
                            "--model", model, cwd=workspace))  # fmt: skip
    run_id = started.stdout.strip()
    assert run_id.startswith("run_") and "\n" not in run_id
    assert f"agentctl attach {run_id}" in started.stderr
    attach = Lines(daemon.popen("attach", "--no-input", run_id, cwd=workspace))
    attach.wait_for("approval needed")
    approval = daemon.wait_approval(run_id)
    attach.wait_for(f"agentctl approve --step {approval['id']} {run_id}")
    answered = ok(daemon.cli("approve", "--step", approval["id"], "--note", "lgtm", run_id,
                             cwd=workspace))  # fmt: skip
    assert "approved" in answered.stdout
    code, out, err = attach.finish()
    assert code == 0, out + err
    for needle in ("plan (1 step)", "Write hello into greet.txt", "I will write it.",
                   "write_file greet.txt", "+hello", "-hi", "approved by cli: lgtm",
                   "grep -qx hello greet.txt", "run completed"):  # fmt: skip
        assert needle in out, (needle, out)
    assert "\x1b[" not in out  # not a terminal: no colors
    again = daemon.cli("approve", "--step", approval["id"], run_id, cwd=workspace)
    assert again.returncode == 6 and "already answered" in again.stderr

    runs = json.loads(ok(daemon.cli("list", "--json", cwd=workspace)).stdout)
    mine = next(r for r in runs if r["id"] == run_id)
    assert mine["status"] == "completed"
    table = ok(daemon.cli("list", "--status", "completed", cwd=workspace)).stdout
    assert run_id in table and "STATUS" in table
    ok(daemon.cli("export", "--out", str(tmp_path / "run.zip"), run_id, cwd=workspace))
    names = zipfile.ZipFile(io.BytesIO((tmp_path / "run.zip").read_bytes())).namelist()
    assert "events.ndjson" in names and "summary.md" in names

    events = [json.loads(line) for line in
              ok(daemon.cli("attach", "--json", run_id, cwd=workspace)).stdout.splitlines()]  # fmt: skip
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "run.completed"

    diff = ok(daemon.cli("diff", run_id, cwd=workspace)).stdout
    assert "+hello" in diff and "-hi" in diff
    as_json = json.loads(ok(daemon.cli("diff", "--json", run_id, cwd=workspace)).stdout)
    assert [c["paths"] for c in as_json["calls"]] == [["greet.txt"]]
    assert "+hello" in as_json["calls"][0]["text"]
    dry = ok(daemon.cli("revert", "--dry-run", run_id, cwd=workspace))
    assert "greet.txt" in dry.stdout and (workspace / "greet.txt").read_text() == "hello\n"
    ok(daemon.cli("revert", run_id, cwd=workspace))
    assert (workspace / "greet.txt").read_text() == "hi\n"
    gc = json.loads(ok(daemon.cli("checkpoints", "gc", "--older-than", "0s", "--json",
                                  cwd=workspace)).stdout)  # fmt: skip
    assert run_id in gc["removed_runs"]
    done = daemon.cli("cancel", run_id, cwd=workspace)
    assert done.returncode == 6 and "already completed" in done.stderr


def test_bad_input_gets_clear_errors_and_exit_codes(daemon, workspace):
    unknown = daemon.cli("attach", "run_01ABCDEFGHJKMNPQRSTVWXYZ00", cwd=workspace)
    assert unknown.returncode == 5 and "run_01ABCDEFGHJKMNPQRSTVWXYZ00" in unknown.stderr
    missing = daemon.cli("run", "--spec", "specs/nope/spec.md", cwd=workspace)
    assert missing.returncode == 2 and "specs/nope/spec.md not found" in missing.stderr
    bad = workspace / "specs" / "bad" / "spec.md"
    bad.parent.mkdir()
    bad.write_text("# Goal\n\nSomething.\n")
    invalid = daemon.cli("run", "--spec", "specs/bad/spec.md", cwd=workspace)
    assert invalid.returncode == 2, invalid.stderr
    assert "specs/bad/spec.md:3:1: error" in invalid.stderr and "Acceptance tests" in invalid.stderr
    step = daemon.cli(
        "approve", "--step", "st_nope", "run_01ABCDEFGHJKMNPQRSTVWXYZ00", cwd=workspace
    )
    assert step.returncode == 5
    usage = daemon.cli("approve", "run_x", cwd=workspace)
    assert usage.returncode == 2 and "--step" in usage.stderr
    for out in (unknown, missing, invalid, step, usage):
        assert "Traceback" not in out.stderr


def test_ctrl_c_detaches_and_the_run_keeps_waiting(daemon, workspace, tmp_path):
    model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
    follow = Lines(daemon.popen("run", "--follow", "--no-input", "--spec", "specs/greet/spec.md",
                                "--model", model, cwd=workspace))  # fmt: skip
    follow.wait_for("approval needed")
    run_id = follow.lines[0].strip()
    follow.proc.send_signal(signal.SIGINT)
    code, _out, err = follow.finish()
    assert code == 130 and f"agentctl attach {run_id}" in err and "Traceback" not in err
    meta = json.loads(ok(daemon.cli("list", "--json", cwd=workspace)).stdout)
    assert next(r for r in meta if r["id"] == run_id)["status"] == "waiting_approval"
    ok(daemon.cli("cancel", run_id, cwd=workspace))
    assert daemon.cli("attach", run_id, cwd=workspace).returncode == 1
