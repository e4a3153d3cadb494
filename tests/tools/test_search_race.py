"""search with ripgrep never reports a line read through a link swapped in while it walks.

ripgrep lists a folder, then opens what it listed by name: a folder (or file) swapped for a link
in between — by a command of another session on the same workspace — made it read the file the
link leads to and report its lines under the workspace name (on b139fd5: `swap/notes.txt:1:
OUTSIDE-KEY` in 741 of 2160 searches, and the value of `.env` as `sub/notes.txt`). Every line
ripgrep reports is now read again by descriptors with no link followed (as the Python engine
reads); a line the workspace's own file does not hold is dropped.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from harness_ls.tools import TOOLS, ToolContext
from tests.conftest import require_tool


@pytest.fixture(autouse=True)
def _ripgrep() -> None:
    require_tool("rg")


# `a` and `b` change places, atomically, for good: renameat2(AT_FDCWD, a, AT_FDCWD, b, EXCHANGE)
SWAPPER = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
while True:
    libc.renameat2(-100, a, -100, b, 2)
"""


async def _search_while_swapping(ws: Path, a: str, b: str, paths: tuple[str, ...]) -> list[str]:
    ctx = ToolContext(workspace=ws)
    swapper = await asyncio.create_subprocess_exec(sys.executable, "-c", SWAPPER, a, b, cwd=ws)
    outputs: list[str] = []
    try:
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and len(outputs) < 1500:
            for path in paths:
                r = await TOOLS["search"].run(ctx, {"pattern": "KEYX", "path": path})
                if not r.ok:  # `sub` was the link (or changing) when the path was resolved
                    assert r.error_code in ("refused", "os_error"), r.output
                    assert "OUTSIDE" not in r.output
                    continue
                assert r.data["engine"] == "ripgrep"
                outputs.append(r.output)
    finally:
        swapper.kill()
        await swapper.wait()
        for name in (a, b):  # whichever is the link after the last exchange
            if (ws / name).is_symlink():
                (ws / name).unlink()
    return outputs


async def test_a_folder_swapped_for_a_link_out_of_the_workspace_is_not_searched(
    tmp_path: Path,
) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (ws / "sub").mkdir()
    (ws / "sub" / "notes.txt").write_text("inside KEYX\n")
    (outside / "notes.txt").write_text("OUTSIDE-KEYX\n")
    (ws / "swap").symlink_to(outside)
    outputs = await _search_while_swapping(ws, "sub", "swap", (".", "sub"))
    leaked = [o for o in outputs if "OUTSIDE" in o]
    assert leaked == [], (len(leaked), len(outputs), leaked[:3])
    assert any("sub/notes.txt:1: inside KEYX" in o for o in outputs)


async def test_a_file_swapped_for_a_link_to_a_secret_file_is_not_reported(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    (ws / ".env").write_text("API_KEYX=sk-live-0123456789abcdef\n")
    (ws / "sub" / "notes.txt").write_text("inside KEYX\n")
    (ws / "sub" / "swap").symlink_to("../.env")
    outputs = await _search_while_swapping(ws, "sub/notes.txt", "sub/swap", ("sub",))
    leaked = [o for o in outputs if "API_KEYX" in o or "sk-live" in o]
    assert leaked == [], (len(leaked), len(outputs), leaked[:3])
    assert any("sub/notes.txt:1: inside KEYX" in o for o in outputs)


async def test_a_file_swapped_for_a_link_to_a_fifo_does_not_hang_the_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ripgrep follows the link it opens by name and blocks on the FIFO for good (the call, and
    the run, never ended on b139fd5); it is now killed at its time limit and the call says so."""
    import harness_ls.tools.search as search

    monkeypatch.setattr(search, "RG_TIME_LIMIT", 1.0, raising=False)
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    os.mkfifo(tmp_path / "fifo")
    for i in range(20):
        (ws / "sub" / f"n{i}.txt").write_text("inside KEYX\n")
    (ws / "sub" / "swap").symlink_to(tmp_path / "fifo")
    ctx = ToolContext(workspace=ws)
    swapper = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SWAPPER, "sub/n7.txt", "sub/swap", cwd=ws
    )
    stopped = 0
    try:
        for _ in range(40):
            r = await asyncio.wait_for(
                TOOLS["search"].run(ctx, {"pattern": "KEYX", "path": "sub"}), 10
            )
            stopped += r.error_code is not None and "stopped after 1 s" in r.output
            if stopped:
                break
    finally:
        swapper.kill()
        await swapper.wait()
    assert stopped == 1


async def test_a_gitignore_that_is_a_link_is_not_read(tmp_path: Path) -> None:
    """The tools' own ignore rules (list_dir, the Python search) read `.gitignore` files outside
    the sandbox: a `.gitignore` link was followed to any file of yours (its lines then decided
    what is listed: an oracle of its content) or, swapped to a FIFO, blocked for good. Read as
    git reads them since 2.32: never through a link, regular files only, non-blocking."""
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (outside / "rules").write_text("secret-guess.txt\n")
    (ws / "secret-guess.txt").write_text("x\n")
    (ws / ".gitignore").symlink_to(outside / "rules")
    os.mkfifo(tmp_path / "fifo")
    (ws / "sub").mkdir()
    (ws / "sub" / ".gitignore").symlink_to(tmp_path / "fifo")
    r = await asyncio.wait_for(
        TOOLS["list_dir"].run(ToolContext(workspace=ws), {"path": ".", "depth": 2}), 10
    )
    assert r.ok, r.output
    assert r.output.splitlines() == [".gitignore", "secret-guess.txt", "sub/", "sub/.gitignore"]
