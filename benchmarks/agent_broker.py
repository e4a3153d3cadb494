"""Broker and runtime overhead figures (issue 6 targets: p99 ≤ 5 ms, ≤ 2 ms per tool call).

1. approval request → visible to a subscriber (the path the LSP and SSE feeds use), with the
   request recorded in a real RunStore stream.
2. runtime overhead per tool call, excluding the tool itself: argument parsing, policy decision,
   the `tool.call` / `tool.result` events in a real RunStore stream, loop bookkeeping. The tool is
   a no-op; a second figure uses an in-memory stream to separate the store's append cost.

Usage: .venv/bin/python benchmarks/agent_broker.py [N]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness_ls.agent.approvals import ApprovalBroker
from harness_ls.agent.loop import LoopContext, handle_call
from harness_ls.models import ToolCall
from harness_ls.store import RunStore
from harness_ls.tools import Policy, ToolContext, ToolResult


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def report(name: str, values: list[float]) -> None:
    print(
        f"{name:<48} n={len(values):<5} p50={pct(values, 50):.3f} ms  "
        f"p95={pct(values, 95):.3f} ms  p99={pct(values, 99):.3f} ms  max={max(values):.3f} ms"
    )


async def bench_broker(store: RunStore, n: int) -> None:
    broker = ApprovalBroker()
    meta = store.create_run(workspace="/tmp", spec_path="spec.md", spec_text="# Goal\n")
    stream = store.stream("run", meta.id)
    seen: asyncio.Queue[float] = asyncio.Queue()

    async def watch() -> None:
        async for change in broker.subscribe(replay=False):
            if change.kind == "requested":
                seen.put_nowait(time.perf_counter())

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0)
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        task = asyncio.create_task(
            broker.request(
                stream=stream,
                id=f"st_{i}",
                tool="shell",
                preview={"command": "pytest"},
                run_id=meta.id,
            )
        )
        t1 = await seen.get()
        lat.append((t1 - t0) * 1000)
        broker.answer(f"st_{i}", "approve", "bench")
        await task
    watcher.cancel()
    await stream.close()
    report("approval request -> subscriber", lat)


class NoopArgs(BaseModel):
    path: str = "a.txt"


class NoopTool:
    name = "read_file"  # a read: allowed by the default policy, so no approval is involved
    description = "does nothing"
    kind = "read"
    Args = NoopArgs

    async def run(self, ctx: Any, args: Any) -> ToolResult:
        return ToolResult(ok=True, output="ok")

    def preview(self, ctx: Any, args: Any) -> Any:
        return None


class MemoryStream:
    async def append(self, type: str, data: Any = None, **ids: Any) -> None:
        return None


async def bench_tool_overhead(store: RunStore, workspace: Path, n: int, memory: bool) -> None:
    meta = store.create_run(workspace=str(workspace), spec_path="spec.md", spec_text="# Goal\n")
    stream = MemoryStream() if memory else store.stream("run", meta.id)
    ctx = LoopContext(
        stream=stream,
        provider=None,  # type: ignore[arg-type]
        model="bench",
        tool_ctx=ToolContext(workspace=workspace),
        policy=Policy.load(workspace, None, mode="ask"),
        broker=ApprovalBroker(),
        owner="run",
        owner_id=meta.id,
        workspace=workspace,
        tools={"read_file": NoopTool()},
    )
    lat = []
    for i in range(n):
        call = ToolCall(id=f"c{i}", name="read_file", arguments={"path": "a.txt"}, raw_arguments="")
        t0 = time.perf_counter()
        await handle_call(ctx, call)
        lat.append((time.perf_counter() - t0) * 1000)
    if not memory:
        await stream.close()
    report(
        "tool call overhead (" + ("in-memory stream" if memory else "RunStore stream") + ")", lat
    )


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "data")
        ws = Path(tmp) / "ws"
        ws.mkdir()
        await bench_broker(store, n)
        await bench_tool_overhead(store, ws, n, memory=False)
        await bench_tool_overhead(store, ws, n, memory=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
