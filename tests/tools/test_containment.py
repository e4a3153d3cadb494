"""Every tool refuses paths that leave the workspace, NUL bytes, and writes into .git/."""
# ruff: noqa: ASYNC240 - tests may block on small local files

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness_ls.errors import Refused
from harness_ls.tools import TOOLS, ToolContext, resolve_path

ESCAPES = [
    "../outside.txt",
    "src/../../outside.txt",
    "/etc/passwd",
    "link_out/outside.txt",
    "file\x00.txt",
]


@pytest.fixture
def linked(repo: Path) -> Path:
    os.symlink(repo.parent, repo / "link_out")
    os.symlink(repo.parent / "outside.txt", repo / "outside_link.txt")
    return repo


def _calls(path: str) -> list[tuple[str, dict]]:
    return [
        ("read_file", {"path": path}),
        ("list_dir", {"path": path}),
        ("search", {"pattern": "secret", "path": path}),
        ("edit", {"path": path, "old": "secret", "new": "x"}),
        ("write_file", {"path": path, "content": "x"}),
        ("git_diff", {"paths": [path]}),
    ]


@pytest.mark.parametrize("path", [*ESCAPES, "outside_link.txt"])
async def test_every_tool_refuses_escapes(linked: Path, ctx: ToolContext, path: str) -> None:
    for name, args in _calls(path):
        result = await TOOLS[name].run(ctx, args)
        assert not result.ok, (name, path)
        assert result.error_code == "refused", (name, path, result.output)
        assert "outside the workspace" in result.output or "NUL" in result.output
    assert (linked.parent / "outside.txt").read_text() == "secret outside\n"


@pytest.mark.parametrize(
    "path", [".git/config", ".git/hooks/pre-commit", "src/../.git/HEAD", ".GIT/x"]
)
async def test_writes_into_git_dir_are_refused(ctx: ToolContext, repo: Path, path: str) -> None:
    before = (repo / ".git" / "config").read_text()
    for name, args in [
        ("write_file", {"path": path, "content": "x"}),
        ("edit", {"path": path, "old": "a", "new": "b"}),
    ]:
        result = await TOOLS[name].run(ctx, args)
        assert result.error_code == "refused", result.output
        assert ".git/" in result.output
    assert (repo / ".git" / "config").read_text() == before
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()


async def test_reads_of_git_dir_are_allowed(ctx: ToolContext) -> None:
    result = await TOOLS["read_file"].run(ctx, {"path": ".git/HEAD"})
    assert result.ok and "refs/heads/main" in result.output


def test_preview_raises_refused_for_escapes(linked: Path, ctx: ToolContext) -> None:
    for path in ESCAPES:
        with pytest.raises(Refused):
            TOOLS["write_file"].preview(ctx, {"path": path, "content": "x"})


def test_resolve_path_allows_inside_and_symlinks_within(repo: Path) -> None:
    os.symlink(repo / "src", repo / "src_link")
    assert (
        resolve_path(repo, "src_link/app.py", for_write=True) == (repo / "src" / "app.py").resolve()
    )
    assert (
        resolve_path(repo, str(repo / "README.md"), for_write=False)
        == (repo / "README.md").resolve()
    )
    assert resolve_path(repo, "new/dir/file.txt", for_write=True).parent.name == "dir"
    with pytest.raises(Refused, match="workspace root"):
        resolve_path(repo, ".", for_write=True)


def test_refusal_message_says_what_to_do(repo: Path) -> None:
    with pytest.raises(Refused) as info:
        resolve_path(repo, "../x", for_write=False)
    assert info.value.hint and str(repo.resolve()) in info.value.hint


def test_read_tool_preview_names_the_path(ctx: ToolContext) -> None:
    preview = TOOLS["read_file"].preview(ctx, {"path": "./src/../README.md"})
    assert preview.kind == "read" and preview.path == "README.md" and "read_file" in preview.summary
    with pytest.raises(Refused):
        TOOLS["read_file"].preview(ctx, {"path": "../outside.txt"})
