"""Property: whatever path a model sends, resolve_path returns a path inside the workspace or refuses."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from harness_ls.errors import Refused
from harness_ls.tools import resolve_path

SEGMENTS = ["..", ".", "a", "b", "out", "in", ".git", "", "\x00", "~", "a b", "..."]


def _workspace(root: Path) -> Path:
    ws = root / "ws"
    if not ws.exists():
        (ws / "a" / "b").mkdir(parents=True)
        (ws / ".git").mkdir()
        os.symlink(root, ws / "out")  # escapes
        os.symlink(ws / "a", ws / "in")  # stays inside
        os.symlink(root, ws / "a" / "out")
    return ws


@settings(max_examples=120, deadline=None)
@given(
    parts=st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=6),
    absolute=st.booleans(),
    for_write=st.booleans(),
)
def test_resolved_paths_never_leave_the_workspace(
    tmp_path_factory, parts: list[str], absolute: bool, for_write: bool
) -> None:
    root = tmp_path_factory.getbasetemp() / "prop"
    root.mkdir(exist_ok=True)
    ws = _workspace(root).resolve()
    raw = "/".join(parts)
    if absolute:
        raw = str(ws) + "/" + raw
    try:
        real = resolve_path(ws, raw, for_write=for_write)
    except Refused:
        return
    assert real == ws or str(real).startswith(str(ws) + os.sep)
    assert "\x00" not in raw
    if for_write:
        assert ".git" not in real.relative_to(ws).parts and real != ws
