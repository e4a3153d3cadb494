"""The dashboard in Debian's chromium (Playwright): log in, watch a run, approve, survive a restart.

agentd runs as a real subprocess with a token; runs use the scripted model, so nothing leaves
loopback. Needs Debian chromium (scripts/install-system-deps.sh): a skip on a bare `pytest`, a
failure under CI=true or `make test`.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright import async_api as playwright

from tests.conftest import require_tool
from tests.http.conftest import DOCS, DONE, PLAN, WRITE, script
from tests.http.test_agentd import AGENTD, clean_env, wait_url

TOKEN = "dashboard-token-0123456789abcdef"
pytestmark = pytest.mark.asyncio(loop_scope="module")  # one browser for the module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """agentd on a fixed port so it can be restarted under an open page."""

    def __init__(self, tmp_path: Path, env: dict[str, str] | None = None) -> None:
        self.tmp = tmp_path
        self.env = env or {}  # extra environment, e.g. OPENAI_BASE_URL of a fake model server
        self.port = free_port()
        self.data = tmp_path / "data"
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> None:
        env = clean_env(self.tmp, HARNESS_AUTH_TOKEN=TOKEN, **self.env)
        self.proc = subprocess.Popen(
            [*AGENTD, "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(self.data)],
            cwd=self.tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.url = wait_url(self.proc)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=20
        )


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path)
    d.start()
    yield d
    d.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser():
    chromium = require_tool("chromium")  # Debian's: Playwright cannot download its own here
    async with playwright.async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=chromium, args=["--disable-dev-shm-usage", "--disable-gpu"]
        )
        yield b
        await b.close()


def start_run(daemon: Daemon, workspace: Path, tmp_path: Path) -> str:
    model = script(tmp_path, PLAN, WRITE, DONE, DOCS)
    with daemon.api() as c:
        r = c.post(
            "/v1/runs",
            json={"workspace": str(workspace), "spec": "specs/greet/spec.md", "model": model},
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]


def wait_pending(daemon: Daemon, run_id: str, within: float = 20) -> dict:
    deadline = time.monotonic() + within
    with daemon.api() as c:
        while time.monotonic() < deadline:
            for a in c.get("/v1/approvals").json():
                if a["run_id"] == run_id:
                    return a
            time.sleep(0.1)
    raise AssertionError("no approval appeared")


async def login(page, url: str) -> None:
    await page.goto(url + "/")
    await page.wait_for_url("**/login*")
    await page.fill("#token", "wrong")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#failed:not([hidden])")
    await page.fill("#token", TOKEN)
    await page.click("button[type=submit]")
    await page.wait_for_selector("h1:has-text('Runs')")


async def test_login_watch_approve_finish_on_a_phone(daemon, browser, workspace, tmp_path):
    run_id = start_run(daemon, workspace, tmp_path)
    wait_pending(daemon, run_id)
    ctx = await browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                    is_mobile=True, has_touch=True)  # fmt: skip
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await login(page, daemon.url)
    cookies = await ctx.cookies()
    session = next(c for c in cookies if c["name"] == "harness_session")
    assert session["httpOnly"] and session["sameSite"] == "Strict" and TOKEN not in session["value"]
    await page.click(f"[data-run-id='{run_id}'] a")
    await page.wait_for_selector(
        "#run-status [data-status='waiting_approval'], #run-status[data-status='waiting_approval']"
    )
    approve = page.locator("button.approve").first
    await approve.wait_for()
    # what will change is shown exactly: the diff of greet.txt
    card = page.locator(".approval").first
    assert "greet.txt" in await card.inner_text() and "+hello" in await card.inner_text()
    # 390 px: the approve and deny buttons are fully inside the viewport, no horizontal scroll
    shot = tmp_path / "phone.png"
    await page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    for sel in ("button.approve", "button.deny"):
        box = await page.locator(sel).first.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 40, (
            sel,
            box,
        )
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await approve.click()
    await page.wait_for_selector("#run-status[data-status='completed']", timeout=30_000)
    await page.wait_for_selector(".verify.ok")
    text = await page.inner_text("#view")
    assert "grep -qx hello greet.txt" in text and "Wrote greet.txt." in text
    with daemon.api() as c:
        evs = c.get(f"/v1/runs/{run_id}/events").text
        assert '"surface":"dashboard"' in evs  # recorded who answered
        assert c.get(f"/v1/runs/{run_id}").json()["status"] == "completed"
    # light/dark toggle flips the theme and persists it
    await page.click("#theme")
    theme = await page.evaluate("document.documentElement.dataset.theme")
    assert theme in ("dark", "light")
    # a link from another site (chat, e-mail): the Strict cookie is withheld on that first
    # navigation, so the login page notices the valid cookie itself and goes straight on
    link = f'<a id="go" href="{daemon.url}/#/runs/{run_id}">open</a>'
    await page.route(
        "http://chat.example/", lambda r: r.fulfill(body=link, content_type="text/html")
    )
    await page.goto("http://chat.example/")  # served by Playwright itself, never the network
    await page.click("#go")
    await page.wait_for_selector("#run-status[data-status='completed']", timeout=15_000)
    assert not [e for e in errors if "401" not in e], errors
    await ctx.close()


async def test_page_reconnects_and_resumes_after_agentd_restart(
    daemon, browser, workspace, tmp_path
):
    run_id = start_run(daemon, workspace, tmp_path)
    wait_pending(daemon, run_id)
    ctx = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await ctx.new_page()
    await page.goto(f"{daemon.url}/#/runs/{run_id}")  # a deep link survives the login detour
    await page.wait_for_url(lambda u: "/login" in u)
    await page.fill("#token", TOKEN)
    await page.click("button[type=submit]")
    await page.wait_for_selector("button.approve")
    await page.wait_for_selector("#conn[data-state='connected']")
    seen_before = int(await page.get_attribute("#view", "data-last-seq"))
    daemon.stop()  # the run is interrupted on shutdown, after the page's stream was closed
    # "reconnecting" lasts one retry delay (0.5 s) before a failed health check says "offline":
    # under load agentd may take longer than that to exit, so either state proves the page saw it
    await page.wait_for_selector(
        "#conn[data-state='reconnecting'], #conn[data-state='offline']", timeout=15_000
    )
    daemon.start()
    await page.wait_for_selector("#run-status[data-status='interrupted']", timeout=30_000)
    stored = [
        json.loads(line)
        for line in (daemon.data / "runs" / run_id / "events.ndjson").read_text().splitlines()
    ]
    last_seq = int(await page.get_attribute("#view", "data-last-seq"))
    assert last_seq == stored[-1]["seq"] > seen_before
    assert stored[-1]["type"] == "run.interrupted"
    # the pending card went away with the interruption and nothing was rendered twice
    assert await page.locator("button.approve").count() == 0
    assert await page.locator(".tool").count() == len(
        {e["call_id"] for e in stored if e["type"] == "tool.call"}
    )
    await ctx.close()


async def test_session_view_attach_send_and_stream_the_reply(daemon, browser, workspace, tmp_path):
    model = script(tmp_path, {"text": "Hello from the script."})
    with daemon.api() as c:
        s = c.post(
            "/v1/sessions", json={"workspace": str(workspace), "model": model, "title": "chat"}
        ).json()
    ctx = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await ctx.new_page()
    await login(page, daemon.url)
    await page.goto(f"{daemon.url}/#/sessions/{s['id']}")
    await page.wait_for_selector("#conn[data-state='connected']")
    note = tmp_path / "notes.txt"
    note.write_text("some notes")
    await page.set_input_files("input[type=file]", str(note))
    await page.wait_for_selector("text=attached notes.txt")
    await page.fill("textarea", "hi there")
    await page.click("#send")
    await page.wait_for_selector(".msg.user:has-text('hi there')")
    await page.wait_for_selector(
        ".msg.assistant:has-text('Hello from the script.')", timeout=30_000
    )
    log = daemon.data / "sessions" / s["id"] / "events.ndjson"
    evs = [json.loads(x) for x in log.read_text().splitlines()]
    user = next(e for e in evs if e["type"] == "user.message")
    assert user["data"]["refs"] and user["data"]["surface"] == "dashboard"
    await ctx.close()
