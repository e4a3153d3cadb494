"""A spec session's write_spec never writes through a folder swapped for a link after its check.

write_spec checks the spec path right before writing (agent/specfile.py), then wrote by name
(`mkstemp` in the folder and a rename): a command of another session on the same workspace
swapping `specs/x` for a link out of it in a loop won the race, and the model's spec — written
with no approval in spec mode — landed outside (on b139fd5). The write now goes by descriptors
from the workspace's real path with no link followed (harness_ls/nofollow.py); a swap at the
wrong moment fails that call.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from harness_ls.agent.specwrite import WriteSpecArgs, WriteSpecTool
from harness_ls.spec import render_template

SWAPPER = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
while True:  # renameat2(AT_FDCWD, "specs/x", AT_FDCWD, "specs/swap", RENAME_EXCHANGE)
    libc.renameat2(-100, b"specs/x", -100, b"specs/swap", 2)
"""


class _Stream:
    async def append(self, *args: object, **kwargs: object) -> None:
        return None


async def test_write_spec_never_follows_a_folder_swapped_for_a_link(tmp_path: Path) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    (ws / "specs" / "x").mkdir(parents=True)
    outside.mkdir()
    text = render_template("x")
    (ws / "specs" / "x" / "spec.md").write_text(text)
    (ws / "specs" / "swap").symlink_to(outside)
    tool = WriteSpecTool(SimpleNamespace(), _Stream(), ws, ws / "specs" / "x" / "spec.md")
    swapper = await asyncio.create_subprocess_exec(sys.executable, "-c", SWAPPER, cwd=ws)
    written = 0
    try:
        deadline = time.monotonic() + 8
        for _ in range(3000):
            if time.monotonic() > deadline:
                break
            try:
                r = await tool.run(None, WriteSpecArgs(content=text))
            except OSError:  # realpath met the folder mid-exchange (EINVAL): nothing written
                continue
            written += r.ok
    finally:
        swapper.kill()
        await swapper.wait()
        for name in ("x", "swap"):  # whichever is the link after the last exchange
            if (ws / "specs" / name).is_symlink():
                (ws / "specs" / name).unlink()
    assert sorted(p.name for p in outside.iterdir()) == []
    assert written > 0
