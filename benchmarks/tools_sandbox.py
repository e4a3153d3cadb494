"""Sandbox start-up overhead per shell call (issue 17/31 target: ≤ 15 ms p95).

Runs `true` through the real shell tool N times bare (sandbox = "off") and N times under
bubblewrap (workspace-write, no network), interleaved so machine noise hits both alike, and prints
p50/p95 of each and of the difference. The workspace is a git repository with `.harness/`, three
secret files to mask and 300 directories, so the per-call work of issue 31 (the cached secret-file
scan, the `.git`/`.harness` read-only binds, the masks, the socket list) is in the figure. Also:
bubblewrap with `network = true` (a Landlock scope helper in front), bwrap itself against a bare
`bash -c true`, the Landlock fallback (a Python helper process, plus the .git/.harness guard), and
the secret-file scan's revalidation alone on a 3,000-directory tree.

Usage: .venv/bin/python benchmarks/tools_sandbox.py [N]
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness_ls.tools import TOOLS, ToolContext, sandbox, wsscan


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def report(name: str, values: list[float]) -> None:
    print(f"{name:<44} n={len(values):<4} p50={pct(values, 50):6.2f} ms  "
          f"p95={pct(values, 95):6.2f} ms  max={max(values):6.2f} ms")  # fmt: skip


def workspace(root: Path, dirs: int) -> Path:
    ws = root / "ws"
    ws.mkdir()
    subprocess.run(["git", "init", "-q", str(ws)], check=True)
    (ws / ".harness").mkdir()
    (ws / ".harness" / "policy.toml").write_text('mode = "ask"\n')
    for rel in (".env", "app/.env.local", "deploy/id_ed25519"):
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text("API_TOKEN=tok-0123456789abcdef0123\n")
    for i in range(dirs):
        d = ws / f"pkg{i % 30}" / f"mod{i}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "a.py").write_text("x = 1\n")
    return ws


def scan_cost(root: Path, n: int) -> None:
    big = root / "big"
    for i in range(3000):
        (big / f"d{i % 50}" / f"e{i}").mkdir(parents=True, exist_ok=True)
    time.sleep(wsscan.RACY_NS / 1e9 + 0.2)  # a tree just made is "racy": re-listed each call
    wsscan.scan(big)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        wsscan.scan(big)
        times.append((time.perf_counter() - t) * 1000)
    report("secret-file scan revalidation, 3,050 dirs", times)


async def tool_calls(ws: Path, data: Path, n: int, label: str, **settings) -> None:
    shell = TOOLS["shell"]
    bare = ToolContext(workspace=ws, data_dir=data, extra={"sandbox": sandbox.Settings("off")})
    boxed = ToolContext(
        workspace=ws, data_dir=data, extra={"sandbox": sandbox.Settings(**settings)}
    )
    times: dict[str, list[float]] = {"bare": [], "boxed": []}
    for _ in range(5):  # warm-up
        await shell.run(bare, {"command": "true"})
        await shell.run(boxed, {"command": "true"})
    for _ in range(n):
        for name, ctx in (("bare", bare), ("boxed", boxed)):
            t = time.perf_counter()
            r = await shell.run(ctx, {"command": "true"})
            times[name].append((time.perf_counter() - t) * 1000)
            assert r.ok, r.output
    report("shell tool, `true`, bare", times["bare"])
    report(f"shell tool, `true`, {label}", times["boxed"])
    report(
        f"{label} overhead (paired difference)",
        [b - a for a, b in zip(times["bare"], times["boxed"], strict=True)],
    )


def raw_spawn(ws: Path, n: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    argv = sandbox.wrap(
        ["bash", "-c", "true"], workspace=ws, tmpdir=tmp, settings=sandbox.Settings()
    )
    times: dict[str, list[float]] = {"bash": [], "bwrap": []}
    for _ in range(n):
        for name, cmd in (("bash", ["bash", "-c", "true"]), ("bwrap", argv)):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, env={"PATH": "/usr/bin:/bin"})
            times[name].append((time.perf_counter() - t) * 1000)
    report("subprocess bash -c true", times["bash"])
    report("subprocess bwrap ... bash -c true", times["bwrap"])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    if sandbox.kind() == "none":
        print(f"no sandbox here: {sandbox.availability()[1]}")
        return
    with tempfile.TemporaryDirectory() as root:
        ws, data = workspace(Path(root), 300), Path(root) / "data"
        data.mkdir()
        time.sleep(wsscan.RACY_NS / 1e9 + 0.2)  # as a repository is: not created this second
        if sandbox.bwrap():
            asyncio.run(tool_calls(ws, data, n, "bubblewrap"))
            raw_spawn(ws, n)
            if sandbox.landlock() >= 6:
                asyncio.run(tool_calls(ws, data, n // 2, "bubblewrap, network on", network=True))
        if sandbox.landlock():
            sandbox.bwrap = lambda: None  # type: ignore[assignment] - measure the fallback too
            asyncio.run(tool_calls(ws, data, n // 2, "Landlock fallback"))
        scan_cost(Path(root), n)


if __name__ == "__main__":
    main()
