"""The endpoint table: each route declares its method, path and pydantic models in one place.

Routes modules export `ENDPOINTS`; `create_app` turns them into Starlette routes and
`openapi.build` reads the very same table, so the document cannot drift from what is served.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from harness_ls.common import nesting_depth
from harness_ls.core.attachments import MAX_UPLOAD_BYTES as MAX_ATTACHMENT_BYTES
from harness_ls.errors import HarnessError, InvalidInput
from harness_ls.http.errors import (
    JSONBody,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    error_response,
    validation_problem,
)
from harness_ls.http.host import HarnessHost

Kind = Literal["json", "sse", "file", "text"]


@dataclass
class Settings:
    """Per-app knobs, fixed at `create_app` time."""

    token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    keepalive: float = 15.0
    retry_ms: int = 2000
    max_json_bytes: int = 1 << 20
    body_seconds: float = 30.0  # a JSON or login body must arrive whole within this (slowloris)
    max_upload_bytes: int = MAX_ATTACHMENT_BYTES  # one limit for API, store, CLI and docs
    kind: str = "agentd"
    started_at: str = ""
    logins: Any = None  # http.logins.Logins: dashboard sessions and one-time login links
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Call:
    """What a handler gets: the harness, the parsed path/query/body, and the raw request."""

    request: Request
    harness: HarnessHost
    settings: Settings
    params: dict[str, str]
    query: Any = None
    body: Any = None


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None  # a pydantic model / list[...] type for the OpenAPI document
    status: int = 200
    kind: Kind = "json"
    tag: str = "misc"
    multipart: bool = False


BODY_SECONDS = 30.0


async def read_limited(request: Request, limit: int, seconds: float = BODY_SECONDS) -> bytes:
    """Read the body, refusing early on Content-Length and again while streaming (no trust).

    The whole body must arrive within `seconds`: the header timer stops once a head is parsed,
    and a client trickling one byte of an 8 KiB `/login` form every few seconds — no token
    needed — otherwise held its connection (a descriptor and a task) for hours.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(
            f"request body is {declared} bytes, the limit is {limit}",
            hint="send a smaller body",
        )
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(
                        f"request body exceeds {limit} bytes", hint="send a smaller body"
                    )
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(
            f"request body did not arrive within {seconds:g} s ({size} bytes received)",
            hint="send the whole body at once",
        ) from None
    return b"".join(chunks)


async def parse_json_body(
    request: Request, model: type[BaseModel], limit: int, seconds: float = BODY_SECONDS
) -> BaseModel:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise UnsupportedMediaType(
            f"expected Content-Type application/json, got {ctype or 'none'}",
            hint="send a JSON body with 'Content-Type: application/json'",
        )
    raw = await read_limited(request, limit, seconds)
    try:
        data = json.loads(raw or b"null")
    except ValueError as exc:
        raise InvalidInput(
            f"request body is not valid JSON: {exc}", hint="send a JSON object"
        ) from None
    except RecursionError:
        raise too_deep() from None
    if not isinstance(data, dict):
        raise InvalidInput("request body must be a JSON object", hint="send a JSON object")
    if nesting_depth(data, MAX_JSON_DEPTH + 1) > MAX_JSON_DEPTH:
        raise too_deep()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc, "body") from None


MAX_JSON_DEPTH = 64  # no request needs more; deeper data would only strain every later encoder


def too_deep() -> InvalidInput:
    return InvalidInput(
        f"request body is nested more than {MAX_JSON_DEPTH} levels deep",
        hint="send a flatter JSON object",
    )


def parse_query(request: Request, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise validation_problem(exc, "query") from None


def to_jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return TypeAdapter(Any).dump_python(value, mode="json")


def adapt(
    endpoint: Endpoint, harness: HarnessHost, settings: Settings
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: parse inputs, call, serialise, and map typed errors to JSON."""

    async def run(request: Request) -> Response:
        try:
            call = Call(request, harness, settings, dict(request.path_params))
            if endpoint.query is not None:
                call.query = parse_query(request, endpoint.query)
            if endpoint.body is not None:
                call.body = await parse_json_body(
                    request, endpoint.body, settings.max_json_bytes, settings.body_seconds
                )
            result = await endpoint.handler(call)
        except HarnessError as exc:
            return error_response(exc)
        if isinstance(result, Response):
            return result
        return JSONBody(
            to_jsonable(result), status_code=endpoint.status, headers={"cache-control": "no-store"}
        )

    run.__name__ = endpoint.handler.__name__
    return run
