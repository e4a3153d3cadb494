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
