"""The docs step's fingerprint of the changed files (read outside the sandbox, in the daemon)
never reads a huge file whole: a full-auto model's `truncate -s 50G big.bin` uses no disk, so
the disk floor lets it pass, and the fingerprint then read all of it into the daemon's memory
(b139fd5: the resident size grew by the file's size). Files over MAX_HASHED_BYTES are compared
by size and mtime; a FIFO or a link swapped in is never opened through.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from pathlib import Path

from harness_ls.agent.docs_step import fingerprint


def test_a_huge_sparse_file_is_fingerprinted_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(2 * 1024**3)  # 2 GiB, no disk used
    (tmp_path / "small.txt").write_text("a\n")
    os.mkfifo(tmp_path / "pipe")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    lines = ["?? big.bin", "?? small.txt", "?? pipe", "?? gone.txt"]
    first = asyncio.run(fingerprint(tmp_path, lines))
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 256, grown_mib
    assert sorted(first) == ["big.bin", "gone.txt", "small.txt"]
    assert first["gone.txt"] is None
    os.utime(big, ns=(time.time_ns(), time.time_ns() + 10**9))  # changed: the key changes
    assert asyncio.run(fingerprint(tmp_path, lines))["big.bin"] != first["big.bin"]
