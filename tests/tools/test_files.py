"""read_file, list_dir and write_file on a real git repo."""
# ruff: noqa: ASYNC240 - tests may block on small local files

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from harness_ls.tools import TOOLS, ToolContext, cut_middle, textfile
from harness_ls.tools.files import READ_MAX_LINES


async def test_read_file_whole_and_range(ctx: ToolContext, repo: Path) -> None:
    (repo / "n.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    whole = await TOOLS["read_file"].run(ctx, {"path": "n.txt"})
    assert whole.ok and whole.output.startswith("line 1\n") and whole.data["total_lines"] == 10
    part = await TOOLS["read_file"].run(ctx, {"path": "n.txt", "start_line": 3, "end_line": 4})
    assert part.output == "line 3\nline 4\n"
    assert part.data == {"path": "n.txt", "start_line": 3, "end_line": 4, "total_lines": 10}


async def test_read_file_caps_long_files_and_says_how_to_continue(
    ctx: ToolContext, repo: Path
) -> None:
    (repo / "big.txt").write_text("".join(f"{i}\n" for i in range(5000)))
    result = await TOOLS["read_file"].run(ctx, {"path": "big.txt"})
    assert result.data["end_line"] == READ_MAX_LINES
    assert f"read more with start_line={READ_MAX_LINES + 1}" in result.output


async def test_read_file_caps_bytes(ctx: ToolContext, repo: Path) -> None:
    (repo / "wide.txt").write_text(("x" * 1500 + "\n") * 500)
    result = await TOOLS["read_file"].run(ctx, {"path": "wide.txt"})
    assert len(result.output) < 110_000 and "read more with start_line=" in result.output


async def test_read_file_refuses_binary_and_directories(ctx: ToolContext, repo: Path) -> None:
    (repo / "img.bin").write_bytes(b"\x89PNG\r\n\x00\x00\x01")
    binary = await TOOLS["read_file"].run(ctx, {"path": "img.bin"})
    assert not binary.ok and "binary" in binary.output
    folder = await TOOLS["read_file"].run(ctx, {"path": "src"})
    assert not folder.ok and "list_dir" in folder.output


async def test_read_file_missing_suggests_close_names(ctx: ToolContext) -> None:
    result = await TOOLS["read_file"].run(ctx, {"path": "src/ap.py"})
    assert result.error_code == "not_found" and "src/app.py" in result.output


async def test_read_file_start_past_end(ctx: ToolContext) -> None:
    result = await TOOLS["read_file"].run(ctx, {"path": "README.md", "start_line": 50})
    assert not result.ok and "past the end" in result.output


async def test_list_dir_honors_gitignore_and_skips_git(ctx: ToolContext) -> None:
    result = await TOOLS["list_dir"].run(ctx, {"depth": 3})
    entries = result.output.splitlines()
    assert "src/" in entries and "src/app.py" in entries and "docs/guide.md" in entries
    assert ".gitignore" in entries
    assert not any(e.startswith(".git/") or e == ".git/" for e in entries)
    assert "debug.log" not in entries and "build/" not in entries


async def test_list_dir_depth_one_and_subdir(ctx: ToolContext) -> None:
    top = await TOOLS["list_dir"].run(ctx, {})
    assert "src/" in top.output.splitlines() and "src/app.py" not in top.output
    sub = await TOOLS["list_dir"].run(ctx, {"path": "src"})
    assert sub.output.splitlines() == ["app.py"]


async def test_list_dir_is_bounded(ctx: ToolContext, repo: Path) -> None:
    for i in range(30):
        (repo / "many").mkdir(exist_ok=True)
        (repo / "many" / f"f{i:02}.txt").write_text("x")
    result = await TOOLS["list_dir"].run(ctx, {"path": "many", "max_entries": 10})
    assert result.data["truncated"] and len(result.output.splitlines()) == 11


async def test_list_dir_nested_gitignore_and_negation(ctx: ToolContext, repo: Path) -> None:
    (repo / "src" / ".gitignore").write_text("*.tmp\n!keep.tmp\n")
    (repo / "src" / "a.tmp").write_text("x")
    (repo / "src" / "keep.tmp").write_text("x")
    result = await TOOLS["list_dir"].run(ctx, {"path": "src"})
    assert "keep.tmp" in result.output and "a.tmp" not in result.output


async def test_write_file_creates_parents_and_keeps_mode(ctx: ToolContext, repo: Path) -> None:
    created = await TOOLS["write_file"].run(ctx, {"path": "a/b/c.txt", "content": "new\n"})
    assert created.ok and created.data["created"] and (repo / "a/b/c.txt").read_text() == "new\n"
    script = repo / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    again = await TOOLS["write_file"].run(
        ctx, {"path": "run.sh", "content": "#!/bin/sh\necho hi\n"}
    )
    assert again.ok and not again.data["created"]
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert not [p for p in os.listdir(repo) if p.endswith(".tmp")], "no temp files left behind"


async def test_new_file_mode_follows_the_umask_without_changing_it(
    ctx: ToolContext, repo: Path
) -> None:
    """A new workspace file is 0666 & ~umask, like any editor's; the umask is read from /proc,
    never set to 0 and back (that races with files other threads create meanwhile)."""
    from harness_ls.private import process_umask

    old = os.umask(0o027)
    try:
        assert process_umask() == 0o027
        result = await TOOLS["write_file"].run(ctx, {"path": "fresh.txt", "content": "x\n"})
        assert result.ok
        assert stat.S_IMODE((repo / "fresh.txt").stat().st_mode) == 0o640
        assert process_umask() == 0o027
    finally:
        os.umask(old)


async def test_write_file_onto_directory_fails_cleanly(ctx: ToolContext) -> None:
    result = await TOOLS["write_file"].run(ctx, {"path": "src", "content": "x"})
    assert not result.ok and "directory" in result.output


def test_write_file_preview_shows_diff_and_range(ctx: ToolContext, repo: Path) -> None:
    preview = TOOLS["write_file"].preview(
        ctx, {"path": "README.md", "content": "# Demo\n\nHello there.\n"}
    )
    assert preview.kind == "write" and preview.path == "README.md"
    assert "-Hello world." in preview.diff and "+Hello there." in preview.diff
    assert (preview.range.start_line, preview.range.end_line) == (3, 3)
    new = TOOLS["write_file"].preview(ctx, {"path": "docs/new.md", "content": "x\n"})
    assert new.range is None and "--- /dev/null" in new.diff and new.summary.startswith("create")
    assert (repo / "README.md").read_text() == "# Demo\n\nHello world.\n"


async def test_write_file_under_a_file_is_a_clear_error(ctx: ToolContext) -> None:
    result = await TOOLS["write_file"].run(ctx, {"path": "README.md/child.txt", "content": "x"})
    assert not result.ok and result.error_code == "os_error" and "README.md" in result.output


def test_write_file_preview_over_a_binary_file(ctx: ToolContext, repo: Path) -> None:
    (repo / "logo.png").write_bytes(b"\x89PNG\x00\x00")
    preview = TOOLS["write_file"].preview(ctx, {"path": "logo.png", "content": "text now\n"})
    assert "binary file" in preview.diff and "+text now" in preview.diff


async def test_huge_files_are_refused_not_loaded(
    ctx: ToolContext, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(textfile, "MAX_TEXT_BYTES", 100)
    (repo / "huge.txt").write_text("x" * 500)
    result = await TOOLS["read_file"].run(ctx, {"path": "huge.txt"})
    assert not result.ok and "too large" in result.output and "search" in result.output


def test_cut_middle_prefers_line_ends() -> None:
    text = "".join(f"line {i:04}\n" for i in range(1000))
    out, cut = cut_middle(text, 2000)
    head, tail = out.split("\n[... ")
    assert head.endswith("line 0090") or head.splitlines()[-1].startswith("line ")
    assert tail.split("cut ...]\n", 1)[1].startswith("line ") and cut > 0
    assert cut_middle("short", 100) == ("short", 0)
