"""Emacs 28 + eglot (Debian emacs-nox + elpa-eglot) in --batch as a real push-only LSP client:
diagnostics while typing, a quick fix, a run, and an approval seen as a diagnostic on the spec
line and approved with a code action."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness_ls.testing.greet import DOCS, DONE, PLAN, WRITE
from tests.conftest import require_tool
from tests.lsp.test_runs import make_repo

HERE = Path(__file__).parent
EGLOT = Path("/usr/share/emacs/site-lisp/elpa")


def test_eglot_lints_fixes_runs_and_approves(tmp_path, _isolated_data_dir):
    require_tool(shutil.which("emacs"), "emacs", "apt-get install -y emacs-nox")
    require_tool(
        next(iter(EGLOT.glob("eglot-*")), None) and "eglot",
        "eglot",
        "apt-get install -y elpa-eglot",
    )
    ws = make_repo(tmp_path)
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [PLAN, WRITE, DONE, DOCS]}))
    out = tmp_path / "out.json"
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "HARNESS_DATA_DIR": str(_isolated_data_dir)}
    spec = ws / "specs" / "greet" / "spec.md"
    proc = subprocess.run(
        ["emacs", "--batch", "-Q", "-l", str(HERE / "eglot_run_and_approve.el"),
         sys.executable, str(spec), str(script), str(out)],
        env=env, cwd=ws, timeout=180, capture_output=True, text=True,
    )  # fmt: skip
    assert out.exists(), proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["ok"] is True, (result, proc.stderr[-3000:])
    assert result["fixed-first-line"] == "# Goal"
    assert "greet.txt" in result["approval"]
    assert result["approval-line"] == 3  # 1-based: the plan step's spec line 2
    assert result["cleared"] is True and result["written"] is True
    assert (ws / "greet.txt").read_text() == "hello\n"
