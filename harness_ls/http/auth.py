"""Token authentication: `Authorization: Bearer <token>` or the dashboard's session cookie.

EventSource cannot send headers, so the dashboard logs in once with the token and gets an HttpOnly,
SameSite=Strict cookie. The cookie holds an HMAC of the token, not the token itself, so a leaked
cookie jar does not leak the token and changing the token logs every browser out.
Comparisons are constant-time (`hmac.compare_digest`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from harness_ls.http.api import read_limited

COOKIE_NAME = "harness_session"
COOKIE_MAX_AGE = 7 * 24 * 3600
FAILED_LOGIN_DELAY = 0.5  # seconds; makes online guessing slower still (the token is long anyway)


def cookie_value(token: str) -> str:
    return hmac.new(token.encode(), b"harness-ls dashboard cookie v1", hashlib.sha256).hexdigest()


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


def is_authenticated(headers: dict[str, str], token: str | None) -> bool:
    """True when no token is configured, or the request carries the token or the cookie."""
    if token is None:
        return True
    if token_matches(bearer(headers.get("authorization")), token):
        return True
    cookie = parse_cookies(headers.get("cookie")).get(COOKIE_NAME)
    return cookie is not None and hmac.compare_digest(cookie.encode(), cookie_value(token).encode())


def safe_next(raw: str | None) -> str:
    """Only same-site relative paths; `//evil.example` and schemes fall back to `/`."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    return raw


def is_https(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or proto == "https"


async def login(request: Request) -> Response:
    """POST /login (form `token`, optional `next`): set the session cookie and go back."""
    token: str | None = request.app.state.settings.token
    raw = await read_limited(request, 8192)
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    target = safe_next(form.get("next"))
    if token is None:
        return RedirectResponse(target, status_code=303)
    if not token_matches(form.get("token", "").strip(), token):
        await asyncio.sleep(FAILED_LOGIN_DELAY)
        return RedirectResponse("/login?failed=1", status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        cookie_value(token),
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=is_https(request),
    )
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response
