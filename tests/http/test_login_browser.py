"""Dashboard login in Debian's chromium (Playwright): the link agentd prints, logout, `next` fuzz.

agentd runs as a real subprocess with no token configured (it generates one); the browser only
ever sees the one-time link agentd printed on stderr.
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import httpx
import pytest
import pytest_asyncio
import uvicorn
from playwright import async_api as playwright
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

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
            await page.goto(f"{origin}/login?next={quote(raw, safe='')}", wait_until="commit")
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
                assert r.status_code == 303 and where.startswith("./")  # relative: proxy-safe
                assert not where.startswith(".//") and "\\" not in where
                assert urljoin(origin + "/login", where).startswith(origin + "/")
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


class PrefixProxy:
    """A real prefix-stripping reverse proxy on 127.0.0.1 (what code-server's /proxy/<port>/
    does): `/proxy/1234/x` is forwarded to agentd's `/x`, Host, redirects and cookies untouched;
    any request outside the prefix is recorded (a bug in the page) and gets a 404."""

    PREFIX = "/proxy/1234"

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.outside: list[str] = []
        self.client: httpx.AsyncClient | None = None  # made on the proxy's own event loop
        self.server: uvicorn.Server | None = None
        self.url = ""

    async def app(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path = scope["path"]
        if not path.startswith(self.PREFIX + "/"):
            self.outside.append(path)
            await Response("outside the prefix", status_code=404)(scope, receive, send)
            return
        if self.client is None:
            self.client = httpx.AsyncClient(base_url=self.upstream, timeout=None)
        headers = request.headers.raw  # Host kept, as code-server's proxy does
        upstream = self.client.build_request(
            request.method,
            path.removeprefix(self.PREFIX)
            + ("?" + scope["query_string"].decode() if scope["query_string"] else ""),
            headers=headers,
            content=await request.body(),
        )
        resp = await self.client.send(upstream, stream=True)
        hop = {"connection", "keep-alive", "transfer-encoding"}
        out = StreamingResponse(
            resp.aiter_raw(),
            status_code=resp.status_code,
            headers={
                k: v
                for k, v in resp.headers.items()
                if k.lower() not in hop and k.lower() != "set-cookie"
            },
            background=BackgroundTask(resp.aclose),
        )
        for cookie in resp.headers.get_list("set-cookie"):
            out.raw_headers.append((b"set-cookie", cookie.encode("latin-1")))
        await out(scope, receive, send)

    def start(self) -> PrefixProxy:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="critical", interface="asgi3",
                                lifespan="off", timeout_graceful_shutdown=1)  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "proxy did not start"
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}{self.PREFIX}"
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(10)


async def test_login_link_under_a_path_prefix_lands_on_the_run(browser, daemon):
    """Behind a prefix-stripping proxy (code-server's /proxy/<port>/), the dashboard link's
    `next=/#/runs/<id>` lands on `<prefix>/#/runs/<id>`, not on the proxy's root; the login
    page, its redirects and the dashboard never leave the prefix."""
    proxy = PrefixProxy(daemon.url).start()
    prefix = proxy.url
    ctx = await browser.new_context()
    try:
        page = await ctx.new_page()
        await page.goto(
            prefix + "/", wait_until="commit"
        )  # not logged in: the guard sends us to the login page
        await page.wait_for_url(prefix + "/login", timeout=10_000)
        assert await page.locator("#login").is_visible()  # its css and script loaded too
        target = quote("/#/runs/run_01ABCDEFGHJKMNPQRSTVWXYZ00", safe="")
        nonce = daemon.link.split("#nonce=", 1)[1]
        await page.goto(f"{prefix}/login?next={target}#nonce={nonce}", wait_until="commit")
        await page.wait_for_url(f"{prefix}/#/runs/run_01ABCDEFGHJKMNPQRSTVWXYZ00", timeout=10_000)
        await page.locator("#logout").wait_for(timeout=10_000)  # the dashboard, logged in
        # the editor's link as code-server's asExternalUri leaves it: query dropped, the run
        # in the fragment (a fresh nonce from the owner's API)
        auth = {"authorization": f"Bearer {daemon.token}"}
        async with httpx.AsyncClient(base_url=daemon.url, headers=auth) as owner:
            link = (await owner.post("/v1/login-link")).json()["url"]
        fresh = link.split("#nonce=", 1)[1]
        await ctx.clear_cookies()
        await page.goto(
            f"{prefix}/login#nonce={fresh}&run=run_01ABCDEFGHJKMNPQRSTVWXYZ11", wait_until="commit"
        )
        await page.wait_for_url(f"{prefix}/#/runs/run_01ABCDEFGHJKMNPQRSTVWXYZ11", timeout=10_000)
        # already logged in: the login page's own redirect resolves `next` under the prefix too
        # (pages that redirect themselves are awaited with wait_for_url: a goto waiting for "load"
        # fails when the page's script navigates first)
        await page.goto(
            f"{prefix}/login?next={quote('/#/approvals', safe='')}", wait_until="commit"
        )
        await page.wait_for_url(f"{prefix}/#/approvals", timeout=10_000)
        # one rule for `next` (safeNext), then the prefix: tricky values never leave the origin
        # (dot segments like /%2e%2e/ may climb above the prefix, as they climb to / without it)
        await page.goto(prefix + "/login?failed=1")  # stays: the page's functions are loaded
        origin = prefix.removesuffix(PrefixProxy.PREFIX)
        for raw in TRICKY + fuzz_cases(20):
            where = await page.evaluate(
                "(raw) => new URL(window.harnessOnBase(raw), location.href).href", raw
            )
            assert where.startswith(origin + "/"), (raw, where)
            if "." not in raw and "%" not in raw:
                assert where.startswith(prefix + "/"), (raw, where)
        # logged out, a bad nonce (and a bad run id) lands on the expired notice, under the
        # prefix (logged in, that page would go on to the dashboard by itself)
        await ctx.clear_cookies()
        await page.goto(f"{prefix}/login#nonce=x&run=..%2F..%2Fevil", wait_until="commit")
        await page.wait_for_url(f"{prefix}/login?expired=1", timeout=10_000)
        assert proxy.outside == [], proxy.outside
    finally:
        await ctx.close()
        proxy.stop()
