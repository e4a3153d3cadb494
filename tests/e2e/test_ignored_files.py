"""Files git ignores are not invisible to checkpoints (issue 32, item 5), through a real agentd,
the fake model server and `agentctl`: a write_file to an ignored path is the agent's change (diff
shows it, revert undoes it, restoring what the user had), and an ignored file a shell command
wrote is listed in the summary and by diff as "ignored by git, not tracked"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.e2e.helpers import Api, clean_env, git, make_repo, start_agentd, start_fake

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
SPEC = (
    "# Goal\n\nWrite out.txt.\n\n# Constraints / nuances\n\n- Log to counter.log.\n\n"
    "# Acceptance tests\n\n- `grep -qx done out.txt`\n"
)
PLAN = {"text": '{"steps": [{"title": "Write out.txt, notes.log, and log"}]}'}


def call(name: str, **arguments: str) -> dict:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def test_ignored_files_the_agent_writes_are_tracked_or_said(tmp_path: Path, procs):
    ws = make_repo(tmp_path / "ws", SPEC, "ign")
    (ws / ".gitignore").write_text("out.txt\n*.log\n")
    git(ws, "add", ".gitignore")
    git(ws, "commit", "-qm", "ignore")
    (ws / "notes.log").write_text("user\n")
    (ws / "counter.log").write_text("c0\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "policy.toml").write_text('mode = "full-auto"\n')
    fake = start_fake(
        tmp_path,
        PLAN,
        call("write_file", path="out.txt", content="done\n"),
        call("write_file", path="notes.log", content="agent\n"),
        call("shell", command="echo c1 >> counter.log"),
        {"text": "done"},
        {"text": "No docs."},
    )
    procs.append(fake)
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), OPENAI_BASE_URL=fake.url)
    agentd = start_agentd(tmp_path, data, env=env)
    procs.append(agentd)
    api = Api(agentd.url)
    rid = api.start_run(ws, "openai:gpt-4.1-mini", spec="specs/ign/spec.md")["id"]
    final = api.wait_status(rid, 90)
    assert final["status"] == "completed", final
    assert (ws / "counter.log").read_text() == "c0\nc1\n"

    summary = (data / "runs" / rid / "artifacts" / "summary.md").read_text()
    changed = summary.split("## Changed files", 1)[1]
    assert "`A out.txt`" in changed and "`M notes.log`" in changed, changed
    assert "`? counter.log` — ignored by git, not tracked" in changed, changed
    assert "The agent changed no files" not in changed

    def agentctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*AGENTCTL, *args], cwd=ws, env=env, capture_output=True,
                              text=True, timeout=60)  # fmt: skip

    diff = agentctl("diff", rid)
    assert diff.returncode == 0, diff.stderr
    assert "+done" in diff.stdout and "-user" in diff.stdout and "+agent" in diff.stdout
    assert "ignored by git, not tracked" in diff.stdout and "counter.log" in diff.stdout
    assert "changed no files" not in diff.stdout + diff.stderr

    undo = agentctl("revert", rid)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert not (ws / "out.txt").exists()
    assert (ws / "notes.log").read_text() == "user\n"  # what the user had, back
    assert (ws / "counter.log").read_text() == "c0\nc1\n"  # not tracked: never touched
