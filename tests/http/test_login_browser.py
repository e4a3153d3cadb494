"""Dashboard login in Debian's chromium (Playwright): the link agentd prints, logout, `next` fuzz.

agentd runs as a real subprocess with no token configured (it generates one); the browser only
ever sees the one-time link agentd printed on stderr.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import httpx
import pytest
import pytest_asyncio
from playwright import async_api as playwright

from harness_ls.http.auth import safe_next
from tests.conftest import require_tool
from tests.http.test_agentd import AGENTD, clean_env, wait_url

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Known open-redirect shapes, raw and encoded; the browser turns `\` into `/` and drops tab/LF.
TRICKY = [
    "/\\evil.example/", "/%09/evil.example/", "/%0a/evil.example/", "/\t/evil.example/",
    "//evil.example/", "///evil.example/", "/\\/evil.example/", "/%5C%5Cevil.example/",
    "/%2F%2Fevil.example/", "/%2F/evil.example", "https://evil.example/", "http:evil.example",
    "/.//evil.example", "/%2e%2e//evil.example", "/ /evil.example", "/\x00//evil.example",
    "/%00//evil.example", "javascript:alert(1)", "/@evil.example", "/#//evil.example",
    "/?//evil.example", "/%E2%80%AE//evil.example", "\\\\evil.example", "/\r\n/evil.example",
    "/#/runs/run_1", "/v1/health",
]  # fmt: skip
PIECES = ["/", "\\", "%09", "%0a", "%5C", "%2F", "//", "evil.example", "@", ":", "#", "?", ".",
          "%", "\t", " ", "https:", "%25"]  # fmt: skip


def fuzz_cases(n: int, seed: int = 27) -> list[str]:
    rnd = random.Random(seed)
    return ["/" + "".join(rnd.choice(PIECES) for _ in range(rnd.randint(1, 6))) for _ in range(n)]


class Daemon:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.data = tmp_path / "data"
        env = clean_env(tmp_path)  # no HARNESS_AUTH_TOKEN: agentd generates one
        self.proc = subprocess.Popen(
            [*AGENTD, "--listen", "127.0.0.1:0", "--data-dir", str(self.data)],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.url = wait_url(self.proc)
        self.link = self._printed_link()
        self.token = (self.data / "auth" / "token").read_text().strip()

    def _printed_link(self) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if "/login#nonce=" in line:
                return line.strip()
        raise AssertionError("agentd printed no login link")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path)
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


async def login_with_link(browser, daemon: Daemon):
    ctx = await browser.new_context()
    page = await ctx.new_page()
    await page.goto(daemon.link)
    await page.wait_for_url(daemon.url + "/", timeout=10_000)
    await page.wait_for_selector("#view :not(.muted)", timeout=10_000)
    return ctx, page


async def test_printed_link_logs_in_once_and_logout_revokes_the_cookie(browser, daemon):
    assert daemon.token not in daemon.link
    ctx, page = await login_with_link(browser, daemon)
    try:
        assert "nonce" not in page.url and await page.locator("#logout").count() == 1
        cookie = next(c for c in await ctx.cookies() if c["name"] == "harness_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert daemon.token not in cookie["value"]
        history = await page.evaluate("() => history.length")
        assert history >= 1

        # the same link in a fresh browser: already used
        other = await browser.new_context()
        p2 = await other.new_page()
        await p2.goto(daemon.link)
        await p2.wait_for_url("**/login?expired=1", timeout=10_000)
        assert await p2.locator("#expired").is_visible()
        assert not [c for c in await other.cookies() if c["name"] == "harness_session"]
        await other.close()

        # a copied cookie works until the owner logs out, then never again
        copied = {"cookie": f"harness_session={cookie['value']}", "authorization": ""}
        async with httpx.AsyncClient(base_url=daemon.url, headers=copied) as thief:
            assert (await thief.get("/v1/runs")).status_code == 200
            await page.click("#logout button")
            await page.wait_for_url(daemon.url + "/login", timeout=10_000)
            assert (await thief.get("/v1/runs")).status_code == 401
    finally:
        await ctx.close()


async def test_login_next_fuzzed_in_the_browser_never_leaves_the_origin(browser, daemon):
    ctx, page = await login_with_link(browser, daemon)
    origin = daemon.url
    try:
        await page.goto(origin + "/login?failed=1")  # stays on the login page: safeNext is loaded
        cases = TRICKY + fuzz_cases(40)
        for raw in cases:
            js = await page.evaluate("(raw) => window.harnessSafeNext(raw)", raw)
            assert js == safe_next(raw), (raw, js, safe_next(raw))  # one rule, both sides
        for raw in cases:
            await page.goto(f"{origin}/login?next={quote(raw, safe='')}")
            await page.wait_for_function("() => !location.pathname.startsWith('/login')",
                                         timeout=10_000)  # fmt: skip
            here = urlsplit(page.url)
            assert f"{here.scheme}://{here.netloc}" == origin, (raw, page.url)
        # the server side of the same form (JavaScript bypassed: the raw value is posted)
        async with httpx.AsyncClient(base_url=origin, headers={"authorization": ""}) as anon:
            for raw in cases:
                r = await anon.post("/login", data={"token": daemon.token, "next": raw})
                anon.cookies.clear()
                where = r.headers["location"]
                assert r.status_code == 303 and where.startswith("/")
                assert not where.startswith("//") and "\\" not in where
                assert urljoin(origin + "/", where).startswith(origin + "/")
    finally:
        await ctx.close()


@pytest.fixture
def noauth(tmp_path):
    proc = subprocess.Popen(
        [*AGENTD, "--listen", "127.0.0.1:0", "--no-auth", "--data-dir", str(tmp_path / "d")],
        cwd=tmp_path, env=clean_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    url = wait_url(proc)
    yield url
    proc.terminate()
    proc.wait(15)
    assert "--no-auth: every local user" in proc.stderr.read()


async def test_no_auth_shows_a_banner_on_the_dashboard(browser, noauth):
    ctx = await browser.new_context()
    try:
        page = await ctx.new_page()
        await page.goto(noauth + "/")
        banner = page.locator("#noauth")
        await banner.wait_for(state="visible", timeout=10_000)
        assert "--no-auth" in await banner.inner_text()
    finally:
        await ctx.close()


async def test_with_auth_there_is_no_banner(browser, daemon):
    ctx, page = await login_with_link(browser, daemon)
    try:
        await page.wait_for_load_state("networkidle")
        assert await page.locator("#noauth").is_hidden()
    finally:
        await ctx.close()
