"""The map reads the files its listing found; a file swapped in between (by a command of another
session on the same workspace) for a link out of the workspace or for a FIFO must be neither read
nor waited on: the link's target went into the map and the excerpts, i.e. to the model (fails on
d0bf429: the outside file's function and its key were in the context)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness_ls.context import build_context
from harness_ls.context import cache as ctx_cache

APP = (
    "def target_function():\n    return compute_total(1)\n\n\ndef compute_total(x):\n    return x\n"
)
SECRET = (
    "def leaked_outside_function():\n"
    "    token = 'sk-OUTSIDE-7f3a'\n"
    "    return target_function(token)\n"
)
TASK = "fix target_function and compute_total leaked_outside_function"


def _swap(path: Path, to: str) -> None:
    path.unlink()
    if to == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(to)


@pytest.mark.parametrize("when", ["after_listing", "after_parsing"])
@pytest.mark.parametrize("to", ["outside", "fifo"])
def test_a_file_swapped_after_the_listing_is_never_read(
    repo, data_dir, tmp_path: Path, monkeypatch, when: str, to: str
) -> None:
    root = repo({"src/app.py": APP, "src/other.py": SECRET.replace("leaked_outside", "x")})
    outside = tmp_path / "home_secret.py"
    outside.write_text(SECRET)
    target = str(outside) if to == "outside" else "fifo"
    victim = root / "src" / "other.py"
    if when == "after_listing":
        real = ctx_cache.list_files

        def listed_then_swapped(*a, **k):
            out = real(*a, **k)
            _swap(victim, target)
            return out

        monkeypatch.setattr(ctx_cache, "list_files", listed_then_swapped)
    else:
        real_parse = ctx_cache.parse_files

        def parsed_then_swapped(*a, **k):
            out = real_parse(*a, **k)
            _swap(victim, target)
            return out

        monkeypatch.setattr(ctx_cache, "parse_files", parsed_then_swapped)

    res = build_context(root, TASK, 4000, data_dir=data_dir)

    assert "src/app.py" in res.files
    assert "sk-OUTSIDE-7f3a" not in res.text
    assert "leaked_outside_function" not in res.text
