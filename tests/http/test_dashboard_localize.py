"""The dashboard says why a run kept the plain ranking when its model's localization answer was
unusable (Playwright + Debian chromium, real agentd, scripted model, a real git repo)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness_ls.testing.shop import SPEC_PATH, make_shop
from tests.http import test_dashboard as dash
from tests.http.conftest import DONE, PLAN, script
from tests.http.test_dashboard import login

browser = dash.browser  # the fixtures of the dashboard tests: one chromium, a real agentd
daemon = dash.daemon

pytestmark = pytest.mark.asyncio(loop_scope="module")


def finished_run(daemon: dash.Daemon, tmp_path: Path) -> str:
    """A run in the localization scenario whose model answers prose to the localization ask."""
    shop = make_shop(tmp_path / "shop")
    model = script(tmp_path, {"text": "I think ledger, maybe?"}, PLAN, *[DONE] * 8)
    with daemon.api() as c:
        r = c.post("/v1/runs", json={"workspace": str(shop), "spec": SPEC_PATH, "model": model})
        assert r.status_code == 201, r.text
        run_id = r.json()["id"]
        for _ in range(300):
            if c.get(f"/v1/runs/{run_id}").json()["status"] in ("completed", "failed"):
                return run_id
            time.sleep(0.1)
    raise AssertionError("the run did not finish")


async def test_run_page_shows_why_localization_fell_back(daemon, browser, tmp_path):
    run_id = finished_run(daemon, tmp_path)
    ctx = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await ctx.new_page()
    await login(page, daemon.url)
    await page.goto(f"{daemon.url}/#/runs/{run_id}")
    await page.wait_for_selector("#run-status[data-status='completed']")
    note = "localization: the answer has no JSON list; using the plain ranking"
    await page.get_by_text(note).wait_for()
    await ctx.close()
