"""Diagram rendering cost: one chromium launch for N diagrams vs one launch each, and the no-op.

.venv/bin/python benchmarks/workspace_diagrams.py     (needs mmdc + chromium; prints figures)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from harness_ls.diagrams import render as diagrams
from harness_ls.diagrams import render_tools as tools

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    mmdc = tools.find_mmdc(REPO)
    if not mmdc or not tools.find_chromium():
        print("mmdc or chromium missing:", tools.MMDC_INSTALL)
        return 3
    os.environ["MMDC"] = mmdc
    sources = diagrams.sources(REPO / "docs" / "diagrams")
    with tempfile.TemporaryDirectory() as t:
        batch, single = Path(t, "batch"), Path(t, "single")
        batch.mkdir()
        single.mkdir()
        for s in sources:
            shutil.copy(s, batch / s.name)
            shutil.copy(s, single / s.name)
        t0 = time.perf_counter()
        result = diagrams.render_diagrams(batch)
        t_batch = time.perf_counter() - t0
        t0 = time.perf_counter()
        for s in sources:
            diagrams.render_mermaid(REPO, [single / s.name])
        t_single = time.perf_counter() - t0
        t0 = time.perf_counter()
        diagrams.render_diagrams(batch)
        t_noop = time.perf_counter() - t0
    n = len(sources)
    print(
        f"{n} diagrams, one chromium launch: {t_batch:6.2f} s ({t_batch / n:.2f} s each) rendered={len(result.rendered)}"
    )
    print(f"{n} diagrams, one launch each:     {t_single:6.2f} s ({t_single / n:.2f} s each)")
    print(f"all up to date (hash check only):  {t_noop * 1000:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
