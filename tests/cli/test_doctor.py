"""doctor with and without tools and daemon; tokens (required / rejected / accepted)."""

from __future__ import annotations

import json
import subprocess

from tests.cli.conftest import AGENTD, ok, read_first_line

TOKEN = "cli-test-token-0123456789abcdef"


def test_doctor_with_daemon_and_tools(daemon, tmp_path):
    out = ok(daemon.cli("doctor", cwd=tmp_path))
    assert "all required checks passed" in out.stdout
    for line in ("✓ python", "✓ data dir", "✓ daemon", "✓ token", "✓ git"):
        assert line in out.stdout, out.stdout
    doc = json.loads(ok(daemon.cli("doctor", "--json", cwd=tmp_path)).stdout)
    checks = {c["name"]: c for c in doc["checks"]}
    assert doc["ok"] is True and "agentd" in checks["daemon"]["detail"]
    assert (
        daemon.url in checks["daemon"]["detail"] and "endpoint file" in checks["daemon"]["detail"]
    )
    assert checks["model"]["status"] == "warn" and checks["model"]["fix"]  # no key in this env
    assert {"ripgrep", "mmdc", "chromium", "awsdac", "neovim", "vs code"} <= set(checks)
    assert checks["sandbox"]["status"] == "ok" and "bubblewrap" in checks["sandbox"]["detail"]


def test_doctor_says_when_commands_would_run_unsandboxed(daemon, tmp_path):
    env = daemon.env(HARNESS_BWRAP=str(tmp_path / "no-bwrap"), HARNESS_LANDLOCK="0")
    out = daemon.cli("doctor", cwd=tmp_path, env=env)
    assert "! sandbox" in out.stdout and "apt-get install bubblewrap" in out.stdout, out.stdout


def test_doctor_without_tools_fails_with_fixes(daemon, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    env = daemon.env(PATH=str(empty), HARNESS_URL="http://127.0.0.1:9")
    out = daemon.cli("doctor", cwd=tmp_path, env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "✗ git" in out.stdout and "apt-get install -y git" in out.stdout
    assert "! ripgrep" in out.stdout and "! daemon" in out.stdout and "agentd" in out.stdout
    assert "required check(s) failed" in out.stdout and "Traceback" not in out.stderr
    doc = json.loads(daemon.cli("doctor", "--json", cwd=tmp_path, env=env).stdout)
    failed = [c["name"] for c in doc["checks"] if c["status"] == "fail"]
    assert doc["ok"] is False and failed == ["git"]


def test_token_required_rejected_and_accepted(daemon, tmp_path):
    data = tmp_path / "data"
    env = daemon.env(HARNESS_AUTH_TOKEN=TOKEN, HARNESS_DATA_DIR=str(data))
    proc = subprocess.Popen([*AGENTD, "--listen", "127.0.0.1:0"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        read_first_line(proc, "dashboard at")
        plain = daemon.env(HARNESS_DATA_DIR=str(data))  # finds it through its endpoint file
        none = daemon.cli("list", cwd=tmp_path, env=plain)
        assert none.returncode == 4 and "requires a token" in none.stderr
        wrong_file, good_file = tmp_path / "wrong-token", tmp_path / "token"
        wrong_file.write_text("wrong-token-0123456789\n")
        good_file.write_text(TOKEN + "\n")
        for f in (wrong_file, good_file):
            f.chmod(0o600)
        wrong = daemon.cli("list", "--token-file", str(wrong_file), cwd=tmp_path, env=plain)
        assert wrong.returncode == 4 and "token rejected" in wrong.stderr
        ok(daemon.cli("list", cwd=tmp_path, env=env))
        ok(daemon.cli("list", "--token-file", str(good_file), "--json", cwd=tmp_path, env=plain))
        project = tmp_path / "project"
        project.mkdir()
        (project / ".env.local").write_text(f"HARNESS_AUTH_TOKEN={TOKEN}\n")
        ok(daemon.cli("list", cwd=project, env=plain))  # the token from .env.local
        doc = daemon.cli("doctor", "--token-file", str(wrong_file), cwd=tmp_path, env=plain)
        assert doc.returncode == 1 and "✗ token" in doc.stdout and "token rejected" in doc.stdout
        assert TOKEN not in doc.stdout + doc.stderr
    finally:
        proc.terminate()
        proc.wait(10)
