"""What the localization pass (agent/localize.py) adds to a run's context, apart from the model.

Usage: python benchmarks/context_localize.py [--repo PATH] [--task TEXT] [--rounds 5]

On a git repo (default: this checkout), with the fake OpenAI server on 127.0.0.1 answering at
once (the pick is the 20th file of the map, a file the ranking left without an excerpt), it
times, warm (tag cache filled): the plain context a run builds (4000 tokens), the localization
pass (its 3000-token map without excerpts, the prompt, the request, the parse) and the context
built with the pick preferred; and prints the prompt's size, so the pass's cost in tokens is
known too. The model's own latency is what a real model adds on top.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness_ls.agent import localize
from harness_ls.context import build_context, count_tokens
from harness_ls.models import resolve
from harness_ls.testing.fake_models import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[1]
TASK = "Make the approval broker answer a second approval with a clear already-answered error"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, default=REPO)
    ap.add_argument("--task", default=TASK)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-localize-"))
    try:
        return run(a, data)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def run(a: argparse.Namespace, data: Path) -> int:
    ws = a.repo.resolve()
    build_context(ws, a.task, 4000, data_dir=data)  # fill the tag cache
    shown = build_context(ws, a.task, localize.MAP_TOKENS, data_dir=data, excerpts=False)
    pick = shown.files[min(19, len(shown.files) - 1)]
    plain, passes, preferred = [], [], []
    with FakeOpenAIServer(default={"text": json.dumps([pick])}) as srv:
        os.environ["OPENAI_BASE_URL"] = srv.base_url
        resolved = resolve("run", {"tools"}, "openai:gpt-4.1", workspace=ws)
        for _ in range(a.rounds):
            t0 = time.perf_counter()
            base = build_context(ws, a.task, 4000, data_dir=data)
            t1 = time.perf_counter()
            loc = asyncio.run(localize.localize(resolved, ws, a.task, data, []))
            t2 = time.perf_counter()
            res = build_context(ws, a.task, 4000, data_dir=data, prefer=loc.picked if loc else [])
            t3 = time.perf_counter()
            plain.append(t1 - t0)
            passes.append(t2 - t1)
            preferred.append(t3 - t2)
        prompt = srv.requests[-1]["messages"][0]["content"]
    ms = lambda xs: f"{statistics.median(xs) * 1000:.0f} ms"  # noqa: E731
    print(f"repo {ws} ({shown.stats.get('files_indexed', 0):.0f} files), {a.rounds} rounds, median")
    print(f"  plain context (4000 tokens)          {ms(plain)}")
    print(f"  localization pass (fake model)       {ms(passes)}")
    print(f"  context with the pick preferred      {ms(preferred)}")
    print(f"  prompt {count_tokens(prompt)} tokens, {len(shown.files)} files shown to the model")
    print(f"  pick {pick}: excerpt before {pick in base.excerpt_files}, "
          f"after {pick in res.excerpt_files}; tokens {res.tokens}/4000")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
