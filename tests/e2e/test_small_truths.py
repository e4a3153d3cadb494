"""Small lies, told no more (issue 32, item 8), through real agentd, agentctl and harness-ls:

- a session's `model` in the API is the model its turns used (not null);
- "approve similar" says the rule it adds, before (the approval) and after (`approve --similar`,
  attach), and a later call outside that rule still asks;
- a refusal reads "refused: denied by cli: <note>", the rule name not glued to the note;
- `agentctl init` finds pytest from pytest.ini / tests/ for AGENTS.md;
- `harness-ls check --fix` says what it did, also when there was nothing to fix.
(MCP approvals named `mcp:server.tool` and shown as a tool call: tests/agent/test_mcp.py, with a
real MCP server.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.e2e.helpers import (
    Api,
    clean_env,
    make_repo,
    start_agentd,
    start_fake,
    wait_for,
)

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
MODEL = "openai:gpt-4.1-mini"
SPEC = (
    "# Goal\n\nWrite sub/a.txt.\n\n# Constraints / nuances\n\n- None.\n\n"
    "# Acceptance tests\n\n- `grep -qx a sub/a.txt`\n"
)


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


def test_sessions_name_their_model_and_approvals_say_their_rules(tmp_path: Path, procs):
    fake = start_fake(
        tmp_path,
        {"text": "Hello."},  # the session's turn
        {"text": '{"steps": [{"title": "Write the files"}]}'},
        write("sub/a.txt", "a\n"), write("sub/b.txt", "b\n"), write("c.txt", "c\n"),
        {"text": "Done."}, {"text": "No docs."},
    )  # fmt: skip
    procs.append(fake)
    data = tmp_path / "data"
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(data), OPENAI_BASE_URL=fake.url,
                    HARNESS_MODEL=MODEL)  # fmt: skip
    agentd = start_agentd(tmp_path, data, env=env)
    procs.append(agentd)
    api = Api(agentd.url)
    ws = make_repo(tmp_path / "ws", SPEC, "sub")
    cli_env = {**env, "HARNESS_URL": agentd.url, "NO_COLOR": "1"}

    def agentctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*AGENTCTL, *args], cwd=ws, env=cli_env, capture_output=True,
                              text=True, timeout=60)  # fmt: skip

    sid = api.post("/v1/sessions", {"workspace": str(ws)})["id"]
    assert api.get(f"/v1/sessions/{sid}")["model"] is None  # nothing has run yet
    api.post(f"/v1/sessions/{sid}/messages", {"text": "hi"}, status=202)
    wait_for(lambda: api.get(f"/v1/sessions/{sid}")["status"] == "idle"
             and api.get(f"/v1/sessions/{sid}")["last_seq"] > 3, 30, what="the turn")  # fmt: skip
    assert api.get(f"/v1/sessions/{sid}")["model"] == MODEL
    assert any(s["id"] == sid and s["model"] == MODEL for s in api.get("/v1/sessions"))

    rid = api.start_run(ws, MODEL, spec="specs/sub/spec.md")["id"]
    first = api.wait_approval(rid)
    assert first["similar"] == "allow write_file '/sub/*' for the rest of this run", first
    said = agentctl("approve", "--similar", "--step", first["id"], rid)
    assert said.returncode == 0, said.stderr
    assert "rule added: allow write_file '/sub/*' for the rest of this run" in said.stdout
    # sub/b.txt runs unasked under that rule; c.txt is outside it and asks
    second = api.wait_approval(rid, skip={first["id"]})
    assert "c.txt" in second["preview"]["summary"], second
    denied = agentctl("approve", "--deny", "--note", "not now", "--step", second["id"], rid)
    assert denied.returncode == 0, denied.stderr
    api.wait_status(rid, 60)
    assert (ws / "sub" / "b.txt").read_text() == "b\n" and not (ws / "c.txt").exists()
    shown = agentctl("attach", rid).stdout
    assert "rule added: allow write_file '/sub/*' for the rest of this run" in shown, shown
    refused = next(ln for ln in shown.splitlines() if "refused:" in ln)
    assert refused.strip().endswith("refused: denied by cli: not now"), refused


def test_init_finds_pytest_and_check_fix_says_what_it_did(tmp_path: Path):
    ws = make_repo(tmp_path / "ws")
    (ws / "pytest.ini").write_text("[pytest]\n")
    (ws / "tests").mkdir()
    (ws / "tests" / "test_greet.py").write_text("def test_ok():\n    assert True\n")
    env = clean_env(tmp_path / "home", HARNESS_DATA_DIR=str(tmp_path / "data"))
    out = subprocess.run([*AGENTCTL, "init"], cwd=ws, env=env, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    agents = (ws / "AGENTS.md").read_text()
    assert "No build or test commands were found" not in agents
    assert "| test | `pytest` | pytest.ini |" in agents, agents

    spec = ws / "specs" / "greet" / "spec.md"
    spec.write_text(spec.read_text().replace("# Acceptance tests", "# acceptance tests"))
    check = [sys.executable, "-m", "harness_ls", "check", "--fix", str(spec)]
    fixed = subprocess.run(check, cwd=ws, env=env, capture_output=True, text=True, timeout=60)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert f"{spec}: fixed" in fixed.stdout and "1 spec file checked, 1 fixed" in fixed.stdout
    again = subprocess.run(check, cwd=ws, env=env, capture_output=True, text=True, timeout=60)
    assert again.stdout.strip() == "1 spec file checked, 0 fixed; no errors left", again.stdout
    assert json.loads(json.dumps(again.returncode)) == 0
