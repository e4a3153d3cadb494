"""The dashboard on a phone, 360×740 and 390×844 (Playwright + Debian chromium, a real agentd, the
fake OpenAI server as `openai:fake-model` from HARNESS_MODEL): nothing is clipped (tabs, the
connection status), the header icons are SVG, no label is repeated ("model (model (…))", "tokens
tokens n/a"), output cards name their file or command, sessions are listed by their first
message and where they were started, a run's outcome sits under its badge, and the Approvals tab
says "connected" from its own answer (no "connecting" until the next health poll).

Set HARNESS_DOCS_SCREENSHOTS=1 to refresh docs/img/phone-*.png (docs/remote-cockpit.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from harness_ls.testing.fake_models import FakeOpenAIServer
from tests.http import test_dashboard as dash
from tests.http.conftest import DONE, PLAN, script
from tests.http.test_dashboard import Daemon, login

browser = dash.browser  # one chromium for the module (tests/http/test_dashboard.py)
pytestmark = pytest.mark.asyncio(loop_scope="module")

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
VIEWPORTS = [(360, 740), (390, 844)]


def repo(root: Path, name: str) -> Path:
    ws = root / name
    (ws / "specs" / "greet").mkdir(parents=True)
    (ws / "specs" / "greet" / "spec.md").write_text(
        "# Goal\n\nMake greet.txt say hello instead of hi.\n\n# Constraints / nuances\n\n"
        "- Only touch greet.txt.\n\n# Acceptance tests\n\n- `grep -qx hello greet.txt`\n"
    )
    (ws / "greet.txt").write_text("hi\n")
    for args in (["init", "-q"], ["add", "-A"]):
        subprocess.run(["git", "-C", str(ws), *args], check=True)
    subprocess.run(["git", "-C", str(ws), "-c", "user.email=t@example.com", "-c", "user.name=t",
                    "commit", "-qm", "init"], check=True)  # fmt: skip
    return ws


def approve_until_done(c, run_id: str, within: float = 90) -> None:
    """Approve whatever the run asks (the write) until it completes."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for a in c.get("/v1/approvals").json():
            if a["run_id"] == run_id:
                c.post(f"/v1/runs/{run_id}/approvals/{a['id']}", json={"decision": "approve"})
        status = c.get(f"/v1/runs/{run_id}").json()["status"]
        if status in ("completed", "failed", "cancelled", "interrupted"):
            assert status == "completed", status
            return
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


def wait(c, path: str, ok, within: float = 60) -> dict:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        doc = c.get(path).json()
        if ok(doc):
            return doc
        time.sleep(0.1)
    raise AssertionError(f"timed out on {path}")


