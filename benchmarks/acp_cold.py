"""`agentctl acp` as an editor starts it: spawn → `initialize` answered, and spawn → `session/new`
answered, cold (no daemon: the core starts in the agentctl process) and over a running agentd
(found through its endpoint file). Medians of N alternating starts, with the `acp` package's
client side as the editor.

    python benchmarks/acp_cold.py [-n 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from acp import spawn_agent_process

AGENTCTL = [sys.executable, "-m", "harness_ls.cli.agentctl"]
AGENTD = [sys.executable, "-m", "harness_ls.http.agentd"]


class Quiet:
    async def request_permission(self, *_a, **_k):  # never asked here
        raise RuntimeError("no permission expected")

    async def session_update(self, *_a, **_k) -> None:
        return None


async def one(env: dict[str, str], cwd: Path) -> tuple[float, float]:
    t0 = time.perf_counter()
    async with spawn_agent_process(lambda _a: Quiet(), *AGENTCTL, "acp", env=env,
                                   cwd=str(cwd)) as (conn, _proc):  # fmt: skip
        await conn.initialize(protocol_version=1)
        t_init = time.perf_counter() - t0
        await conn.new_session(cwd=str(cwd), mcp_servers=[])
        t_new = time.perf_counter() - t0
    return t_init * 1000, t_new * 1000


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-n", type=int, default=5)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ws = root / "ws"
        ws.mkdir()
        base = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
        cold_env = {**base, "HOME": str(root / "home"), "HARNESS_DATA_DIR": str(root / "cold")}
        warm_env = {**base, "HOME": str(root / "home"), "HARNESS_DATA_DIR": str(root / "warm")}
        agentd = subprocess.Popen([*AGENTD, "--listen", "127.0.0.1:0"], env=warm_env, cwd=root,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        try:
            assert agentd.stdout is not None and "dashboard at" in agentd.stdout.readline()
            cold: list[tuple[float, float]] = []
            warm: list[tuple[float, float]] = []
            for _ in range(args.n):  # alternating, so load changes hit both alike
                cold.append(asyncio.run(one(cold_env, ws)))
                warm.append(asyncio.run(one(warm_env, ws)))
        finally:
            agentd.terminate()
            agentd.wait(10)
    for name, runs in (("cold (in-process core)", cold), ("agentd running", warm)):
        init = statistics.median(r[0] for r in runs)
        new = statistics.median(r[1] for r in runs)
        print(f"{name:24} spawn→initialize {init:6.0f} ms   spawn→session/new {new:6.0f} ms"
              f"   (median of {len(runs)})")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
