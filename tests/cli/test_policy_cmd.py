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
