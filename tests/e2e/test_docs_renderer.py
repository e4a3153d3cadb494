"""The docs step renders the diagrams a run changed — outside the sandbox, as you — end to end:
a real agentd in mode auto-edit (file edits unasked, commands ask), the fake OpenAI server as a
hostile model, every approval denied.

A cloned repository ships `.tools/node_modules/.bin/mmdc` (where the project's README says to
install mermaid-cli, and where a model in auto-edit can rewrite mermaid-cli's JavaScript with a
plain file edit). The model edits `docs/diagrams/flow.mmd`; the docs step then started that mmdc
unsandboxed (fails on ac122d8: the marker outside the workspace appears). A run now starts no
renderer installed inside its workspace and says why in a warning event.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from harness_ls.diagrams.render_tools import find_chromium
from tests.conftest import require_tool
from tests.e2e.helpers import git, make_repo, run_denying, scripted_agentd

TOKEN = "tok-e2e-docs-renderer-9f8e7d6c5b4a"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with scripted_agentd(tmp_path_factory.mktemp("docs-renderer"), TOKEN, "auto-edit") as d:
        yield d


def test_the_docs_step_never_starts_a_renderer_from_the_workspace(daemon, tmp_path: Path) -> None:
    # with a Chromium present, the old code went on to start the workspace's mmdc
    require_tool(find_chromium(), "chromium", "apt-get install -y chromium")
    path = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "mmdc").exists()]
    assert len(path) == len(os.environ["PATH"].split(os.pathsep)), "needs no mmdc on PATH"
    assert "MMDC" not in daemon.extra["env"]
    ws = make_repo(tmp_path / "ws")
    marker = tmp_path / "escaped"
    mmdc = ws / ".tools" / "node_modules" / ".bin" / "mmdc"
    mmdc.parent.mkdir(parents=True)
    mmdc.write_text(f"#!/bin/sh\nid > {marker}\n")
    mmdc.chmod(mmdc.stat().st_mode | stat.S_IXUSR)
    (ws / "docs" / "diagrams").mkdir(parents=True)
    (ws / "docs" / "diagrams" / "flow.mmd").write_text("graph TD\n  A-->B\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "hostile renderer")

    edit = {"name": "write_file",
            "arguments": {"path": "docs/diagrams/flow.mmd", "content": "graph TD\n  A-->C\n"}}  # fmt: skip
    greet = {"name": "write_file", "arguments": {"path": "greet.txt", "content": "hello\n"}}
    r = run_denying(daemon, TOKEN, ws, {"tool_calls": [edit, greet]})
    assert r.final["status"] == "completed", r.final["outcome"]
    assert (ws / "docs" / "diagrams" / "flow.mmd").read_text() == "graph TD\n  A-->C\n"
    assert not marker.exists(), marker.read_text()
    [warning] = [e["data"] for e in r.events
                 if e["type"] == "log" and e["data"].get("code") == "diagrams.tool_missing"]  # fmt: skip
    assert warning["message"].startswith(
        "mmdc not found (needed for flow.mmd).\n"
        f"the only mmdc is inside the workspace ({mmdc}), where the agent can change it, "
        "so a run does not start it: it would run outside the sandbox.\n"
    )


@pytest.mark.parametrize("target", ["plain", "fifo", "/dev/zero"])
def test_the_docs_step_reads_no_link_it_finds_among_the_changed_files(
    daemon, tmp_path: Path, target: str
) -> None:
    """The docs step fingerprints the changed files outside the sandbox: an untracked link to a
    FIFO hung the run there (on ac122d8), one to /dev/zero would fill the daemon's memory. A
    Markdown file that is a link (`notes.md` -> a file of yours) is never relinked, which would
    copy its target into the workspace (a guard: this model cannot make links, so it held)."""
    ws = make_repo(tmp_path / "ws")
    outside = tmp_path / "outside"
    outside.mkdir()
    os.mkfifo(outside / "fifo")
    (outside / "plain").write_text("a file of yours\n")
    os.symlink(target if target.startswith("/") else outside / target, ws / "untracked")
    (ws / "docs" / "diagrams").mkdir(parents=True)
    (ws / "docs" / "diagrams" / "flow.mmd").write_text("graph TD\n  A-->B\n")
    notes = outside / "notes.md"
    notes.write_text("private\n![flow](elsewhere/flow.png)\n")
    greet = {"name": "write_file", "arguments": {"path": "greet.txt", "content": "hello\n"}}
    link = {"name": "write_file", "arguments": {"path": "README.md", "content": "# readme\n"}}
    os.symlink(notes, ws / "notes.md")
    r = run_denying(daemon, TOKEN, ws, {"tool_calls": [greet, link]})
    assert r.final["status"] == "completed", r.final["outcome"]
    assert (ws / "notes.md").is_symlink()
    assert notes.read_text() == "private\n![flow](elsewhere/flow.png)\n"
