"""Tests act as the machine's owner: their HTTP clients find a host's token the way agentctl does.

Auth is always on, so every agentd and harness-ls sidecar a test starts has a token (generated
in its data dir, or HARNESS_AUTH_TOKEN). `install()` makes httpx requests from the test process
to such a host carry it: a request with no `Authorization` header to a loopback address that a
live endpoint file in a known data dir names gets `Bearer <that data dir's token>`. Requests to
anything else (fake model servers, in-process apps without endpoint files) are left untouched,
and a test that wants to be anonymous sends its own header (`authorization: ""`).

Data dirs become known through `owner_data_dir(path, token)` — which `clean_env(...,
HARNESS_DATA_DIR=...)` calls, so hosts started the usual way are covered without changes.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from urllib.parse import urlsplit

import httpx

_DATA_DIRS: dict[Path, str | None] = {}  # data dir -> HARNESS_AUTH_TOKEN it was started with
_LOCK = threading.Lock()
_INSTALLED = False


def owner_data_dir(path: str | Path, token: str | None = None) -> None:
    """Remember a data dir whose hosts the tests may call as their owner."""
    with _LOCK:
        _DATA_DIRS[Path(path)] = token or _DATA_DIRS.get(Path(path))


def owner_token(url: str) -> str | None:
    """The token of the harness host listening at `url`, found through its endpoint file."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    want = f"{parts.scheme}://{parts.netloc}"
    with _LOCK:
        known = list(_DATA_DIRS.items())
    for data, env_token in reversed(known):
        try:
            files = list((data / "endpoints").glob("*.json"))
        except OSError:
            continue
        for f in files:
            try:
                if json.loads(f.read_text()).get("url", "").rstrip("/") != want:
                    continue
            except (OSError, ValueError, AttributeError):
                continue
            if env_token:
                return env_token
            try:
                return (data / "auth" / "token").read_text().strip() or None
            except OSError:
                return None
    return None


def _with_token(request: httpx.Request) -> None:
    if "authorization" in request.headers:
        return
    token = owner_token(str(request.url))
    if token:
        request.headers["authorization"] = f"Bearer {token}"


def install() -> None:
    """Patch httpx's `send` (sync and async) in this process; idempotent."""
    global _INSTALLED
    if _INSTALLED:
        return
    _INSTALLED = True
    sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send

    def send(self, request, **kw):  # type: ignore[no-untyped-def]
        _with_token(request)
        return sync_send(self, request, **kw)

    async def asend(self, request, **kw):  # type: ignore[no-untyped-def]
        _with_token(request)
        return await async_send(self, request, **kw)

    httpx.Client.send = send  # type: ignore[method-assign]
    httpx.AsyncClient.send = asend  # type: ignore[method-assign]
