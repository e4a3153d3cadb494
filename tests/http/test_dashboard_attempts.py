"""The dashboard's side of parallel attempts (no Ray: local checkouts run by agentd): a run page
says which attempt it is and where it ran, and its button applies it to the work tree."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.http.conftest import DOCS, DONE, PLAN, script
from tests.http.test_dashboard import TOKEN, browser, daemon, login  # noqa: F401 - fixtures

pytestmark = pytest.mark.asyncio(loop_scope="module")


def write(content: str) -> dict:
    return {
        "tool_calls": [
            {"name": "write_file", "arguments": {"path": "greet.txt", "content": content}}
        ]
    }


async def test_run_page_shows_the_attempt_and_applies_it(daemon, browser, workspace, tmp_path):  # noqa: F811
    (daemon.data / "policy.toml").write_text('mode = "auto-edit"\n')
    models = [script(tmp_path, PLAN, write(t), DONE, DOCS) for t in ("helo\n", "hello\n")]
    with daemon.api() as c:
        r = c.post("/v1/attempts", json={"workspace": str(workspace), "spec": "specs/greet/spec.md",
                                          "count": 2, "models": models})  # fmt: skip
        assert r.status_code == 201, r.text
        gid = r.json()["group"]["id"]
        deadline = time.monotonic() + 120
        while not (view := c.get(f"/v1/attempts/{gid}").json())["done"]:
            assert time.monotonic() < deadline, view
            await asyncio.sleep(0.3)
    assert [row["passed"] for row in view["rows"]] == [False, True]
    run_id = view["rows"][1]["run_id"]
    ctx = await browser.new_context()
    page = await ctx.new_page()
    await login(page, daemon.url)
    await page.goto(f"{daemon.url}/#/runs/{run_id}")
    await page.wait_for_selector("#run-node")
    assert await page.text_content("#run-node") == "local (in agentd)"
    assert "2 of 2" in await page.text_content("dd:has(#attempt-apply)")
    assert (workspace / "greet.txt").read_text() == "hi\n"
    await page.click("#attempt-apply")
    await page.wait_for_selector("text=applied 1 file(s)")
    assert (workspace / "greet.txt").read_text() == "hello\n"
    with daemon.api() as c:
        assert c.get(f"/v1/attempts/{gid}").json()["group"]["applied"] == 2
    await ctx.close()
