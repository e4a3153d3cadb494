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
    require_tool("chromium")  # mermaid-cli renders in it
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


BROKEN = {"tool_calls": [{"name": "write_file", "arguments": {
    "path": "docs/diagrams/flow.mmd", "content": "flowchart LR\n  hi --> \n  (((\n"}}]}  # fmt: skip
FIXED = {"tool_calls": [{"name": "write_file", "arguments": {
    "path": "docs/diagrams/flow.mmd", "content": "flowchart LR\n  hi --> hello\n"}}]}  # fmt: skip
LINKS = {"tool_calls": [
    {"name": "write_file", "arguments": {"path": "README.md",
     "content": "# Demo\n\n![Flow](diagrams/flow.png)\n![Logo](img/logo.png)\n"}},
    {"name": "write_file", "arguments": {"path": "docs/sub/x.md",
     "content": "# X\n\n![Flow](docs/diagrams/flow.png)\n"}},
]}  # fmt: skip


async def test_a_diagram_syntax_error_is_fed_back_and_fixed(harness, repo, tmp_path, monkeypatch):
    require_tool(str(PROJECT_MMDC) if PROJECT_MMDC.exists() else None, "mermaid-cli", "make tools")
    monkeypatch.setenv("MMDC", str(PROJECT_MMDC))
    harness.policy_mode = "auto-edit"
    (repo / "docs" / "diagrams").mkdir(parents=True)
    model = script(
        tmp_path, PLAN, WRITE, {"text": "Done."},
        BROKEN, {"text": "Drew the flow."},  # the docs step: a broken diagram
        FIXED, {"text": "Fixed the arrow."},  # the fix round, after the error was fed back
    )  # fmt: skip
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=model)
    final = await harness.wait_run(meta.id, 120)
    assert final.status == "completed", final.outcome
    assert "warnings" not in final.outcome
    evs = events(harness, meta.id)
    titles = [e.data.get("title") for e in evs if e.type == "step.started"]
    assert "Fix diagram syntax (attempt 1)" in titles
    failed = [e for e in evs if e.type == "log" and e.data.get("code") == "diagrams.failed"]
    assert failed and failed[0].data["message"].startswith("flow.mmd: ")
    docs = next(e for e in evs if e.type == "docs.updated")
    assert docs.data["diagrams"] == ["docs/diagrams/flow.png"] and docs.data["warnings"] == []
    assert (repo / "docs" / "diagrams" / "flow.png").stat().st_size > 0


async def test_missing_renderer_ends_completed_with_warnings_everywhere(
    harness, repo, tmp_path, monkeypatch
):
    monkeypatch.delenv("MMDC", raising=False)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    evs, docs = await _run(harness, repo, tmp_path)
    final = evs[-1]
    assert final.type == "run.completed"
    assert final.data["warnings"] == [
        "diagrams not rendered: mmdc is not installed (needed for flow.mmd; "
        "`make diagrams` says how to install it)"
    ]
    assert final.data["outcome"].startswith("1 acceptance test(s) passed; completed with warnings:")
    summary = (harness.data_dir / "runs" / final.run_id / "artifacts" / "summary.md").read_text()
    assert "## Warnings" in summary and "mmdc is not installed" in summary
    meta = harness.get_run(final.run_id)
    assert meta.status == "completed" and "completed with warnings" in meta.outcome


async def test_image_links_are_made_relative_to_each_markdown_file(harness, repo, tmp_path):
    harness.policy_mode = "auto-edit"
    (repo / "docs" / "diagrams").mkdir(parents=True)
    (repo / "docs" / "diagrams" / "flow.mmd").write_text("flowchart LR\n  a --> b\n")
    model = script(tmp_path, PLAN, WRITE, {"text": "Done."}, LINKS, {"text": "Linked it."})
    meta = await harness.start_run(str(repo), "specs/greet/spec.md", model=model)
    await harness.wait_run(meta.id, 120)
    assert (repo / "README.md").read_text() == (
        "# Demo\n\n![Flow](docs/diagrams/flow.png)\n![Logo](img/logo.png)\n"
    )
    assert (repo / "docs" / "sub" / "x.md").read_text() == "# X\n\n![Flow](../diagrams/flow.png)\n"
    docs = next(e for e in events(harness, meta.id) if e.type == "docs.updated")
    assert sorted(docs.data["links_fixed"]) == [
        "README.md: diagrams/flow.png -> docs/diagrams/flow.png",
        "docs/sub/x.md: docs/diagrams/flow.png -> ../diagrams/flow.png",
    ]
