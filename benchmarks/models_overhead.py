"""Per-chunk overhead of the model providers (SSE parse + JSON + normalize), target <= 0.2 ms.

Two figures per provider:
  * end to end: streaming N chunks from the local fake server through the provider, minus
    reading the same stream's lines with bare httpx (so server and socket cost cancel out);
  * in process: the same SSE lines fed through the provider's JSON parse + normalizer only.

    .venv/bin/python benchmarks/models_overhead.py [--chunks 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from harness_ls.models import AnthropicProvider, HttpSettings, Message, OpenAIProvider
from harness_ls.models import anthropic as anthropic_mod
from harness_ls.models import openai as openai_mod
from harness_ls.models.http import sse_events
from harness_ls.testing.fake_wire import anthropic_chunks, openai_chunks

HI = [Message(role="user", content="hi")]


def script(n: int) -> dict:
    # mostly text chunks, plus a tool call streamed in fragments, like a real agent step
    args = {"path": "src/module.py", "content": "x = 1\n" * (n // 20)}
    return {
        "text": ["tok "] * n,
        "tool_calls": [{"name": "write_file", "arguments": args}],
        "fragment": 60,
    }


async def raw_lines(client: httpx.AsyncClient, url: str, body: dict, headers: dict) -> int:
    n = 0
    async with client.stream("POST", url, json=body, headers=headers) as resp:
        async for line in resp.aiter_lines():
            n += line.startswith("data:")
    return n


async def provider_events(provider, n_chunks: int) -> int:
    n = 0
    async for _ev in provider.stream("fake-model", HI):
        n += 1
    return n


def start_server(kind: str, n: int, tmp: Path) -> tuple[subprocess.Popen[str], str]:
    """The fake server in its own process (as a real one would be): only client work is timed."""
    path = tmp / f"{kind}.json"
    path.write_text(json.dumps({"default": script(n)}))
    cmd = [sys.executable, "-m", "harness_ls.testing.fake_models", "--port", "0",
           "--script", str(path), "--kind", kind]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()  # type: ignore[union-attr]


async def end_to_end(kind: str, base: str, n: int, repeat: int) -> tuple[float, float, int]:
    settings = HttpSettings(max_retries=0)
    if kind == "anthropic":
        provider = AnthropicProvider(base, "k", settings=settings)
        url, headers = f"{base}/v1/messages", {"x-api-key": "k"}
    else:
        provider = OpenAIProvider(base, settings=settings)
        url, headers = f"{base}/chat/completions", {}
    body = provider.build_body("fake-model", HI, None)
    t_prov, t_raw = [], []
    events = 0
    client = httpx.AsyncClient(trust_env=False)  # kept open, as the provider's pooled client is
    for _ in range(repeat + 1):  # the first round warms up
        t0 = time.perf_counter()
        events = await raw_lines(client, url, body, headers)
        t_raw.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        await provider_events(provider, n)
        t_prov.append(time.perf_counter() - t0)
    await client.aclose()
    return statistics.median(t_prov[1:]), statistics.median(t_raw[1:]), events


async def in_process(kind: str, n: int, repeat: int) -> tuple[float, int]:
    """SSE framing + JSON + normalize over an in-memory body: the provider's own cost."""
    body = {"model": "fake-model", "messages": [], "stream_options": {"include_usage": True}}
    chunks = (anthropic_chunks if kind == "anthropic" else openai_chunks)(script(n), body)
    raw = "".join(
        (f"event: {ev}\n" if ev else "") + f"data: {json.dumps(payload)}\n\n"
        for ev, payload in chunks
    ).encode()
    times = []
    for _ in range(repeat):
        state = (anthropic_mod._StreamState if kind == "anthropic" else openai_mod._StreamState)(
            kind
        )
        resp = httpx.Response(200, stream=httpx.ByteStream(raw))
        t0 = time.perf_counter()
        async for _event, data in sse_events(resp, kind):
            state.feed(json.loads(data))
        state.finish_events()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(chunks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{'provider':<10} {'chunks':>6} {'provider ms':>11} {'bare httpx ms':>13} "
        f"{'e2e/chunk':>10} {'overhead/chunk':>15} {'SSE+JSON+normalize/chunk':>25}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="models-bench-"))
    for kind in ("openai", "anthropic"):
        proc, base = start_server(kind, args.chunks, tmp)
        try:
            t_prov, t_raw, events = asyncio.run(end_to_end(kind, base, args.chunks, args.repeat))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        t_cpu, n_lines = asyncio.run(in_process(kind, args.chunks, args.repeat))
        per = (t_prov - t_raw) / events * 1000
        e2e = t_prov / events * 1000
        cpu = t_cpu / n_lines * 1000
        print(
            f"{kind:<10} {events:>6} {t_prov * 1000:>11.1f} {t_raw * 1000:>13.1f} "
            f"{e2e:>7.4f} ms {per:>12.4f} ms {cpu:>22.4f} ms"
        )
    print("e2e/chunk: whole client time per chunk (socket + SSE + JSON + normalize)")
    print("overhead/chunk: provider minus bare httpx line reading; target <= 0.2 ms per chunk")


if __name__ == "__main__":
    main()
