"""A diagram source is read bounded and non-blocking: a huge sparse file (`truncate -s 2G`, no
disk used) or a FIFO in docs/diagrams never fills the renderer's memory or hangs it, and the
result says what was wrong. A fake `mmdc` (a real script logging its calls) stands in for
mermaid-cli.
"""

from __future__ import annotations

import os
import resource
import stat
from pathlib import Path

import pytest

from harness_ls.diagrams import render as diagrams
from harness_ls.diagrams import render_io as dio


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ws = tmp_path / "ws"
    (ws / "docs" / "diagrams").mkdir(parents=True)
    mmdc = tmp_path / "bin" / "mmdc"
    mmdc.parent.mkdir()
    mmdc.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "calls"}\nexit 1\n')
    mmdc.chmod(mmdc.stat().st_mode | stat.S_IXUSR)
    monkeypatch.delenv("MMDC", raising=False)
    monkeypatch.setenv("PUPPETEER_EXECUTABLE_PATH", "/bin/true")
    monkeypatch.setenv("PATH", f"{mmdc.parent}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return ws


@pytest.mark.parametrize("in_a_run", [True, False])
def test_a_huge_sparse_source_is_refused_unread(ws: Path, in_a_run: bool) -> None:
    """The source was read whole (mmdc's private copy, read_text), so 2 GiB that use no disk
    went into memory — the daemon's, in a run."""
    folder = ws / "docs" / "diagrams"
    with open(folder / "flow.mmd", "wb") as fh:
        fh.write(b"graph TD\n  A-->B\n")
        fh.truncate(2 * 1024**3)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    result = diagrams.render_diagrams(folder, root=ws, confine=ws if in_a_run else None)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 256, grown_mib
    assert result.failed == {
        "flow.mmd": "not rendered: it is larger than 1 MiB (2147483648 bytes), "
        "the limit for a diagram source"
    }
    assert not (ws.parent / "calls").exists()  # mmdc never started
    assert result.exit_status == diagrams.EXIT_FAILED


def test_a_source_at_the_cap_is_read_and_one_byte_over_is_not(tmp_path: Path) -> None:
    src = tmp_path / "flow.mmd"
    src.write_bytes(b"a" * dio.MAX_SOURCE)
    assert dio.read_source(src, follow=False) == "a" * dio.MAX_SOURCE
    src.write_bytes(b"a" * (dio.MAX_SOURCE + 1))
    for follow in (True, False):
        with pytest.raises(dio.RefusedFile) as err:
            dio.read_source(src, follow=follow)
        assert str(err.value) == (
            "it is larger than 1 MiB (1048577 bytes), the limit for a diagram source"
        )


@pytest.mark.parametrize("follow", [True, False])
def test_a_fifo_source_is_refused_without_blocking(tmp_path: Path, follow: bool) -> None:
    os.mkfifo(tmp_path / "flow.mmd")  # no writer: a blocking open or read never returns
    with pytest.raises(dio.RefusedFile) as err:
        dio.read_source(tmp_path / "flow.mmd", follow=follow)
    assert str(err.value) == "it is a FIFO (named pipe), not a regular file"
    assert dio.source_problem(tmp_path / "flow.mmd", follow=follow) == str(err.value)


def test_a_linked_source_is_refused_in_a_run_and_followed_in_yours(tmp_path: Path) -> None:
    (tmp_path / "real.mmd").write_text("graph TD\n")
    os.symlink(tmp_path / "real.mmd", tmp_path / "flow.mmd")
    assert dio.read_source(tmp_path / "flow.mmd", follow=True) == "graph TD\n"
    with pytest.raises(dio.RefusedFile) as err:
        dio.read_source(tmp_path / "flow.mmd", follow=False)
    assert str(err.value) == dio.SOURCE_LINK
    assert dio.source_problem(tmp_path / "flow.mmd", follow=False) == dio.SOURCE_LINK
