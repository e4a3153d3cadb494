"""`agentctl mcp list` and `agentctl doctor` against the user's MCP config, as subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]


def agentctl(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AGENTCTL, "--data-dir", str(data), *args], capture_output=True,
                          text=True, timeout=120, cwd=data)  # fmt: skip


def test_mcp_list_starts_the_servers_and_shows_tools_and_failures(tmp_path):
    (tmp_path / "config.toml").write_text(
        f"[mcp.servers.time]\ncommand = {json.dumps([sys.executable, '-m', 'mcp_server_time'])}\n"
        '[mcp.servers.bad]\ncommand = ["/nonexistent/server"]\n'
    )
    listed = agentctl(tmp_path, "mcp", "list", "--json")
    assert listed.returncode == 1, listed.stderr  # one server is unavailable
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["time"]["status"] == "ok"
    assert rows["time"]["tools"] == ["time.get_current_time", "time.convert_time"]
    assert rows["bad"]["status"] == "unavailable" and "/nonexistent/server" in rows["bad"]["error"]
    human = agentctl(tmp_path, "mcp", "list", "--no-color")
    assert "mcp:time.get_current_time" in human.stdout and "✗ bad" in human.stdout
    doctor = agentctl(tmp_path, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["mcp time"]["status"] == "ok" and checks["mcp bad"]["status"] == "warn"


def test_bad_mcp_config_is_a_usage_error_naming_the_entry(tmp_path):
    (tmp_path / "config.toml").write_text('[mcp.servers.x]\nurl = "ftp://nope"\n')
    out = agentctl(tmp_path, "mcp", "list")
    assert out.returncode == 2
    assert "[mcp.servers.x]: url must be an http(s) URL" in out.stderr


def test_no_servers_says_how_to_add_one(tmp_path):
    out = agentctl(tmp_path, "mcp", "list")
    assert out.returncode == 0 and out.stdout.strip() == "no MCP servers configured"
    assert "[mcp.servers.<name>]" in out.stderr


def test_mcp_list_shows_the_workspace_servers_a_run_would_start(tmp_path):
    """A workspace's `.harness/mcp.toml`: listed but not started until trusted, then started in
    the command sandbox as a run starts it; a user server of the same name wins, as in a run."""
    from tests.e2e.test_mcp_sandbox import SERVER

    python3 = "/usr/bin/python3"
    data, ws = tmp_path / "data", tmp_path / "ws"
    data.mkdir()
    (ws / ".harness").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    (ws / "srv.py").write_text(f"HOST_TMP = {str(tmp_path / 'escaped')!r}\n" + SERVER)
    command = json.dumps([python3, "{workspace}/srv.py"])
    (ws / ".harness" / "mcp.toml").write_text(f"[mcp.servers.probe]\ncommand = {command}\n")
    args = ("mcp", "list", "--workspace", str(ws))

    untrusted = agentctl(data, *args, "--json")
    assert untrusted.returncode == 0, untrusted.stderr
    [row] = json.loads(untrusted.stdout)
    assert row["name"] == ".harness/mcp.toml" and row["status"] == "not_started"
    assert "not trusted" in row["error"] and "agentctl policy trust" in row["error"]
    assert not (ws / "probe.json").exists()  # nothing of the workspace ran

    trust = agentctl(data, "policy", "trust", "--workspace", str(ws))
    assert trust.returncode == 0, trust.stderr
    trusted = agentctl(data, *args, "--json")
    assert trusted.returncode == 0, trusted.stderr
    [row] = json.loads(trusted.stdout)
    assert (row["name"], row["source"], row["sandboxed"], row["status"], row["tools"]) == (
        "probe", "workspace", True, "ok", ["probe.probe"])  # fmt: skip
    tried = json.loads((ws / "probe.json").read_text())
    assert tried["git_config"] == "OSError"  # in the box: .git/ is read-only
    human = agentctl(data, *args, "--no-color")
    assert "probe (workspace, in the sandbox; stdio:" in human.stdout, human.stdout

    (data / "config.toml").write_text(
        f"[mcp.servers.probe]\ncommand = {json.dumps([sys.executable, '-m', 'mcp_server_time'])}\n"
    )
    both = {(r["name"], r["source"]): r for r in json.loads(agentctl(data, *args, "--json").stdout)}
    assert both[("probe", "user")]["tools"] == ["probe.get_current_time", "probe.convert_time"]
    assert both[("probe", "workspace")]["status"] == "not_started"
    assert "your own server of that name is used instead" in both[("probe", "workspace")]["error"]
