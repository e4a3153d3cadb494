"""The docs step tells the truth (issue 32, item 6), through a real agentd and the fake model:

- with no mermaid-cli installed, the diagram `agentctl init` scaffolded does not make every run
  end "completed with warnings", and `.hashes.json` is not added to the run's changes; a diagram
  the run itself changed still warns;
- with mermaid-cli, a render error reaches the model without any JS stack frame, and image links
  are fixed in a Markdown file that already had uncommitted edits (changes are found by
  content, not by `git status` lines).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import find_tool, require_tool
from tests.e2e.helpers import Api, clean_env, git, make_repo, start_agentd, start_fake

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
MODEL = "openai:gpt-4.1-mini"
PLAN = {"text": '{"steps": [{"title": "Write hello into greet.txt"}]}'}
HELLO = {"tool_calls": [{"name": "write_file",
                         "arguments": {"path": "greet.txt", "content": "hello\n"}}]}  # fmt: skip


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


def no_mmdc_path() -> str:
    """PATH without any directory that holds an `mmdc`."""
    dirs = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(d for d in dirs if d and not (Path(d) / "mmdc").exists())


def scaffolded(root: Path, env: dict[str, str]) -> Path:
    ws = make_repo(root / "ws")
    out = subprocess.run([*AGENTCTL, "init"], cwd=ws, env=env, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (ws / "docs" / "diagrams" / "architecture.mmd").is_file()
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    return ws


def daemon(root: Path, procs, fake_url: str, **extra: str) -> tuple[Api, Path, dict[str, str]]:
    data = root / "data"
    data.mkdir(exist_ok=True)
    (data / "policy.toml").write_text('mode = "full-auto"\n')
    env = clean_env(root / "home", HARNESS_DATA_DIR=str(data), OPENAI_BASE_URL=fake_url, **extra)
    agentd = start_agentd(root, data, env=env)
    procs.append(agentd)
    return Api(agentd.url), data, env


def test_without_mmdc_the_scaffolded_diagram_is_not_every_runs_warning(tmp_path: Path, procs):
    fake = start_fake(
        tmp_path,
        PLAN, HELLO, {"text": "Wrote it."}, {"text": "Nothing to document."},
        # second run: its docs step changes a diagram, which cannot render here
        PLAN, HELLO, {"text": "Wrote it."},
        write("docs/diagrams/flow.mmd", "flowchart TD\n  A --> B\n"), {"text": "Drew it."},
    )  # fmt: skip
    procs.append(fake)
    api, data, env = daemon(tmp_path, procs, fake.url, PATH=no_mmdc_path())
    ws = scaffolded(tmp_path, env)
    rid = api.start_run(ws, MODEL)["id"]
    meta = api.wait_status(rid, 90, approve=True)
    evs = api.events(rid)
    done = next(e["data"] for e in evs if e["type"] == "run.completed")
    assert meta["status"] == "completed" and not done.get("warnings"), done
    assert "with warnings" not in done["outcome"]
    assert not (ws / "docs" / "diagrams" / ".hashes.json").exists()
    summary = (data / "runs" / rid / "artifacts" / "summary.md").read_text()
    assert ".hashes.json" not in summary and "## Warnings" not in summary

    (ws / "greet.txt").write_text("hi\n")  # the no-mmdc case for a diagram the run did change
    rid2 = api.start_run(ws, MODEL)["id"]
    api.wait_status(rid2, 90, approve=True)
    done2 = next(e["data"] for e in api.events(rid2) if e["type"] == "run.completed")
    assert any("mmdc is not installed" in w and "flow.mmd" in w for w in done2["warnings"])
    assert not any("architecture.mmd" in w for w in done2["warnings"]), done2["warnings"]


def test_render_errors_reach_the_model_without_js_frames_and_dirty_docs_are_relinked(
    tmp_path: Path, procs
):
    mmdc = require_tool(find_tool("mmdc"), "mermaid-cli", "make tools")
    require_tool(shutil.which("chromium"), "chromium", "apt-get install -y chromium")
    ws = make_repo(tmp_path / "ws")
    (ws / "docs" / "diagrams").mkdir(parents=True)
    (ws / "README.md").write_text("# Greet\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "readme")
    (ws / "README.md").write_text("# Greet\n\nMy uncommitted notes.\n")  # dirty before the run
    readme = "# Greet\n\nMy uncommitted notes.\n\n![flow](flow.png)\n"
    fake = start_fake(
        tmp_path,
        PLAN, HELLO, {"text": "Wrote it."},
        write("README.md", readme),
        write("docs/diagrams/flow.mmd", "flowchart TD\n  A --> B -->\n"),  # broken
        {"text": "Drew it."},
        write("docs/diagrams/flow.mmd", "flowchart TD\n  A --> B\n"),  # the fix round
        {"text": "Fixed it."},
    )  # fmt: skip
    procs.append(fake)
    api, _data, _env = daemon(tmp_path, procs, fake.url, MMDC=mmdc)
    rid = api.start_run(ws, MODEL)["id"]
    meta = api.wait_status(rid, 240, approve=True)
    evs = api.events(rid)
    assert meta["status"] == "completed", [e["type"] for e in evs]
    bodies = httpx.get(fake.url.removesuffix("/v1") + "/_fake/requests").json()
    fix_prompt = next(
        m["content"]
        for b in bodies
        for m in b["messages"]
        if m["role"] == "user" and "failed to render" in str(m["content"])
    )
    assert "Parse error" in fix_prompt
    assert "mermaid-cli-intercept" not in fix_prompt and "://" not in fix_prompt, fix_prompt
    docs = next(e["data"] for e in evs if e["type"] == "docs.updated")
    assert "README.md" in docs["paths"]
    assert docs["links_fixed"] == ["README.md: flow.png -> docs/diagrams/flow.png"]
    assert "![flow](docs/diagrams/flow.png)" in (ws / "README.md").read_text()
    assert (ws / "docs" / "diagrams" / "flow.png").is_file()
