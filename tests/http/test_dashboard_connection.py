"""The dashboard's connection indicator tells the truth (Playwright + Debian chromium at 390×844
and desktop, real agentd, scripted model): on the page of a run that waits for an approval it
says "connected" with the last event's time (never "idle"); when agentd stops it says so; a page
with nothing live (a finished run) still notices. The event stream asks proxies not to
transform it: code-server's /proxy/<port>/ gzips text/* otherwise and holds every event back
(tests/vscode proves it through the real proxy)."""

from __future__ import annotations

import httpx
import pytest

from tests.http import test_dashboard as dash
from tests.http.test_dashboard import TOKEN, login, start_run, wait_pending
from tests.http.test_dashboard_clarity import failed_run

browser = dash.browser
daemon = dash.daemon

pytestmark = pytest.mark.asyncio(loop_scope="module")

# every state the indicator takes, recorded in the page from its first paint
RECORD = """
new MutationObserver(() => {}).observe(document, {childList: true});
document.addEventListener("DOMContentLoaded", () => {
  const conn = document.getElementById("conn");
  window.__states = [conn.dataset.state];
  new MutationObserver(() => window.__states.push(conn.dataset.state))
    .observe(conn, {attributes: true, attributeFilter: ["data-state"]});
});
"""


@pytest.mark.parametrize("viewport", [(390, 844), (1280, 800)])
async def test_a_run_waiting_for_approval_says_connected_then_offline(
    daemon, browser, workspace, tmp_path, viewport
):
    run_id = start_run(daemon, workspace, tmp_path)
    wait_pending(daemon, run_id)
    ctx = await browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    await ctx.add_init_script(RECORD)
    page = await ctx.new_page()
    await login(page, daemon.url)
    await page.goto(f"{daemon.url}/#/runs/{run_id}")  # as "Open dashboard" lands
    await page.wait_for_selector("#run-status[data-status='waiting_approval']")
    await page.wait_for_selector("ol.steps li")  # the plan arrived by the stream
    await page.wait_for_selector("#conn[data-state='connected']")
    text = await page.inner_text("#conn")
    assert text.startswith("connected · last event "), text
    await page.screenshot(path=str(tmp_path / f"waiting-{viewport[0]}.png"))
    daemon.stop()
    await page.wait_for_selector("#conn[data-state='offline']", timeout=20_000)
    states = await page.evaluate("window.__states")
    assert "idle" not in states, states
    # (the list after login came first: the run page's stream starts at "connecting")
    opened = len(states) - 1 - states[::-1].index("connecting")
    assert "connected" in states[opened:], states
    assert "reconnecting" in states[opened:], states
    await ctx.close()


async def test_a_finished_run_page_still_notices_the_server_stop(
    daemon, browser, workspace, tmp_path
):
    run_id = failed_run(daemon, workspace, tmp_path)
    ctx = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await ctx.new_page()
    await login(page, daemon.url)
    await page.goto(f"{daemon.url}/#/runs/{run_id}")
    await page.wait_for_selector("#run-status[data-status='failed']")
    await page.wait_for_selector("#conn[data-state='connected']")  # stream over, server checked
    daemon.stop()
    await page.wait_for_selector("#conn[data-state='offline']", timeout=15_000)
    await ctx.close()


async def test_the_event_stream_tells_proxies_not_to_transform_or_buffer_it(
    daemon, workspace, tmp_path
):
    run_id = failed_run(daemon, workspace, tmp_path)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=daemon.url, headers=headers, timeout=20) as c:
        async with c.stream("GET", f"/v1/runs/{run_id}/events") as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            assert r.headers["cache-control"] == "no-store, no-transform"
            assert r.headers["x-accel-buffering"] == "no"
