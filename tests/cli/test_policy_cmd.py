"""`agentctl init` trusts the policy it writes; `agentctl policy trust|untrust|show` as a user runs them."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

from harness_ls.tools import Policy
from tests.cli.conftest import AGENTCTL, base_env, ok


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    e = base_env(cwd.parent / "home", HARNESS_DATA_DIR=str(cwd.parent / "data"))
    return subprocess.run([*AGENTCTL, *args], cwd=cwd, env=e, capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def _repo(tmp_path: Path) -> Path:
    ws = tmp_path / "repo"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    return ws


def test_init_trusts_its_policy_so_test_runners_are_allowed_and_others_ask(tmp_path):
    ws = _repo(tmp_path)
    ok(run(ws, "init"))
    data = tmp_path / "data"
    assert stat.S_IMODE((data / "trusted-policies.json").stat().st_mode) == 0o600
    policy = Policy.load(ws, data, None)
    assert not policy.warnings
    for command in ("pytest -q", "python -m pytest", "python3 -m pytest tests", "npm test",
                    "go test ./...", "cargo test", "make test"):  # fmt: skip
        assert policy.decide("shell", {"command": command}).action == "allow", command
    for command in ("make", "npm install", "pytest -q; curl x", "python -c 'import os'"):
        assert policy.decide("shell", {"command": command}).action == "ask", command
    shown = json.loads(ok(run(ws, "policy", "show", "--json")).stdout)
    assert shown["workspace_policy_trusted"] is True and shown["mode"] == "ask"


def test_edit_untrusts_and_policy_trust_names_itself_in_the_warning(tmp_path):
    ws = _repo(tmp_path)
    ok(run(ws, "init"))
    path = ws / ".harness" / "policy.toml"
    path.write_text(path.read_text().replace('"pytest *"', '"*"'))
    shown = ok(run(ws, "policy", "show"))
    assert "NOT trusted" in shown.stdout
    assert f"agentctl policy trust --workspace {ws.resolve()}" in shown.stderr
    assert (
        Policy.load(ws, tmp_path / "data", None).decide("shell", {"command": "make"}).action
        == "ask"
    )
    trusted = ok(run(ws, "policy", "trust"))
    assert "trusted" in trusted.stdout
    assert (
        Policy.load(ws, tmp_path / "data", None).decide("shell", {"command": "make"}).action
        == "allow"
    )
    ok(run(ws, "policy", "untrust"))
    assert (
        Policy.load(ws, tmp_path / "data", None).decide("shell", {"command": "make"}).action
        == "ask"
    )


def test_init_does_not_trust_a_policy_file_it_did_not_write(tmp_path):
    ws = _repo(tmp_path)
    (ws / ".harness").mkdir()
    (ws / ".harness" / "policy.toml").write_text('[allow]\nshell = ["*"]\n')
    ok(run(ws, "init"))
    policy = Policy.load(ws, tmp_path / "data", None)
    assert policy.warnings and policy.decide("shell", {"command": "make"}).action == "ask"


def test_trust_without_a_policy_file_is_a_clear_usage_error(tmp_path):
    ws = _repo(tmp_path)
    res = run(ws, "policy", "trust")
    assert res.returncode == 2 and "no .harness/policy.toml" in res.stderr
    assert "Traceback" not in res.stderr


def test_trust_lists_each_file_with_its_hash_and_refuses_a_symlink(tmp_path):
    """One trust for every workspace config file: `policy trust` trusts each one present (path and
    full sha256 printed), refuses a symlinked one, `--file` picks one, `--list` says exactly what
    is trusted and whether it is still the content trusted."""
    import hashlib

    ws = _repo(tmp_path)
    (ws / ".harness").mkdir()
    files = {".harness/policy.toml": '[allow]\nshell = ["make *"]\n',
             ".harness/models.toml": '[defaults]\nrun = "openai:gpt-4.1"\n',
             ".env.local": "OPENAI_BASE_URL=http://127.0.0.1:9/v1\n"}  # fmt: skip
    for name, text in files.items():
        (ws / name).write_text(text)
    (tmp_path / "elsewhere.toml").write_text("[mcp.servers.x]\ncommand = ['x']\n")
    (ws / ".harness" / "mcp.toml").symlink_to(tmp_path / "elsewhere.toml")
    res = ok(run(ws, "policy", "trust"))
    for name, text in files.items():
        assert (
            f"trusted {ws / name}  sha256 {hashlib.sha256(text.encode()).hexdigest()}" in res.stdout
        )
    assert f"not trusted {ws / '.harness/mcp.toml'}" in res.stdout and "symlink" in res.stdout
    listed = json.loads(ok(run(ws, "policy", "trust", "--list", "--json")).stdout)["trusted"]
    assert {r["path"]: r["state"] for r in listed} == {str(ws / n): "current" for n in files}
    (ws / ".env.local").write_text("OPENAI_BASE_URL=http://evil.example/v1\n")
    listed = ok(run(ws, "policy", "trust", "--list")).stdout
    assert f"{ws / '.env.local'}  sha256 " in listed and listed.count("changed") == 1
    ok(run(ws, "policy", "untrust", "--file", ".harness/models.toml"))
    one = json.loads(ok(run(ws, "policy", "trust", "--file", ".env.local", "--json")).stdout)
    assert [f["path"] for f in one["files"]] == [str(ws / ".env.local")] and one["refused"] == []
    shown = json.loads(ok(run(ws, "policy", "show", "--json")).stdout)
    states = {Path(f["path"]).name: f["trusted"] for f in shown["config_files"]}
    assert states == {"policy.toml": True, "models.toml": False, "mcp.toml": False,
                      ".env.local": True}  # fmt: skip
    bad = run(ws, "policy", "trust", "--file", "README.md")
    assert bad.returncode == 2 and "not a workspace config file" in bad.stderr
    only_link = run(ws, "policy", "trust", "--file", ".harness/mcp.toml")
    assert only_link.returncode == 2 and "symlink" in only_link.stdout
