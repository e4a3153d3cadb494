"""git_diff: the workspace's uncommitted changes, new files included, optionally by path."""
# ruff: noqa: ASYNC221, ASYNC240 - tests may block on small local files and git

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness_ls.tools import TOOLS, ToolContext
from harness_ls.tools import git as git_tool

diff = TOOLS["git_diff"]


async def test_clean_tree_says_no_changes(ctx: ToolContext) -> None:
    result = await diff.run(ctx, {})
    assert result.ok and result.output == "no changes" and result.data["files"] == 0


async def test_modified_staged_and_new_files(ctx: ToolContext, repo: Path) -> None:
    (repo / "README.md").write_text("# Demo\n\nHello there.\n")
    (repo / "docs" / "guide.md").write_text("Guide v2\n")
    subprocess.run(["git", "-C", str(repo), "add", "docs/guide.md"], check=True)
    (repo / "src" / "new.py").write_text("x = 1\n")
    result = await diff.run(ctx, {})
    assert "+Hello there." in result.output and "+Guide v2" in result.output
    assert "b/src/new.py" in result.output and "+x = 1" in result.output
    assert "debug.log" not in result.output  # ignored files are not "new"
    assert result.data["files"] == 3


async def test_limited_to_paths(ctx: ToolContext, repo: Path) -> None:
    (repo / "README.md").write_text("changed\n")
    (repo / "src" / "app.py").write_text("changed\n")
    result = await diff.run(ctx, {"paths": ["src"]})
    assert "src/app.py" in result.output and "README.md" not in result.output


async def test_not_a_git_repo(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    result = await diff.run(ToolContext(workspace=plain), {})
    assert not result.ok and "not a git repository" in result.output


async def test_repo_without_commits(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    subprocess.run(["git", "-C", str(fresh), "init", "-q"], check=True)
    (fresh / "a.txt").write_text("a\n")
    result = await diff.run(ToolContext(workspace=fresh), {})
    assert result.ok and "+a" in result.output


async def test_large_untracked_files_are_summarized(
    ctx: ToolContext, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(git_tool, "UNTRACKED_MAX_BYTES", 10)
    (repo / "data.csv").write_text("a,b\n" * 100)
    result = await diff.run(ctx, {})
    assert "new file (400 bytes, not shown)" in result.output and "a,b" not in result.output
