"""Whole-run figures: an offline run end to end, and a scripted run with many tool calls.

The scripted run makes N `read_file` calls (real tool, real RunStore, real git repo) in one
step, so (run time − model-free baseline) / N is the runtime + store + tool cost per call.

Usage: .venv/bin/python benchmarks/agent_run.py [N]
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness_ls.core import Harness

SPEC = "# Goal\n\nSay hello.\n\n# Constraints / nuances\n\n- none\n\n# Acceptance tests\n\n- `grep -q hello a.txt`\n"


def make_repo(root: Path) -> Path:
    ws = root / "repo"
    ws.mkdir()
    for args in (["init", "-q"], ["config", "user.email", "b@x"], ["config", "user.name", "b"]):
        subprocess.run(["git", *args], cwd=ws, check=True)
    (ws / "a.txt").write_text("hello\n")
    (ws / "spec.md").write_text(SPEC)
    subprocess.run(["git", "add", "-A"], cwd=ws, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=ws, check=True)
    return ws


async def timed_run(h: Harness, ws: Path, model: str | None) -> tuple[float, str]:
    t0 = time.perf_counter()
    meta = await h.start_run(str(ws), "spec.md", model=model)
    final = await h.wait_run(meta.id, 600)
    return time.perf_counter() - t0, final.status


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ws = make_repo(root)
        h = Harness(root / "data")
        h.options.update(checkpoints=False, context_tokens=0, docs=False)
        await h.start()
        secs, status = await timed_run(h, ws, None)
        print(f"offline run end to end (plan, verify, summary)   {secs * 1000:8.1f} ms  [{status}]")

        plan = {"text": '{"steps": [{"title": "read"}]}'}
        base = root / "base.json"
        base.write_text(json.dumps({"responses": [plan, {"text": "done"}]}))
        secs0, _ = await timed_run(h, ws, f"scripted:{base}")
        calls = {"tool_calls": [{"name": "read_file", "arguments": {"path": "a.txt"}}]}
        many = root / "many.json"
        many.write_text(json.dumps({"responses": [plan] + [calls] * n + [{"text": "done"}]}))
        h.options.update(loop_limit=n + 1, max_turns=n + 5)
        secs1, status = await timed_run(h, ws, f"scripted:{many}")
        print(f"scripted run, 0 tool calls                       {secs0 * 1000:8.1f} ms")
        print(
            f"scripted run, {n} read_file calls                 {secs1 * 1000:8.1f} ms  [{status}]"
        )
        print(
            f"per tool call (runtime + store + tool + model turn) {(secs1 - secs0) / n * 1000:6.2f} ms"
        )
        await h.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
