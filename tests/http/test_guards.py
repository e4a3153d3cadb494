"""Auth on every route (table generated from the app's routes), Host allow-list, Origin checks."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Mount, Route

from harness_ls.http.app import create_app
from harness_ls.http.auth import COOKIE_NAME
from tests.http.conftest import TOKEN

# The only routes reachable without the token. Adding a public route means editing this set.
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/static/app.js")}


def route_table() -> list[tuple[str, str]]:
    """(method, concrete path) for every route the app serves."""
    app = create_app(object(), token=TOKEN)
    out = []
    for r in app.routes:
        if isinstance(r, Mount):
            out.append(("GET", r.path + "/app.js"))
            continue
        assert isinstance(r, Route)
        path = re.sub(r"{(\w+)}", lambda m: f"{m.group(1)}_0000000000000000000000", r.path)
        for method in sorted(r.methods - {"HEAD"}):
            out.append((method, path))
    return out


ROUTES = route_table()


def test_route_table_covers_the_contract():
    paths = {p for _, p in ROUTES}
    for needed in (
        "/v1/runs",
        "/v1/approvals",
        "/v1/sessions",
        "/v1/specs",
        "/v1/openapi.json",
        "/",
    ):
        assert needed in paths
    assert len(ROUTES) >= 25


async def test_every_route_requires_the_token(serve, monkeypatch):
    """One server, every (method, path) the app serves; failures are listed together."""
    monkeypatch.setattr("harness_ls.http.auth.FAILED_LOGIN_DELAY", 0)
    sc = await serve(token=TOKEN)
    failures = []
    async with httpx.AsyncClient(base_url=sc.url, timeout=10) as c:
        for method, path in ROUTES:
            body = {} if method == "POST" else None
            for headers in (
                {},
                {"Authorization": "Bearer wrong"},
                {"Cookie": f"{COOKIE_NAME}=nope"},
                {"Authorization": f"Basic {TOKEN}"},
            ):
                r = await c.request(method, path, headers=headers, json=body)
                if (method, path) in PUBLIC:
                    ok = r.status_code not in (401, 403)
                elif path == "/":
                    ok = r.status_code == 303 and r.headers["location"] == "./login"
                else:
                    ok = (
                        r.status_code == 401
                        and r.json()["error"]["code"] == "unauthorized"
                        and r.headers["www-authenticate"].startswith("Bearer")
                    )
                if not ok:
                    failures.append((method, path, headers, r.status_code))
            # with the token: whatever the answer is, it is not an auth failure
            params = {"follow": "false"} if path.endswith("/events") else None
            r = await c.request(
                method, path, json=body, params=params, headers={"Authorization": f"Bearer {TOKEN}"}
            )
            if r.status_code in (401, 403, 421):
                failures.append((method, path, "with token", r.status_code))
    assert not failures, failures


async def test_unknown_path_and_known_path_both_answer_401(serve):
    sc = await serve(token=TOKEN)
    async with httpx.AsyncClient(base_url=sc.url) as c:
        a = await c.get("/v1/runs/run_doesnotexist")
        b = await c.get("/v1/nothing/here")
        assert a.status_code == b.status_code == 401
        assert a.json() == b.json()


async def test_login_sets_httponly_strict_cookie_that_authenticates(serve):
    sc = await serve(token=TOKEN)
    async with httpx.AsyncClient(base_url=sc.url) as c:
        bad = await c.post("/login", data={"token": "nope"})
        assert bad.status_code == 303 and bad.headers["location"] == "./login?failed=1"
        assert "set-cookie" not in bad.headers
        ok = await c.post("/login", data={"token": TOKEN, "next": "//evil.example/"})
        assert ok.status_code == 303 and ok.headers["location"] == "./"
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert TOKEN.lower() not in cookie  # the cookie holds a random session id, not the token
        sid = c.cookies.get(COOKIE_NAME)
        assert sid and len(sid) >= 40
        assert (await c.get("/v1/runs")).status_code == 200
        assert (await c.get("/")).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8787", "192.168.1.9", ""])
async def test_foreign_host_header_gets_421(client, host):
    r = await client.get("/v1/health", headers={"Host": host})
    assert r.status_code == 421
    assert r.json()["error"]["code"] == "misdirected_request"


@pytest.mark.parametrize("host", ["127.0.0.1:1234", "localhost", "[::1]:80", "LOCALHOST:9"])
async def test_loopback_hosts_are_served(client, host):
    assert (await client.get("/v1/health", headers={"Host": host})).status_code == 200


async def test_allow_host_names_and_patterns(serve):
    sc = await serve(allowed_hosts=["box.tail1234.ts.net", "*.trycloudflare.com"])
    async with httpx.AsyncClient(base_url=sc.url) as c:
        for host in ("box.tail1234.ts.net", "a-b.trycloudflare.com:443"):
            assert (await c.get("/v1/health", headers={"Host": host})).status_code == 200
        assert (
            await c.get("/v1/health", headers={"Host": "trycloudflare.com.evil.io"})
        ).status_code == 421


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        ("https://evil.example", 403),
        ("null", 403),
        ("http://127.0.0.1:1", 403),  # another local port is another origin
        ("https://box.tail1234.ts.net", 422),  # allowed name over https (proxy rewrote Host)
        ("http://box.tail1234.ts.net", 403),
    ],
)
async def test_cross_site_origin_on_writes_is_refused(serve, origin, status):
    sc = await serve(allowed_hosts=["box.tail1234.ts.net"])
    async with httpx.AsyncClient(base_url=sc.url) as c:
        r = await c.post("/v1/runs", json={}, headers={"Origin": origin})
        assert r.status_code == status, r.text
        same = await c.post("/v1/runs", json={}, headers={"Origin": sc.url})
        assert same.status_code == 422  # same origin passes the guard and reaches validation
        site = await c.post("/v1/runs", json={}, headers={"Sec-Fetch-Site": "cross-site"})
        assert site.status_code == 403
        assert (await c.get("/v1/runs", headers={"Origin": origin})).status_code == 200


async def test_security_headers_and_no_cors(client):
    r = await client.get("/", headers={"Origin": "https://evil.example"})
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in r.headers
    pre = await client.options(
        "/v1/runs",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in pre.headers


async def test_dashboard_has_no_inline_scripts_or_remote_assets(client):
    html = (await client.get("/")).text
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert "http://" not in html and "https://" not in html
    assert re.search(r"\son\w+=", html) is None  # no inline event handlers
    scripts = re.findall(r'<script src="static/([\w.-]+)"', html)
    assert scripts[0] == "app.js" and scripts[-2:] == ["main.js", "noauth.js"]
    for asset in [*scripts, "app.css", "login.js"]:
        r = await client.get(f"/static/{asset}")
        assert r.status_code == 200 and "https://" not in r.text


def test_dashboard_listens_for_every_registered_event_type():
    """EventSource only delivers named events it has a listener for: a type missing from the
    dashboard's list would be silently dropped (and break resume bookkeeping)."""
    from harness_ls.http.routes.dashboard import STATIC
    from harness_ls.store.events import EVENT_TYPES

    js = (STATIC / "app.js").read_text()  # EVENT_TYPES itself: a case elsewhere does not count
    missing = [t for t in EVENT_TYPES if f'"{t}"' not in js]
    assert not missing, f"add these to EVENT_TYPES in app.js: {missing}"


async def test_cookie_is_secure_behind_an_https_tunnel(serve):
    sc = await serve(token=TOKEN, allowed_hosts=["devbox.tail1234.ts.net"])
    async with httpx.AsyncClient(base_url=sc.url) as c:
        r = await c.post(
            "/login",
            data={"token": TOKEN},
            headers={"Host": "devbox.tail1234.ts.net", "X-Forwarded-Proto": "https",
                     "Origin": "https://devbox.tail1234.ts.net"},
        )  # fmt: skip
        assert r.status_code == 303 and "secure" in r.headers["set-cookie"].lower()
        local = await c.post("/login", data={"token": TOKEN})
        assert "secure" not in local.headers["set-cookie"].lower()  # plain http on loopback
