"""Commands that need no daemon: help, init, spec new/prompt, context, and the unreachable error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import AGENTCTL, base_env, ok


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    e = base_env(cwd / "home", HARNESS_DATA_DIR=str(cwd / "data"), **env)
    return subprocess.run([*AGENTCTL, *args], cwd=cwd, env=e, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def test_help_lists_every_command_and_the_import_is_light(tmp_path):
    out = ok(run(tmp_path, "--help"))
    for word in ("init", "spec", "run", "attach", "approve", "export", "list", "cancel", "doctor",
                 "session", "diff", "revert", "checkpoints", "context", "exit codes"):  # fmt: skip
        assert word in out.stdout
    probe = ("import sys, harness_ls.cli.agentctl as m; m.build_parser(); "
             "print(sorted(k for k in ('httpx', 'harness_ls.core', 'harness_ls.models', "
             "'pydantic', 'harness_ls.workspace') if k in sys.modules))")  # fmt: skip
    heavy = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert heavy.stdout.strip() == "[]"
    sub = ok(run(tmp_path, "session", "message", "--help"))
    assert "--text" in sub.stdout and "example:" in sub.stdout


def test_init_spec_new_and_offline_spec_prompt(tmp_path):
    ws = tmp_path / "repo"
    ws.mkdir()
    bad = run(ws, "init")
    assert bad.returncode == 2 and "git init" in bad.stderr and "Traceback" not in bad.stderr
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    first = ok(run(ws, "init"))
    assert "AGENTS.md" in first.stdout and (ws / "AGENTS.md").is_file()
    assert (ws / ".harness" / "policy.toml").is_file()
    again = json.loads(ok(run(ws, "init", "--json")).stdout)
    assert again["created"] == [] and "AGENTS.md" in again["skipped"]

    made = ok(run(ws, "spec", "new", "login"))
    assert "specs/login/spec.md" in made.stdout and (ws / "specs/login/spec.md").is_file()
    dup = run(ws, "spec", "new", "login")
    assert dup.returncode == 6 and "already exists" in dup.stderr
    assert run(ws, "spec", "new", "../x").returncode == 2

    prompt = "Add a /health endpoint that returns ok"
    gen = ok(run(ws, "spec", "prompt", "--prompt", prompt, "health"))
    assert "no model configured" in gen.stdout
    text = (ws / "specs/health/spec.md").read_text()
    assert prompt in text.split("# Constraints")[0]
    exists = run(ws, "spec", "prompt", "--prompt", prompt, "health")
    assert exists.returncode == 6 and "--overwrite" in exists.stderr
    data = json.loads(ok(run(ws, "spec", "prompt", "--prompt", prompt, "--overwrite", "--json",
                             "health")).stdout)  # fmt: skip
    assert data["offline"] is True and data["path"].endswith("specs/health/spec.md")
    (ws / "idea.txt").write_text(prompt)
    both = run(ws, "spec", "prompt", "--prompt", "x", "--prompt-file", "idea.txt", "other")
    assert both.returncode == 2 and "either --prompt or --prompt-file" in both.stderr
    missing = run(ws, "spec", "prompt", "--prompt-file", "nope.txt", "other")
    assert missing.returncode == 2 and "nope.txt" in missing.stderr


def test_context_prints_the_map_within_budget(tmp_path):
    ws = tmp_path / "repo"
    (ws / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    (ws / "src" / "app.py").write_text("def health():\n    return 'ok'\n")
    (ws / "spec.md").write_text("# Goal\n\nAdd a health endpoint in app.py\n")
    out = ok(run(ws, "context", "--workspace", ".", "--spec", "spec.md", "--budget", "2000"))
    assert "app.py" in out.stdout and "tokens" in out.stderr
    doc = json.loads(
        ok(run(ws, "context", "--task", "health", "--budget", "2000", "--json")).stdout
    )
    assert doc["tokens"] <= 2000 and "src/app.py" in doc["files"] and doc["text"]
    gone = run(ws, "context", "--spec", "specs/none/spec.md")
    assert gone.returncode == 2 and "not found" in gone.stderr


def test_no_daemon_is_one_clear_line_with_how_to_start_one(tmp_path):
    out = run(tmp_path, "list", HARNESS_URL="http://127.0.0.1:9")
    assert out.returncode == 3
    assert "cannot reach the harness daemon at http://127.0.0.1:9 (from HARNESS_URL" in out.stderr
    assert "agentd" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1  # one line: where it looked, how to start one
    default = run(tmp_path, "list", "--json")  # no endpoint file: the default URL
    if default.returncode == 3:  # (unless someone runs a daemon on 127.0.0.1:8787 right now)
        assert "no live endpoint file in" in default.stderr and "8787" in default.stderr
        assert json.loads(default.stdout)["error"]["exit_code"] == 3
    traced = run(tmp_path, "list", HARNESS_URL="http://127.0.0.1:9", HARNESS_DEBUG="1")
    assert traced.returncode == 3 and "Traceback" in traced.stderr


def test_spec_prompt_with_a_model_that_never_writes_a_valid_spec(tmp_path):
    ws = tmp_path / "repo"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"responses": [{"text": "# Goal\n\nno tests\n"}] * 5}))
    out = run(ws, "spec", "prompt", "--prompt", "anything", "--model", f"scripted:{answers}", "x")
    assert out.returncode == 1 and "nothing was written" in out.stderr, out.stderr
    assert "draft:3:1: error" in out.stderr and "Traceback" not in out.stderr
    assert not (ws / "specs" / "x").exists()