@pytest.fixture(scope="module")
def cockpit(tmp_path_factory):
    """agentd with: a completed run (fake model, no usage reported, a write and a command), a
    failed run, a run waiting for approval, and sessions started from four surfaces."""
    tmp = tmp_path_factory.mktemp("phone")
    fake = FakeOpenAIServer(default={"text": "Nothing to add.", "no_usage": True})
    fake.start()
    fake.push(
        {**PLAN, "no_usage": True},
        {"tool_calls": [{"name": "write_file", "arguments": {"path": "greet.txt",
                                                             "content": "hello\n"}}], "no_usage": True},
        {"tool_calls": [{"name": "shell", "arguments": {"command": "grep -c hello greet.txt"}}],
         "no_usage": True},
        {"text": "Wrote greet.txt and checked it.", "no_usage": True},
    )  # fmt: skip
    d = Daemon(tmp, env={"OPENAI_BASE_URL": fake.base_url, "HARNESS_MODEL": "openai:fake-model"})
    d.start()
    ids: dict[str, str] = {}
    with d.api() as c:
        done = c.post("/v1/runs", json={"workspace": str(repo(tmp, "done")),
                                        "spec": "specs/greet/spec.md"}).json()  # fmt: skip
        ids["done"] = done["id"]
        approve_until_done(c, done["id"])
        failed = c.post("/v1/runs", json={"workspace": str(repo(tmp, "failed")),
                                          "spec": "specs/greet/spec.md",
                                          "model": script(tmp, PLAN, *[DONE] * 8)}).json()  # fmt: skip
        ids["failed"] = failed["id"]
        wait(c, f"/v1/runs/{failed['id']}", lambda m: m["status"] == "failed")
        waiting = c.post("/v1/runs", json={"workspace": str(repo(tmp, "waiting")),
                                           "spec": "specs/greet/spec.md",
                                           "model": script(tmp, PLAN, {"tool_calls": [
                                               {"name": "write_file", "arguments": {
                                                   "path": "greet.txt", "content": "hello\n"}}]},
                                               DONE, DONE)}).json()  # fmt: skip
        ids["waiting"] = waiting["id"]
        wait(c, "/v1/approvals", lambda a: any(x["run_id"] == waiting["id"] for x in a))
        ws = repo(tmp, "chat")
        for surface, text in (("acp", "Why does the login test fail on CI?"),
                              ("cli", "Summarise src/app.py"), ("editor", "Rename the helper"),
                              ("dashboard", "What changed since yesterday?")):  # fmt: skip
            s = c.post("/v1/sessions", json={"workspace": str(ws), "model": script(tmp, DONE)},
                       headers={"x-harness-surface": surface}).json()  # fmt: skip
            ids[surface] = s["id"]
            c.post(f"/v1/sessions/{s['id']}/messages", json={"text": text + "\nmore detail"},
                   headers={"x-harness-surface": surface})  # fmt: skip
            wait(c, f"/v1/sessions/{s['id']}", lambda m: m["status"] == "idle" and m["title"])
    yield {"daemon": d, "ids": ids}
    d.stop()
    fake.stop()


CLIPPED = """(w) => {
  // every tab, the status and the header buttons: whole, on screen, not cut by a scrolling or
  // clipping ancestor (the nav used to scroll sideways: "Sess", "Approva")
  const out = [];
  for (const e of document.querySelectorAll('.bar nav a, .bar nav .badge:not([hidden]), #conn, .bar button')) {
    const r = e.getBoundingClientRect();
    let bad = e.scrollWidth > e.clientWidth + 1 || r.right > w + 0.5 || r.left < -0.5;
    for (let p = e.parentElement; p && !bad; p = p.parentElement) {
      const cs = getComputedStyle(p);
      if (cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
      const pr = p.getBoundingClientRect();
      bad = r.left < pr.left - 0.5 || r.right > pr.right + 0.5 || r.top < pr.top - 0.5 || r.bottom > pr.bottom + 0.5;
    }
    if (bad) out.push((e.id || e.textContent.trim()) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
  }
  return out;
}"""


async def fits(page, width: int) -> None:
    """No horizontal scroll; no tab, status or header button cut or outside the screen."""
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    cut = await page.evaluate(CLIPPED, width)
    assert cut == [], cut


async def shot(page, name: str, tmp: Path) -> None:
    await page.wait_for_timeout(300)
    path = tmp / f"{name}.png"
    await page.screenshot(path=str(path))
    if os.environ.get("HARNESS_DOCS_SCREENSHOTS") == "1":
        shutil.copy(path, DOCS_IMG / f"{name}.png")


