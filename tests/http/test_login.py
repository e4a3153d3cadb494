"""Login links, server-side sessions and `next` (in-process app on real uvicorn, no browser)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from harness_ls.http.auth import COOKIE_NAME, safe_next
from harness_ls.http.logins import Logins
from tests.http.conftest import TOKEN

ANON = {"authorization": ""}  # explicitly no credentials


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("/", "/"),
        ("/#/runs/run_1", "/#/runs/run_1"),
        ("/v1/runs?status=running", "/v1/runs?status=running"),
        ("/ok%20x", "/ok%20x"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("/%09/evil.example/", "/"),
        ("/%0a/evil.example/", "/"),
        ("/\t/evil.example/", "/"),
        ("/%2F%2Fevil.example", "/"),
        ("/%5Cevil.example", "/"),
        ("/%zz", "/"),
        ("/%ff", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("", "/"),
        (None, "/"),
        ("/" + "a" * 3000, "/"),
    ],
)
def test_safe_next_keeps_only_same_origin_paths(raw, want):
    assert safe_next(raw) == want


async def test_login_link_is_single_use_and_expires(serve, harness):
    logins = Logins(harness.data_dir / "auth" / "sessions.json", link_ttl=0.3)
    sc = await serve(token=TOKEN, logins=logins)
    auth = {"authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=sc.url, headers=ANON) as c:
        assert (await c.post("/v1/login-link")).status_code == 401  # only the owner makes links
        link = (await c.post("/v1/login-link", headers=auth)).json()
        assert link["url"].startswith("/login#nonce=") and link["expires_in"] == 0
        nonce = link["url"].split("#nonce=", 1)[1]
        ok = await c.post("/login", data={"nonce": nonce})
        assert ok.status_code == 303 and ok.headers["location"] == "./"
        assert (await c.get("/v1/runs")).status_code == 200
        c.cookies.clear()
        reused = await c.post("/login", data={"nonce": nonce})
        assert reused.headers["location"] == "./login?expired=1" and not c.cookies
        late = (await c.post("/v1/login-link", headers=auth)).json()["url"].split("=", 1)[1]
        await asyncio.sleep(0.5)
        expired = await c.post("/login", data={"nonce": late})
        assert expired.headers["location"] == "./login?expired=1" and not c.cookies
        assert (
            (await c.post("/login", data={"nonce": "made-up"}))
            .headers["location"]
            .endswith("expired=1")
        )


async def test_login_rotates_and_logout_revokes_a_copied_cookie(serve, harness):
    sc = await serve(token=TOKEN)
    async with (
        httpx.AsyncClient(base_url=sc.url, headers=ANON) as owner,
        httpx.AsyncClient(base_url=sc.url, headers=ANON) as thief,
    ):
        await owner.post("/login", data={"token": TOKEN})
        first = owner.cookies.get(COOKIE_NAME)
        await owner.post("/login", data={"token": TOKEN})
        second = owner.cookies.get(COOKIE_NAME)
        assert first and second and first != second  # a fresh id on every login
        thief.cookies.set(COOKIE_NAME, first)
        assert (await thief.get("/v1/runs")).status_code == 401  # rotated away
        thief.cookies.set(COOKIE_NAME, second)
        assert (await thief.get("/v1/runs")).status_code == 200  # a copy works... until logout
        out = await owner.post("/logout")
        assert out.status_code == 303 and out.headers["location"] == "./login"
        assert (await thief.get("/v1/runs")).status_code == 401
        stored = (harness.data_dir / "auth" / "sessions.json").read_text()
        assert first not in stored and second not in stored  # only hashes are kept
        assert (harness.data_dir / "auth" / "sessions.json").stat().st_mode & 0o777 == 0o600
