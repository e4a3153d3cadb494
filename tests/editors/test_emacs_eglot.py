"""Emacs 28 + eglot 1.9 (Debian emacs-nox + elpa-eglot) in --batch as a real push-only LSP client,
configured by docs/editors/other.md's recipe verbatim, with and without Debian's
elpa-markdown-mode: opening the spec starts eglot, diagnostics while typing, a quick fix, a run
told step by step with window/showMessage (eglot 1.9 has no $/progress), and an approval seen as a
diagnostic on the spec line and approved with a code action."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness_ls.testing.greet import DOCS, DONE, PLAN, WRITE
from tests.conftest import require_tool
from tests.lsp.test_runs import make_repo

HERE = Path(__file__).parent
DOC = HERE.parent.parent / "docs" / "editors" / "other.md"
ELPA = Path("/usr/share/emacs/site-lisp/elpa")

# what eglot's echo area shows of the run, one line per phase, step and approval, then the end
SHOWN = [
    "harness: greet — plan: planning (0%)",
    "harness: greet — execute: step 1/1 — Write hello into greet.txt (0%)",
    "harness: greet — execute: step 1/1 — waiting for approval: overwrite greet.txt (6 bytes) (0%)",
    "harness: greet — verify: test 1/1 — `grep -qx hello greet.txt` (33%)",
    "harness: greet — docs: Update documentation (66%)",
    "harness: greet completed: 1 acceptance test(s) passed",
]


def _recipe(tmp_path: Path) -> Path:
    """The elisp block of docs/editors/other.md, verbatim."""
    block = DOC.read_text().split("```elisp\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "recipe.el"
    path.write_text(block)
    return path


def _require_emacs(markdown: bool) -> None:
    require_tool(shutil.which("emacs"), "emacs", "apt-get install -y emacs-nox")
    require_tool(
        next(iter(ELPA.glob("eglot-*")), None) and "eglot", "eglot", "apt-get install -y elpa-eglot"
    )
    if markdown:
        require_tool(
            next(iter(ELPA.glob("markdown-mode-*")), None) and "markdown-mode",
            "markdown-mode",
            "apt-get install -y elpa-markdown-mode",
        )


@pytest.mark.parametrize(
    ("markdown", "folder"),
    [(False, ""), (True, ""), (False, "c++ (v2)")],
    ids=["stock", "markdown-mode", "unescaped-uri-folder"],
)
def test_eglot_recipe_lints_fixes_runs_and_approves(markdown, folder, tmp_path, _isolated_data_dir):
    """`unescaped-uri-folder`: eglot, like Neovim, writes `+ ( )` unescaped in its uris; the
    server matched approvals by the exact uri string and eglot said "No code actions here"."""
    _require_emacs(markdown)
    parent = tmp_path / folder if folder else tmp_path
    parent.mkdir(exist_ok=True)
    ws = make_repo(parent)
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [PLAN, WRITE, DONE, DOCS]}))
    out = tmp_path / "out.json"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "HOME": str(home),
        "HARNESS_DATA_DIR": str(_isolated_data_dir),
        "HARNESS_MODEL": f"scripted:{script}",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # harness-ls
    }
    spec = ws / "specs" / "greet" / "spec.md"
    proc = subprocess.run(
        ["emacs", "--batch", "-Q", "-l", str(HERE / "eglot_run_and_approve.el"),
         str(_recipe(tmp_path)), "1" if markdown else "0", str(spec), str(out)],
        env=env, cwd=ws, timeout=180, capture_output=True, text=True,
    )  # fmt: skip
    assert out.exists(), proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["ok"] is True, (result, proc.stderr[-3000:])
    assert result["mode"] == ("markdown-mode" if markdown else "text-mode")
    assert result["fixed-first-line"] == "# Goal"
    assert "greet.txt" in result["approval"]
    assert result["approval-line"] == 3  # 1-based: the plan step's spec line 2
    assert result["cleared"] is True and result["written"] is True
    assert (ws / "greet.txt").read_text() == "hello\n"
    shown = [m for m in result["shown"] if m.startswith("harness: greet")]
    assert shown == SHOWN