@pytest.mark.parametrize("viewport", VIEWPORTS)
async def test_phone_cockpit_fits_and_says_each_thing_once(cockpit, browser, viewport, tmp_path):
    d: Daemon = cockpit["daemon"]
    ids = cockpit["ids"]
    w, hgt = viewport
    ctx = await browser.new_context(viewport={"width": w, "height": hgt}, device_scale_factor=2,
                                    is_mobile=True, has_touch=True)  # fmt: skip
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await login(page, d.url)
    tag = f"{w}x{hgt}"

    # runs: the failed one says why, under its badge; the header fits
    await page.wait_for_selector(f"[data-run-id='{ids['failed']}'] .outcome")
    await page.wait_for_selector("#conn[data-state='connected']")
    await page.wait_for_selector("#approval-count:not([hidden])")
    await fits(page, w)
    assert await page.locator(".bar button svg").count() == 2  # SVG icons, not font glyphs
    await shot(page, f"phone-runs-{tag}", tmp_path)

    # a finished run: outcome under the badge, model once, tokens once, cards name their target
    await page.goto(f"{d.url}/#/runs/{ids['done']}")
    await page.wait_for_selector("#run-status[data-status='completed']")
    await page.wait_for_selector(".tool", state="attached")
    await fits(page, w)
    model = await page.inner_text("#run-model")
    assert model.count("openai:fake-model") == 1 and "HARNESS_MODEL" in model, model
    tokens = await page.inner_text("#run-tokens")
    assert "tokens" not in tokens and "n/a" in tokens, tokens
    head = await page.inner_text("#view")
    assert "tokens tokens" not in " ".join(head.split())
    summaries = await page.locator(".tool summary").all_inner_texts()
    assert any("write_file" in s and "greet.txt" in s for s in summaries), summaries
    assert any("shell" in s and "$ grep -c hello greet.txt" in s for s in summaries), summaries
    status = await page.locator("#run-status").bounding_box()
    outcome_el = page.locator("#run-outcome")
    if await outcome_el.count():
        box = await outcome_el.bounding_box()
        assert box["y"] >= status["y"] + status["height"] - 1 and box["width"] > 0.8 * (w - 24)
    await shot(page, f"phone-run-{tag}", tmp_path)

    # the failed run: its reason is a paragraph under the badge, the width of the page
    await page.goto(f"{d.url}/#/runs/{ids['failed']}")
    await page.wait_for_selector("#run-status[data-status='failed']")
    await page.wait_for_selector("#run-outcome")  # drawn with the status; wait for both
    status = await page.locator("#run-status").bounding_box()
    box = await page.locator("#run-outcome").bounding_box()
    assert box["y"] >= status["y"] + status["height"] - 1 and box["width"] > 0.8 * (w - 24), box
    assert "acceptance tests failed" in await page.inner_text("#run-outcome")
    await fits(page, w)

    # a run waiting for approval: its stream stays open, the status says when the last event
    # came — whole, on its own line
    await page.goto(f"{d.url}/#/runs/{ids['waiting']}")
    await page.wait_for_selector("#conn:has-text('last event')")
    await page.wait_for_selector("button.approve")
    await fits(page, w)
    await shot(page, f"phone-run-waiting-{tag}", tmp_path)

    # sessions: first message and surface, never a bare id
    await page.goto(f"{d.url}/#/sessions")
    await page.wait_for_selector("[data-session-id]")
    await fits(page, w)
    for surface, label, first in (("acp", "ACP", "Why does the login test fail on CI?"),
                                  ("cli", "CLI", "Summarise src/app.py"),
                                  ("editor", "editor", "Rename the helper"),
                                  ("dashboard", "dashboard", "What changed since yesterday?")):  # fmt: skip
        row = page.locator(f"[data-session-id='{ids[surface]}']")
        assert await row.get_attribute("data-surface") == surface
        text = await row.inner_text()
        assert first in text and label in text and "more detail" not in text, text
    await shot(page, f"phone-sessions-{tag}", tmp_path)

    # approvals: "connected" comes from the tab's own answer, not the 5 s health poll (timers
    # frozen: only the view's request can set it)
    await page.goto(f"{d.url}/#/")
    await page.wait_for_selector("#conn[data-state='connected']")
    await page.clock.install()
    await page.evaluate("document.getElementById('conn').dataset.state = 'stale'")
    await page.click("[data-nav='approvals']")
    await page.wait_for_selector(".approval button.approve[data-approval]")
    await page.wait_for_selector("#conn[data-state='connected']", timeout=5_000)
    await fits(page, w)
    await shot(page, f"phone-approvals-{tag}", tmp_path)
    assert errors == [], errors
    await ctx.close()
