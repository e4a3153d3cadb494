"""The docs step renders changed diagrams with the same renderer as `make diagrams`."""

from __future__ import annotations

from pathlib import Path

from harness_ls.testing.greet import PLAN, WRITE
from tests.conftest import require_tool

from .conftest import events, script

DIAGRAM = {"tool_calls": [{"name": "write_file", "arguments": {
    "path": "docs/diagrams/flow.mmd", "content": "flowchart LR\n  hi --> hello\n"}}]}  # fmt: skip
PROJECT_MMDC = Path(__file__).resolve().parents[2] / ".tools" / "node_modules" / ".bin" / "mmdc"


async def _run(harness, repo, tmp_path):
    harness.policy_mode = "auto-edit"
    (repo / "docs" / "diagrams").mkdir(parents=True)
    model = script(
        tmp_path, PLAN, WRITE, {"text": "Done."}, DIAGRAM, {"text": "Updated the flow diagram."}
    )
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=model)
    final = await harness.wait_run(meta.id, 120)
    assert final.status == "completed", final.outcome
    evs = events(harness, meta.id)
    return evs, next(e for e in evs if e.type == "docs.updated")


async def test_docs_step_renders_the_diagram_it_changed(harness, repo, tmp_path, monkeypatch):
    require_tool(str(PROJECT_MMDC) if PROJECT_MMDC.exists() else None, "mermaid-cli", "make tools")
    monkeypatch.setenv("MMDC", str(PROJECT_MMDC))
    _, docs = await _run(harness, repo, tmp_path)
    assert docs.data["diagrams"] == ["docs/diagrams/flow.png"]
    assert (repo / "docs" / "diagrams" / "flow.png").stat().st_size > 0


async def test_missing_renderer_is_a_warning_not_a_failure(harness, repo, tmp_path, monkeypatch):
    monkeypatch.delenv("MMDC", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    evs, docs = await _run(harness, repo, tmp_path)
    warn = [e for e in evs if e.type == "log" and e.data.get("code") == "diagrams.tool_missing"]
    assert warn and "mmdc" in warn[0].data["message"] and docs.data["diagrams"] == []
