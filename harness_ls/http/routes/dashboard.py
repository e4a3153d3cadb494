"""The dashboard: `/` (the app shell), `/login`, `/logout` and `/static/*` — no build step, no CDN.

The shell and assets hold no data; everything the dashboard shows comes from `/v1` with the
session cookie, so only `/login` and `/static/` are public.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from harness_ls.http.auth import login, logout

STATIC = Path(__file__).resolve().parent.parent / "static"


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache"})


async def login_page(request: Request) -> Response:
    return FileResponse(STATIC / "login.html", headers={"cache-control": "no-cache"})


def routes() -> list[BaseRoute]:
    return [
        Route("/", index, methods=["GET"], name="dashboard"),
        Route("/login", login_page, methods=["GET"], name="login_page"),
        Route("/login", login, methods=["POST"], name="login"),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
