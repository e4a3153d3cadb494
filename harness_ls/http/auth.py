"""Token authentication: `Authorization: Bearer <token>` or the dashboard's session cookie.

EventSource cannot send headers, so the dashboard logs in once — with the token, or with the
nonce of a one-time login link — and gets an HttpOnly, SameSite=Strict cookie holding a random
session id (see `logins.py`: stored hashed with an expiry, rotated on login, deleted on logout).
Comparisons are constant-time (`hmac.compare_digest`).
"""

from __future__ import annotations

import asyncio
import hmac
import re
from urllib.parse import parse_qs, unquote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from harness_ls.http.api import read_limited
from harness_ls.http.logins import SESSION_TTL, Logins

COOKIE_NAME = "harness_session"
COOKIE_MAX_AGE = SESSION_TTL
BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")  # decodeURIComponent throws on these
FAILED_LOGIN_DELAY = 0.5  # seconds; makes online guessing slower still (the token is long anyway)


def token_matches(given: str | None, token: str) -> bool:
    if not given:
        return False
    return hmac.compare_digest(given.encode(), token.encode())


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def parse_cookies(header: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            out.setdefault(name, value)
    return out


def is_authenticated(headers: dict[str, str], token: str | None, logins: Logins | None) -> bool:
    """True with --no-auth (no token), or when the request carries the token or a live session."""
    if token is None:
        return True
    if token_matches(bearer(headers.get("authorization")), token):
        return True
    sid = parse_cookies(headers.get("cookie")).get(COOKIE_NAME)
    return logins is not None and logins.valid(sid)


def safe_next(raw: str | None) -> str:
    """A same-origin path or `/`. The same rule as `safeNext` in static/login.js.

    Refused: anything not starting with one `/`, backslashes and control characters (raw or
    percent-encoded: browsers strip tab/newline and read `\\` as `/`, which turns `/\\evil` and
    `/%09/evil` into `//evil`), and whatever a URL parser would not keep on this origin.
    """
    if not raw or len(raw) > 2048 or not raw.startswith("/") or raw.startswith("//"):
        return "/"
    if BAD_PERCENT.search(raw):
        return "/"
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return "/"
    for text in (raw, decoded):
        if "\\" in text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
            return "/"
    if decoded.startswith("//"):
        return "/"
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return "/"
    return raw


def here(path: str) -> str:
    """A Location for a server-root path (a `safe_next` result, or `/login`), relative to the
    request: `/login` and `/logout` live at the root, so `./x` lands on `<prefix>/x` behind a
    path-prefix proxy (code-server's `/proxy/<port>/`) and on `/x` without one."""
    return "." + path


def is_https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or proto == "https"


async def login(request: Request) -> Response:
    """POST /login (form `token` or `nonce`, optional `next`): a fresh session cookie, then go on."""
    settings = request.app.state.settings
    token: str | None = settings.token
    logins: Logins = settings.logins
    raw = await read_limited(request, 8192, settings.body_seconds)
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    target = safe_next(form.get("next"))
    if token is None:
        return RedirectResponse(here(target), status_code=303)
    nonce = form.get("nonce", "").strip()
    if nonce:
        if not logins.take_nonce(nonce):
            await asyncio.sleep(FAILED_LOGIN_DELAY)
            return RedirectResponse(here("/login?expired=1"), status_code=303)
    elif not token_matches(form.get("token", "").strip(), token):
        await asyncio.sleep(FAILED_LOGIN_DELAY)
        return RedirectResponse(here("/login?failed=1"), status_code=303)
    old = parse_cookies(request.headers.get("cookie")).get(COOKIE_NAME)
    logins.revoke(old)  # rotate: a session id never survives a login
    response = RedirectResponse(here(target), status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        logins.new_session(),
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
    return response


async def logout(request: Request) -> Response:
    """POST /logout: delete the session server-side (a copied cookie dies too), then the cookie."""
    logins: Logins = request.app.state.settings.logins
    logins.revoke(parse_cookies(request.headers.get("cookie")).get(COOKIE_NAME))
    response = RedirectResponse(here("/login"), status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response
