"""Dashboard first paint over loopback with 1,000 runs in the data dir (target ≤ 300 ms, issue 20).

The server (a real Harness holding `--runs` runs, the app under uvicorn, no auth token) runs in a
child process (benchmarks/http_list.py's `serve`); Debian chromium (Playwright) loads `/` `--loads`
times in fresh pages and reports, from navigation start: first contentful paint, and the run list
painted (the first `[data-run-id]` row in the DOM, then the next animation frame). The list shows
the newest 100 runs (`GET v1/runs?limit=100`), as the page does.

    .venv/bin/python benchmarks/dashboard_paint.py [--runs 1000] [--loads 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WATCH = """
new MutationObserver((_, obs) => {
  if (document.querySelector('[data-run-id]')) {
    obs.disconnect();
    requestAnimationFrame(() => { window.__listPaint = performance.now(); });
  }
}).observe(document, { childList: true, subtree: true });
"""


async def measure(url: str, loads: int) -> tuple[list[float], list[float], int]:
    from playwright.async_api import async_playwright

    fcp, listed, rows = [], [], 0
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--disable-dev-shm-usage", "--disable-gpu"]
        )
        ctx = await browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
        await ctx.add_init_script(WATCH)
        for i in range(loads + 1):  # the first load warms the HTTP cache and the server
            page = await ctx.new_page()
            await page.goto(url + "/")
            await page.wait_for_function("window.__listPaint !== undefined", timeout=30_000)
            t_list = await page.evaluate("window.__listPaint")
            t_fcp = await page.evaluate(
                "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || 0"
            )
            rows = await page.locator("[data-run-id]").count()
            if i:
                listed.append(t_list)
                fcp.append(t_fcp)
            await page.close()
        await browser.close()
    return fcp, listed, rows


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--loads", type=int, default=20)
    args = ap.parse_args()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "http_list.py"), "--serve", "--runs", str(args.runs)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = json.loads(proc.stdout.readline())["url"]
        fcp, listed, rows = asyncio.run(measure(url, args.loads))
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(30)
    print(
        f"dashboard at 390x844, {args.runs} runs in the data dir ({rows} rows listed), {args.loads} loads"
    )
    print(
        f"first contentful paint: p50 {statistics.median(fcp):.0f} ms, p95 {pct(fcp, 0.95):.0f} ms"
    )
    print(
        f"run list painted:       p50 {statistics.median(listed):.0f} ms, p95 {pct(listed, 0.95):.0f} ms, "
        f"max {max(listed):.0f} ms  (target ≤ 300 ms)"
    )


if __name__ == "__main__":
    main()
