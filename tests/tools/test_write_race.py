"""write_file (and edit: the same write) never writes through a folder swapped for a link while they write.

The daemon writes outside the sandbox. It resolved the path (a real folder inside the workspace)
and then made the temp file and renamed it *by name*: a process swapping `sub` for a link out of
the workspace in a loop (a command of another session on the same workspace) won the race and
the file landed outside (on 23d097e: hundreds of temp files and renamed files). Now every folder is opened without following links
(harness_ls/nofollow.py); a swap at the wrong moment fails that write with `refused`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from harness_ls.tools import TOOLS, ToolContext

# `sub` (a folder) and `swap` (a link out of the workspace) change places, atomically, for good
SWAPPER = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
while True:  # renameat2(AT_FDCWD, "sub", AT_FDCWD, "swap", RENAME_EXCHANGE)
    libc.renameat2(-100, b"sub", -100, b"swap", 2)
"""


async def test_a_folder_swapped_for_a_link_never_takes_the_write_outside(tmp_path: Path) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (ws / "sub").mkdir()
    (ws / "sub" / "f.txt").write_text("a\n")
    ctx = ToolContext(workspace=ws)
    (ws / "swap").symlink_to(outside)
    swapper = await asyncio.create_subprocess_exec(sys.executable, "-c", SWAPPER, cwd=ws)
    results = {"ok": 0, "refused": 0, "other": 0}
    try:
        deadline = time.monotonic() + 8
        i = 0
        while time.monotonic() < deadline and i < 3000:
            i += 1
            r = await TOOLS["write_file"].run(ctx, {"path": f"sub/w{i % 7}.txt", "content": "x"})
            results["ok" if r.ok else r.error_code if r.error_code == "refused" else "other"] += 1
    finally:
        swapper.kill()
        await swapper.wait()
        links = [p for p in tmp_path.rglob("*") if p.is_symlink()]
        for link in links:  # no link loop for pytest's clean-up to walk
            link.unlink()
    assert list(outside.iterdir()) == [], (results, sorted(p.name for p in outside.iterdir()))
    assert results["ok"] > 0, results


async def test_read_file_never_reads_through_a_folder_swapped_for_a_link(tmp_path: Path) -> None:
    """The same race for reads: the file outside (a key in your home) reached the model."""
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (ws / "sub").mkdir()
    (ws / "sub" / "notes.txt").write_text("inside\n")
    (outside / "notes.txt").write_text("OUTSIDE-KEY\n")
    (ws / "swap").symlink_to(outside)
    ctx = ToolContext(workspace=ws)
    swapper = await asyncio.create_subprocess_exec(sys.executable, "-c", SWAPPER, cwd=ws)
    seen = {"inside": 0, "refused or missing": 0}
    try:
        deadline = time.monotonic() + 8
        for _ in range(3000):
            if time.monotonic() > deadline:
                break
            r = await TOOLS["read_file"].run(ctx, {"path": "sub/notes.txt"})
            assert "OUTSIDE-KEY" not in r.output, seen
            seen["inside" if r.ok else "refused or missing"] += 1
    finally:
        swapper.kill()
        await swapper.wait()
        for name in ("swap", "sub"):  # whichever is the link after the last exchange
            if (ws / name).is_symlink():
                (ws / name).unlink()
    assert seen["inside"] > 0, seen
