"""The outermost middleware: Host allow-list (421), cross-site writes (403), token (401), headers.

Order matters: a request for a foreign Host is refused before anything else (DNS rebinding), a
cross-site state change before auth (a browser's ambient cookie must not be enough), then the
token — checked for every path except the login page and static assets, and before routing, so
an unknown path and a known one answer the same 401 and existence never leaks.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from urllib.parse import urlsplit

from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness_ls.http.auth import here, is_authenticated
from harness_ls.http.errors import Forbidden, MisdirectedRequest, Unauthorized, error_response

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATHS = frozenset({"/login"})
PUBLIC_PREFIXES = ("/static/",)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "manifest-src 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # not no-referrer: with it Chrome sends `Origin: null` on form posts, which we must refuse
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def split_host(value: str) -> str:
    """`Host`/netloc → bare lowercase host name (`[::1]:8787` → `::1`)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_matches(host: str, patterns: tuple[str, ...]) -> bool:
    """Exact names or shell-style patterns (`*.tail1234.ts.net`); ports are ignored."""
    return any(fnmatch.fnmatchcase(host, split_host(p)) for p in patterns)


def host_allowed(host: str, patterns: tuple[str, ...]) -> bool:
    return bool(host) and (is_loopback(host) or host_matches(host, patterns))


def origin_allowed(origin: str, host_header: str, patterns: tuple[str, ...]) -> bool:
    """Same origin as the Host we were asked for, or https on an explicitly allowed name.

    The second case covers reverse proxies (Tailscale Serve, cloudflared) that rewrite Host to
    the loopback upstream while the browser's Origin keeps the public name.
    """
    if origin == "null":
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    default = "443" if parts.scheme == "https" else "80"
    netloc = parts.netloc.lower()
    if ":" not in netloc.rsplit("]", 1)[-1]:
        netloc = f"{netloc}:{default}"
    want = host_header.lower()
    if ":" not in want.rsplit("]", 1)[-1]:
        want_alts = {f"{want}:80", f"{want}:443"}
    else:
        want_alts = {want}
    if netloc in want_alts:
        return True
    return parts.scheme == "https" and host_matches(split_host(parts.netloc), patterns)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class SecurityGuard:
    def __init__(self, app: ASGIApp, *, settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self.check(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def check(self, scope: Scope, headers: dict[str, str]):
        allowed = self.settings.allowed_hosts
        host_header = headers.get("host", "")
        host = split_host(host_header)
        if not host_allowed(host, allowed):
            return error_response(
                MisdirectedRequest(
                    f"this server does not answer for host {host or '(none)'!r}",
                    hint="start agentd with --allow-host <name> to serve it (e.g. a *.ts.net name)",
                )
            )
        method = scope["method"].upper()
        if method not in SAFE_METHODS:
            origin = headers.get("origin")
            cross = headers.get("sec-fetch-site") == "cross-site"
            if cross or (origin is not None and not origin_allowed(origin, host_header, allowed)):
                return error_response(
                    Forbidden(
                        "cross-site request refused",
                        hint="state-changing requests must come from the dashboard's own origin",
                    )
                )
        path = scope["path"]
        if is_public(path) or is_authenticated(headers, self.settings.token, self.settings.logins):
            return None
        if path == "/" and method in SAFE_METHODS:
            return RedirectResponse(here("/login"), status_code=303)
        return error_response(
            Unauthorized(
                "missing or wrong token",
                hint="send 'Authorization: Bearer <token>' (HARNESS_AUTH_TOKEN) or log in at /login",
            )
        )
