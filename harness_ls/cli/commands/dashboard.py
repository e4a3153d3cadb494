"""`agentctl dashboard`: open the dashboard already logged in, through a one-time login link.

The link carries a nonce the daemon made for us (single use, short-lived), in the URL fragment,
so neither the token nor a reusable secret ends up in browser history or server logs.
"""

from __future__ import annotations

import webbrowser
from typing import Any

from harness_ls.cli import errors as ex
from harness_ls.cli.errors import CliError


def dashboard(app: Any) -> int:
    client = app.client()
    if client.target.url.startswith("unix:"):
        raise CliError(
            f"the daemon at {client.target.url} listens on a Unix socket: a browser cannot open it",
            exit_code=ex.USAGE,
            hint="start agentd with an HTTP --listen (the default 127.0.0.1:8787) for the dashboard",
        )
    link = client.post("/v1/login-link")
    url = f"{client.target.url}{link['url']}"
    if app.json:
        app.emit_json({"url": url, "expires_in": link["expires_in"]})
        return ex.OK
    if not getattr(app.args, "print_only", False) and _open(url):
        app.note(f"opened the dashboard ({client.target.url}/) in your browser")
        return ex.OK
    app.out(url)
    app.note(f"one-time login link, valid {link['expires_in']} s")
    return ex.OK


def _open(url: str) -> bool:
    try:
        return bool(webbrowser.open(url))
    except webbrowser.Error:
        return False
