"""The bounded soak (benchmarks/soak.py) as a test: a 10 s smoke in the normal suite, 120 s with
HARNESS_LONG=1 (served by the fake OpenAI server process). It checks correctness only (every run completes, no SSE gap, no error, no
traceback); the memory figures are printed, not asserted (benchmarks report, tests don't time)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.e2e.helpers import LONG, REPO


def soak(seconds: int, model: str = "scripted") -> dict:
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "soak.py"), "--seconds", str(seconds), "--json",
         "--model", model],
        capture_output=True, text=True, timeout=seconds + 240, cwd=REPO,
    )  # fmt: skip
    assert out.stdout.strip(), out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\nsoak: {json.dumps(report)}")
    assert report["error_count"] == 0, report["errors"]
    assert report["runs"] > 0 and set(report["statuses"]) == {"completed"}, report
    assert report["sse_streams_with_gaps"] == 0
    assert report["agentd_tracebacks"] == 0
    assert out.returncode == 0
    return report


def test_soak_smoke_10s():
    soak(10)


@pytest.mark.slow
@pytest.mark.skipif(not LONG, reason="long soak: set HARNESS_LONG=1")
def test_soak_long():
    soak(120, model="fake")
