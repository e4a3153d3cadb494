"""The diagram renderer: real mmdc + chromium renders, hash manifest, missing-tool message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness_ls.diagrams import render as diagrams
from harness_ls.diagrams import render_io as dio
from harness_ls.diagrams import render_tools as tools
from tests.conftest import require_tool

REPO = Path(__file__).resolve().parents[2]
DIAGRAMS = REPO / "docs" / "diagrams"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _mmdc() -> str:
    found = tools.find_mmdc(REPO)
    require_tool(found, "mmdc", tools.MMDC_INSTALL + " (in the repo root)")
    require_tool(tools.find_chromium(), "chromium", "apt-get install -y chromium")
    return found  # type: ignore[return-value]


def test_every_committed_diagram_png_matches_the_hash_of_its_source():
    manifest = dio.load_manifest(DIAGRAMS)
    sources = diagrams.sources(DIAGRAMS)
    assert {s.name for s in sources} >= {"components.mmd", "run-states.mmd", "approval-flow.mmd"}
    for src in sources:
        entry = manifest.get(src.name)
        assert entry, f"{src.name} has no entry in .hashes.json: run scripts/render-diagrams"
        assert entry["source"] == dio.sha256_file(src), (
            f"{src.name} changed since its PNG was rendered: run scripts/render-diagrams"
        )
        png = DIAGRAMS / entry["output"]
        assert png.read_bytes().startswith(PNG_MAGIC)
        assert entry["output_sha256"] == dio.sha256_file(png), f"{png.name} edited by hand"


def test_architecture_doc_embeds_every_rendered_diagram():
    text = (REPO / "docs" / "architecture.md").read_text()
    for src in diagrams.sources(DIAGRAMS):
        assert f"](diagrams/{src.stem}.png)" in text


def test_scripts_render_diagrams_is_the_same_renderer():
    script = REPO / "scripts" / "render-diagrams"
    assert script.read_bytes() == Path(diagrams.__file__).read_bytes()
    assert (REPO / "scripts" / "render_diagrams_io.py").read_bytes() == Path(
        dio.__file__
    ).read_bytes()
    assert (REPO / "scripts" / "render_diagrams_tools.py").read_bytes() == Path(
        tools.__file__
    ).read_bytes()
    assert os.access(script, os.X_OK)


def test_check_mode_reports_stale_with_exit_4(tmp_path):
    (tmp_path / "a.mmd").write_text("graph TD\n  A-->B\n")
    proc = subprocess.run(
        [sys.executable, "-m", "harness_ls.diagrams", str(tmp_path), "--check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == diagrams.EXIT_STALE
    assert "stale      a.mmd" in proc.stdout


def test_repo_diagrams_are_fresh_by_check_mode():
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "render-diagrams"), "--check"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_missing_tools_message_names_what_to_install_and_exits_3(tmp_path):
    (tmp_path / "a.mmd").write_text("graph TD\n  A-->B\n")
    (tmp_path / "b.dac").write_text("Diagram: {}\n")
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MMDC", "PUPPETEER_EXECUTABLE_PATH")}
    env["PATH"] = str(empty_bin)
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "render-diagrams"), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == diagrams.EXIT_MISSING_TOOL
    err = proc.stderr
    assert "mmdc not found (needed for a.mmd)" in err
    assert "npm install --prefix .tools" in err and "@mermaid-js/mermaid-cli@11" in err
    assert "apt-get install -y nodejs npm" in err  # npm itself is not on this PATH
    assert "chromium" in err and "PUPPETEER_EXECUTABLE_PATH" in err
    assert "awsdac not found (needed for b.dac)" in err and "go install" in err
    assert "Traceback" not in err
    assert not (tmp_path / "a.png").exists()


def test_missing_directory_is_usage_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "render-diagrams"), str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == diagrams.EXIT_USAGE
    assert "no diagrams directory" in proc.stderr


@pytest.fixture
def mmdc_env(monkeypatch):
    monkeypatch.setenv("MMDC", _mmdc())


def test_renders_for_real_and_only_changed_sources_rerender(tmp_path, mmdc_env):
    (tmp_path / "one.mmd").write_text("graph TD\n  A-->B\n")
    (tmp_path / "two.mmd").write_text("sequenceDiagram\n  A->>B: hi\n")
    first = diagrams.render_diagrams(tmp_path)
    assert first.exit_status == 0, first
    assert sorted(first.rendered) == ["one.mmd", "two.mmd"]
    for name in ("one.png", "two.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG_MAGIC)
    manifest = json.loads((tmp_path / ".hashes.json").read_text())["diagrams"]
    assert manifest["one.mmd"]["output"] == "one.png"

    again = diagrams.render_diagrams(tmp_path)
    assert again.rendered == [] and sorted(again.up_to_date) == ["one.mmd", "two.mmd"]

    (tmp_path / "two.mmd").write_text("sequenceDiagram\n  A->>B: changed\n")
    third = diagrams.render_diagrams(tmp_path)
    assert third.rendered == ["two.mmd"] and third.up_to_date == ["one.mmd"]


def test_broken_diagram_reports_parse_error_and_others_still_render(tmp_path, mmdc_env):
    (tmp_path / "good.mmd").write_text("graph TD\n  A-->B\n")
    (tmp_path / "bad.mmd").write_text("graph TD\n  A-->\n")
    result = diagrams.render_diagrams(tmp_path)
    assert result.exit_status == diagrams.EXIT_FAILED
    assert result.rendered == ["good.mmd"]
    assert "Parse error" in result.failed["bad.mmd"]
    assert "bad.mmd" not in dio.load_manifest(tmp_path)
    assert not (tmp_path / "bad.png").exists()


def test_markdown_image_link_is_relative_to_the_doc(tmp_path):
    doc = tmp_path / "docs" / "runs" / "summary.md"
    png = tmp_path / "docs" / "diagrams" / "x.png"
    assert diagrams.markdown_image(doc, png, "X") == "![X](../diagrams/x.png)"
