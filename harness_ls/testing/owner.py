"""Tests act as the machine's owner: their HTTP clients find a host's token the way agentctl does.

Auth is always on, so every agentd and harness-ls sidecar a test starts has a token (generated
in its data dir, or HARNESS_AUTH_TOKEN). `install()` makes httpx requests from the test process
to such a host carry it: a request with no `Authorization` header to a loopback address that a
live endpoint file in a known data dir names gets `Bearer <the token generated in that data dir>`.
Requests to anything else (fake model servers, in-process apps without endpoint files, hosts a
test gave its own HARNESS_AUTH_TOKEN — that test sends the token itself) are left untouched, and
inside `with anonymous():` nothing is added (a test of what a stranger gets).

Data dirs become known through `owner_data_dir(path, token)` — which `clean_env(...,
HARNESS_DATA_DIR=...)` calls, so hosts started the usual way are covered without changes.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx

_DATA_DIRS: dict[Path, bool] = {}  # data dir -> its hosts use the generated token file
_LOCK = threading.Lock()
_INSTALLED = False
_ANONYMOUS = threading.local()


def owner_data_dir(path: str | Path, token: str | None = None) -> None:
    """Remember a data dir whose hosts the tests may call as their owner.

    `token`: the HARNESS_AUTH_TOKEN its hosts get; then the test sends it itself.
    """
    with _LOCK:
        _DATA_DIRS[Path(path)] = not token


def forget_data_dir(path: str | Path) -> None:
    """Stop looking in `path` (keeps the lookup short over a long test session)."""
    with _LOCK:
        _DATA_DIRS.pop(Path(path), None)


@contextlib.contextmanager
def anonymous() -> Iterator[None]:
    """Within: no token is added (this thread), to check what another user would get."""
    _ANONYMOUS.on = True
    try:
        yield
    finally:
        _ANONYMOUS.on = False


def owner_token(url: str) -> str | None:
    """The token of the harness host listening at `url`, found through its endpoint file."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    want = f"{parts.scheme}://{parts.netloc}"
    with _LOCK:
        known = list(_DATA_DIRS.items())
    for data, generated in reversed(known):
        if not generated:
            continue
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
            try:
                return (data / "auth" / "token").read_text().strip() or None
            except OSError:
                return None
    return None


def _with_token(request: httpx.Request) -> None:
    if "authorization" in request.headers or getattr(_ANONYMOUS, "on", False):
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
