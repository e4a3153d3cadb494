"""The dashboard shows a resumed run's finished plan steps as done (issue 32, item 3): agentd is
stopped while the second step waits for its approval, started again, the run resumed and
finished; the page (Debian's chromium through Playwright) marks every plan step ✓ — the resumed
plan says "done" where live steps say "completed", and both are the same mark."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.helpers import start_fake
from tests.http.test_dashboard import TOKEN, Daemon, browser, wait_pending  # noqa: F401 - fixture

pytestmark = pytest.mark.asyncio(loop_scope="module")
PLAN2 = {"text": '{"steps": [{"title": "Say hello"}, {"title": "Write b.txt"}]}'}


def write(path: str, content: str) -> dict:
    return {"tool_calls": [{"name": "write_file", "arguments": {"path": path, "content": content}}]}


async def test_a_resumed_runs_done_steps_show_as_done(browser, workspace, tmp_path):  # noqa: F811
    fake = start_fake(
        tmp_path, PLAN2, write("greet.txt", "hello\n"), {"text": "said"},
        write("b.txt", "b\n"), {"text": "wrote b"}, {"text": "No docs."},
    )  # fmt: skip
    daemon = Daemon(tmp_path, env={"OPENAI_BASE_URL": fake.url})
    daemon.start()
    try:
        with daemon.api() as c:
            body = {"workspace": str(workspace), "spec": "specs/greet/spec.md",
                    "model": "openai:gpt-4.1-mini"}  # fmt: skip
            rid = c.post("/v1/runs", json=body).json()["id"]
            first = wait_pending(daemon, rid)
            c.post(f"/v1/runs/{rid}/approvals/{first['id']}", json={"decision": "approve"})
            deadline = time.monotonic() + 30
            while not any(a["id"] != first["id"] for a in c.get("/v1/approvals").json()):
                assert time.monotonic() < deadline, "no second approval"
                await asyncio.sleep(0.1)
        daemon.stop()  # interrupted while step 2 waits
        daemon.start()
        with daemon.api() as c:
            assert c.get(f"/v1/runs/{rid}").json()["status"] == "interrupted"
            assert c.post("/v1/runs", json={**body, "resume": rid}).status_code == 201
            second = wait_pending(daemon, rid)
            c.post(f"/v1/runs/{rid}/approvals/{second['id']}", json={"decision": "approve"})
            deadline = time.monotonic() + 60
            while c.get(f"/v1/runs/{rid}").json()["status"] != "completed":
                assert time.monotonic() < deadline, c.get(f"/v1/runs/{rid}").json()
                await asyncio.sleep(0.1)
        ctx = await browser.new_context(viewport={"width": 390, "height": 844})
        page = await ctx.new_page()
        await page.goto(f"{daemon.url}/#/runs/{rid}")
        await page.wait_for_url(lambda u: "/login" in u)
        await page.fill("#token", TOKEN)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#run-status[data-status='completed']", timeout=30_000)
        marks = await page.locator("ol.steps li").evaluate_all(
            "(els) => els.map((e) => e.dataset.status)"
        )
        assert marks == ["completed", "completed"], marks
        await ctx.close()
    finally:
        daemon.stop()
        fake.stop()
