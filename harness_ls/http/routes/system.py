"""/v1/health, /v1/doctor, /v1/openapi.json."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from harness_ls import __version__
from harness_ls.core.system import git_fact, model_fact
from harness_ls.http.api import Call, Endpoint
from harness_ls.http.models import Doctor, DoctorCheck, Health, LoginLink
from harness_ls.private import private_dir


async def health(call: Call) -> Health:
    s = call.settings
    return Health(
        version=__version__,
        kind=s.kind,
        pid=os.getpid(),
        started_at=s.started_at,
        auth=s.token is not None,
        open_streams=call.request.app.state.streams.open,
    )


def _model_check(call: Call) -> DoctorCheck:
    fact = model_fact(call.harness.model)
    return DoctorCheck(name="model", ok=fact.ok, detail=fact.detail)


def _writable(path: str) -> bool:
    try:
        private_dir(Path(path))  # never a 0755 data dir: it holds the token and runs
    except OSError:
        return False
    return os.access(path, os.W_OK)


async def doctor(call: Call) -> Doctor:
    data_dir = str(call.harness.data_dir)
    writable = await asyncio.to_thread(_writable, data_dir)
    checks = [
        DoctorCheck(
            name="data_dir",
            ok=writable,
            detail=f"{data_dir} ({'writable' if writable else 'not writable'})",
        ),
        DoctorCheck(name="git", **git_fact().model_dump()),
        _model_check(call),
        DoctorCheck(
            name="auth",
            ok=True,
            detail="token required"
            if call.settings.token
            else "--no-auth: no token (loopback only)",
        ),
    ]
    checks += _integration_checks(call)
    pending = len(call.harness.pending_approvals())
    checks.append(DoctorCheck(name="approvals", ok=True, detail=f"{pending} pending"))
    return Doctor(
        version=__version__,
        python=sys.version.split()[0],
        data_dir=data_dir,
        auth=call.settings.token is not None,
        allowed_hosts=list(call.settings.allowed_hosts),
        checks=checks,
    )


def _integration_checks(call: Call) -> list[DoctorCheck]:
    """Hooks and MCP servers as this daemon loaded them (not as a client reads the file)."""
    info = call.harness.loaded_integrations()
    hooks = info.get("hooks") or []
    if info.get("hooks_error"):
        hook_check = DoctorCheck(name="hooks", ok=False, detail=str(info["hooks_error"]))
    else:
        names = "; ".join(f"{'/'.join(h['on'])}: {h['command']}" for h in hooks)
        detail = f"{len(hooks)} loaded from {info['config']}" + (f" ({names})" if names else "")
        hook_check = DoctorCheck(name="hooks", ok=True, detail=detail)
    if info.get("mcp_error"):
        mcp_check = DoctorCheck(name="mcp", ok=False, detail=str(info["mcp_error"]))
    else:
        servers = info.get("mcp") or []
        mcp_check = DoctorCheck(
            name="mcp",
            ok=True,
            detail=f"{len(servers)} server(s) per run: {', '.join(servers) or '-'}",
        )
    return [hook_check, mcp_check]


async def login_link(call: Call) -> LoginLink:
    """A fresh one-time login link (for `agentctl dashboard` and the editor's Open Dashboard)."""
    logins = call.settings.logins
    return LoginLink(url=f"/login#nonce={logins.new_nonce()}", expires_in=int(logins.link_ttl))


async def openapi(call: Call) -> Any:
    return call.request.app.state.openapi


ENDPOINTS = [
    Endpoint("GET", "/v1/health", health, "Liveness and identity", response=Health, tag="system"),
    Endpoint("GET", "/v1/doctor", doctor, "Environment checks", response=Doctor, tag="system"),
    Endpoint("GET", "/v1/openapi.json", openapi, "This document", tag="system"),
    Endpoint(
        "POST",
        "/v1/login-link",
        login_link,
        "A one-time dashboard login link (single use, short-lived)",
        response=LoginLink,
        tag="system",
    ),
]
