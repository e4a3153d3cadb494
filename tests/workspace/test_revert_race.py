"""Reverting a file the agent created also removes the folders it leaves empty. Those were
removed by name, so a folder swapped for a link out of the workspace just after the file's
unlink (by a command of another session) had an empty folder outside removed (fails on
d0bf429)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from harness_ls.workspace.revert import write_state


def test_the_empty_folder_walk_never_follows_a_folder_swapped_for_a_link(
    tmp_path: Path, monkeypatch
) -> None:
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    (ws / "a" / "b").mkdir(parents=True)
    (ws / "a" / "b" / "new.py").write_text("made by the agent\n")
    (outside / "b").mkdir(parents=True)  # an empty folder of yours
    real_unlink = os.unlink

    def unlink_then_swap(path, *args, **kwargs):
        real_unlink(path, *args, **kwargs)
        if path == "new.py":  # the attacker's move, right after the daemon's unlink
            os.rename(ws / "a", ws / "a.moved")
            os.symlink(outside, ws / "a")

    monkeypatch.setattr(os, "unlink", unlink_then_swap)  # the module the revert calls it on
    with contextlib.suppress(NotADirectoryError):  # d0bf429: rmdir of the link itself, after
        write_state(ws, "a/b/new.py", None, "")  # it had removed the folder outside
    monkeypatch.undo()

    assert (outside / "b").is_dir()
    assert (ws / "a").is_symlink() and not (ws / "a.moved" / "b" / "new.py").exists()


def test_reverting_a_created_file_removes_the_folders_it_leaves_empty(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "keep").mkdir(parents=True)
    (ws / "keep" / "mine.txt").write_text("mine\n")
    (ws / "keep" / "x" / "y").mkdir(parents=True)
    (ws / "keep" / "x" / "y" / "new.py").write_text("agent\n")
    write_state(ws, "keep/x/y/new.py", None, "")
    assert sorted(p.name for p in (ws / "keep").iterdir()) == ["mine.txt"]
