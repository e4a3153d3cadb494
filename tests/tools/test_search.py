"""search with ripgrep and with the Python fallback: same results, .gitignore honored, bounded."""
# ruff: noqa: ASYNC240 - tests may block on small local files

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from harness_ls.tools import ToolContext
from harness_ls.tools.search import Search
from tests.conftest import require_tool

ENGINES = [pytest.param(False, id="python"), pytest.param(True, id="ripgrep")]


@pytest.fixture(params=ENGINES)
def search(request: pytest.FixtureRequest) -> Search:
    if request.param:
        require_tool("rg")
    return Search(use_ripgrep=request.param)


async def test_finds_matches_with_path_and_line(search: Search, ctx: ToolContext) -> None:
    result = await search.run(ctx, {"pattern": "hi '"})
    assert result.ok and result.output == "src/app.py:2:     return 'hi ' + name"


async def test_gitignored_and_git_dir_are_skipped(search: Search, ctx: ToolContext) -> None:
    result = await search.run(ctx, {"pattern": "hello", "ignore_case": True})
    files = {line.split(":", 1)[0] for line in result.output.splitlines()}
    assert files == {"README.md"}, result.output  # not debug.log, not build/out.txt
    git_hits = await search.run(ctx, {"pattern": "refs/heads"})
    assert "no matches" in git_hits.output


async def test_results_are_bounded(search: Search, ctx: ToolContext, repo: Path) -> None:
    (repo / "many.txt").write_text("needle\n" * 500)
    result = await search.run(ctx, {"pattern": "needle", "max_results": 7})
    assert result.data["matches"] == 7 and result.data["truncated"]
    assert "stopped at 7 matches" in result.output


async def test_glob_path_literal_and_case(search: Search, ctx: ToolContext, repo: Path) -> None:
    (repo / "docs" / "x.md").write_text("a.b and aXb\n")
    literal = await search.run(ctx, {"pattern": "a.b", "literal": True, "path": "docs"})
    assert literal.data["matches"] == 1
    regex = await search.run(ctx, {"pattern": "a.b", "glob": "*.md"})
    assert regex.data["matches"] == 1 and "docs/x.md:1:" in regex.output
    nocase = await search.run(
        ctx, {"pattern": "GUIDE", "ignore_case": True, "path": "docs/guide.md"}
    )
    assert nocase.output.startswith("docs/guide.md:1:")


async def test_binary_files_and_outside_symlinks_are_skipped(
    search: Search, ctx: ToolContext, repo: Path
) -> None:
    (repo / "blob.bin").write_bytes(b"needle\x00\x01")
    os.symlink(repo.parent / "outside.txt", repo / "ln.txt")
    result = await search.run(ctx, {"pattern": "needle|secret"})
    assert "no matches" in result.output, result.output


async def test_bad_regex_is_a_clear_error(search: Search, ctx: ToolContext) -> None:
    result = await search.run(ctx, {"pattern": "foo("})
    assert not result.ok and "not a valid regex" in result.output and "literal" in result.output


async def test_long_lines_are_clipped(search: Search, ctx: ToolContext, repo: Path) -> None:
    (repo / "wide.txt").write_text("needle" + "x" * 5000 + "\n")
    result = await search.run(ctx, {"pattern": "needle"})
    assert len(result.output) < 400 and result.output.endswith("[...]")


async def test_a_fifo_in_the_tree_is_skipped_and_one_named_is_an_error(
    search: Search, ctx: ToolContext, repo: Path
) -> None:
    """Reading a FIFO blocks until a writer comes: the walk skipped nothing (the Python engine
    hung on ac122d8), and a FIFO named as the path hung either engine."""
    os.mkfifo(repo / "pipe")
    result = await asyncio.wait_for(search.run(ctx, {"pattern": "hi '"}), 30)
    assert result.ok and result.output == "src/app.py:2:     return 'hi ' + name"
    named = await asyncio.wait_for(search.run(ctx, {"pattern": "x", "path": "pipe"}), 30)
    assert not named.ok
    assert named.output == (
        "pipe is not a regular file (a FIFO, socket or device) (search a folder or a text file)"
    )
