"""The dashboard says what happened (Playwright + Debian chromium, real agentd, scripted model):
a failed run shows its reason in the list and on its page, no stray `null`, plan steps go ✓,
the connection indicator tells the truth when agentd stops, and the page works under a path
prefix (code-server's /proxy/<port>/, reverse proxies)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.async_api import Error as PlaywrightError

from tests.http import test_dashboard as dash
from tests.http.conftest import DONE, PLAN, script
from tests.http.test_dashboard import TOKEN, Daemon, login

browser = dash.browser  # the fixtures of the dashboard tests: one chromium, a real agentd
daemon = dash.daemon

pytestmark = pytest.mark.asyncio(loop_scope="module")  # chromium via the browser fixture
REASON = "acceptance tests failed: 1 of 1 (`grep -qx hello greet.txt`: exit 1)"


def failed_run(daemon: Daemon, workspace: Path, tmp_path: Path) -> str:
    """A run whose model only talks: its plan step completes, the acceptance test fails."""
    model = script(tmp_path, PLAN, *[DONE] * 8)
    with daemon.api() as c:
        r = c.post(
            "/v1/runs",
            json={"workspace": str(workspace), "spec": "specs/greet/spec.md", "model": model},
        )
        assert r.status_code == 201, r.text
        run_id = r.json()["id"]
        c.post(f"/v1/runs/{run_id}/wait", params={"timeout": 30})
        for _ in range(300):
            if c.get(f"/v1/runs/{run_id}").json()["status"] == "failed":
                return run_id
            time.sleep(0.1)
    raise AssertionError("the run did not fail")


@pytest.mark.parametrize("viewport", [(390, 844), (1280, 800)])
async def test_failed_run_shows_why_and_steps_go_done(
    daemon, browser, workspace, tmp_path, viewport
):
    run_id = failed_run(daemon, workspace, tmp_path)
    ctx = await browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = await ctx.new_page()
    await login(page, daemon.url)
    row = page.locator(f"[data-run-id='{run_id}']")
    await row.wait_for()
    assert REASON in await row.inner_text()
    assert run_id.removeprefix("run_")[:8] in await row.inner_text()
    body = await page.inner_text("body")
    assert "null" not in body and "undefined" not in body
    await page.wait_for_selector("#conn[data-state='connected']")
    await row.locator("a").click()
    await page.wait_for_selector("#run-status[data-status='failed']")
    await page.wait_for_selector("ol.steps li[data-status='completed']", timeout=10_000)
    assert REASON in await page.inner_text("#view")
    marks = await page.locator("ol.steps .mark").all_inner_texts()
    assert marks == ["✓"], marks
    wide = await page.evaluate(
        """(w) => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > w)
        .map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""",
        viewport[0],
    )
    assert await page.evaluate("document.documentElement.scrollWidth") <= viewport[0], wide
    await page.screenshot(path=str(tmp_path / f"failed-{viewport[0]}.png"))
    await ctx.close()


async def test_connection_indicator_goes_offline_when_agentd_stops(daemon, browser, workspace):
    ctx = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await ctx.new_page()
    await login(page, daemon.url)
    await page.wait_for_selector("#conn[data-state='connected']")
    daemon.stop()
    await page.wait_for_selector("#conn[data-state='offline']", timeout=15_000)
    assert "offline" in await page.inner_text("#conn")
    await ctx.close()


async def test_dashboard_works_under_a_path_prefix(daemon, browser, workspace, tmp_path):
    """A prefix-stripping proxy (code-server's /proxy/<port>/), played by Playwright's router:
    every request under the prefix goes to agentd without it; anything else is a bug."""
    run_id = failed_run(daemon, workspace, tmp_path)
    prefix = "http://proxy.test/proxy/1234"
    outside: list[str] = []
    ctx = await browser.new_context(viewport={"width": 390, "height": 844})

    async def forward(route):
        url = route.request.url
        if not url.startswith(prefix + "/"):
            outside.append(url)
            await route.abort()
            return
        headers = {**route.request.headers, "authorization": f"Bearer {TOKEN}"}
        try:
            resp = await route.fetch(url=daemon.url + url.removeprefix(prefix), headers=headers)
            await route.fulfill(response=resp)
        except PlaywrightError:  # the page or context closed while a poll was in flight
            pass

    await ctx.route("http://proxy.test/**", forward)
    page = await ctx.new_page()
    await page.goto(f"{prefix}/#/runs/{run_id}")
    await page.wait_for_selector("#run-status[data-status='failed']", timeout=15_000)
    assert REASON in await page.inner_text("#run-outcome")
    color = await page.evaluate("getComputedStyle(document.body).fontFamily")
    assert color  # the stylesheet loaded through the prefix
    await page.goto(f"{prefix}/")
    await page.wait_for_selector(f"[data-run-id='{run_id}']")
    assert outside == [], outside
    await ctx.close()
