"""HTTP error mapping: every failure leaves the app as `{"error": {"code", "message", "hint"?}}`.

The shared `HarnessError` family carries its own status; the few HTTP-only failures (401, 405, 413,
415, 421) are declared here so hosts never hand a client a traceback or an HTML error page.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from harness_ls.errors import HarnessError, InvalidInput


class Unauthorized(HarnessError):
    code = "unauthorized"
    status = 401


class MethodNotAllowed(HarnessError):
    code = "method_not_allowed"
    status = 405


class PayloadTooLarge(HarnessError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(HarnessError):
    code = "unsupported_media_type"
    status = 415


class MisdirectedRequest(HarnessError):
    """The Host header names a host this server does not serve (DNS-rebinding defence)."""

    code = "misdirected_request"
    status = 421


class RequestTimeout(HarnessError):
    """A body that did not arrive in time (a slowloris trickle holds a connection otherwise)."""

    code = "request_timeout"
    status = 408


class Forbidden(HarnessError):
    code = "forbidden"
    status = 403


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class JSONBody(Response):
    """A JSON response without Starlette's pretty defaults; `no-store` so tunnels never cache data."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def error_response(exc: HarnessError, headers: dict[str, str] | None = None) -> Response:
    body = {"error": exc.to_dict()}
    hdrs = {"cache-control": "no-store"}
    if exc.status == 401:
        hdrs["www-authenticate"] = 'Bearer realm="harness-ls"'
    if exc.status == 408:
        hdrs["connection"] = "close"  # the rest of a trickled body is not waited for
    hdrs.update(headers or {})
    return JSONBody(body, status_code=exc.status, headers=hdrs)


def validation_problem(exc: ValidationError, where: str) -> InvalidInput:
    """Turn a pydantic error into a 422 that lists every offending field."""
    fields = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err.get("loc", ())) or where
        fields.append({"field": loc, "message": err.get("msg", "invalid")})
    names = ", ".join(f["field"] for f in fields)
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return InvalidInput(
        f"invalid request {where}: {summary}",
        hint=f"fix the field(s) {names}; see /v1/openapi.json for the schema",
        details={"fields": fields},
    )
