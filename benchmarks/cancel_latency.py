"""How fast things stop: the figures the tests used to assert with wall-clock bounds.

Tests check the behaviour (a cancelled stream yields nothing more, a timed-out command's process
group is dead, an open SSE stream ends at shutdown); this prints how long each takes:
  * model stream cancel: task.cancel() on an OpenAI stream waiting for its next chunk -> task done
    (target <= 300 ms);
  * shell timeout: a command with timeout=0.3 s that would run 30 s -> result (target <= 1 s);
  * shell background child: `sleep 30 & echo started` -> result (target <= 1 s).

    .venv/bin/python benchmarks/cancel_latency.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from harness_ls.models import HttpSettings, Message, OpenAIProvider
from harness_ls.testing.fake_models import FakeOpenAIServer
from harness_ls.tools import TOOLS, ToolContext

HI = [Message(role="user", content="hi")]
FAST = HttpSettings(backoff_base=0.01, max_backoff=0.05, read_timeout=10, connect_timeout=2)


async def stream_cancel(srv: FakeOpenAIServer) -> float:
    srv.queue.clear()
    srv.push({"text": ["a ", "b ", "c "], "delay": 2.0})
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in OpenAIProvider(srv.base_url, settings=FAST).stream("m", HI):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 10)
    t0 = time.perf_counter()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    return time.perf_counter() - t0


async def shell_call(ctx: ToolContext, args: dict) -> float:
    t0 = time.perf_counter()
    await TOOLS["shell"].run(ctx, args)
    return time.perf_counter() - t0


def report(name: str, xs: list[float], target: float) -> None:
    xs = sorted(xs)
    p95 = xs[max(0, int(len(xs) * 0.95) - 1)]
    ok = "✓" if p95 <= target else "✗"
    print(f"{name:32s} p50 {statistics.median(xs) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"
          f"  (target <= {target * 1000:.0f} ms {ok})")  # fmt: skip


async def main(repeat: int) -> None:
    with FakeOpenAIServer() as srv:
        report("model stream cancel", [await stream_cancel(srv) for _ in range(repeat)], 0.3)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = ToolContext(workspace=Path(tmp))
        timeout = {"command": "sleep 30", "timeout": 0.3}
        xs = [await shell_call(ctx, timeout) - 0.3 for _ in range(max(3, repeat // 4))]
        report("shell timeout -> result (- 0.3 s)", xs, 1.0)
        bg = {"command": "sleep 30 & echo started"}
        report("shell background child", [await shell_call(ctx, bg) for _ in range(repeat)], 1.0)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    asyncio.run(main(ap.parse_args().repeat))
