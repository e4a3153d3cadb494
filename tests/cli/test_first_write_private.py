"""The first thing to create the data dir may be a command that needs no daemon: `agentctl init`
trusts the policy file it writes, `policy trust`, `context`, `spec new`. With the default data dir
in a fresh home and a umask of 0, every folder it created must be 0700 and every file 0600 (on
b139fd5 `init` left `~/.agent-harness` 0755, so the first agentd then warned about it).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.cli.conftest import AGENTCTL, base_env


def _agentctl(ws: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = base_env(home)
    env.pop("HARNESS_DATA_DIR", None)  # the default: ~/.agent-harness, created by this command
    cmd = ["sh", "-c", 'umask 000; exec "$@"', "sh", *AGENTCTL, *args]
    out = subprocess.run(cmd, cwd=ws, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"agentctl {args}: {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert "Traceback" not in out.stderr
    return out


def test_daemonless_commands_create_the_data_dir_owner_only(tmp_path: Path) -> None:
    home, ws = tmp_path / "home", tmp_path / "ws"
    home.mkdir(mode=0o755)
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    _agentctl(ws, home, "init")
    data = home / ".agent-harness"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    _agentctl(ws, home, "spec", "new", "login")
    _agentctl(ws, home, "policy", "trust")
    _agentctl(ws, home, "context", "--workspace", ".", "--spec", "specs/login/spec.md")
    for p in [data, *data.rglob("*")]:
        mode = stat.S_IMODE(p.lstat().st_mode)
        if "checkpoints" in p.relative_to(data).parts:  # git's own files: owner-only, 0400 too
            assert mode & 0o077 == 0, f"{p} is {mode:04o}"
            continue
        want = 0o700 if p.is_dir() else 0o600
        assert mode == want, f"{p} is {mode:04o}, want {want:04o}"
    assert os.listdir(data)  # the trust store at least
