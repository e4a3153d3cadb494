"""Real local model servers for tests: OpenAI Chat Completions and Anthropic Messages.

Both are starlette apps served by uvicorn on 127.0.0.1 (a free port) in a background thread.
Each serves both APIs from one queue; the class only decides what `.base_url` points at.

    from harness_ls.testing.fake_models import FakeOpenAIServer, FakeAnthropicServer

    with FakeOpenAIServer() as srv:                 # srv.base_url == "http://127.0.0.1:PORT/v1"
        srv.push_text("Hello ", "world")            # one streamed answer in two chunks
        srv.push_tool_call("write_file", {"path": "a.txt", "content": "hi"})
        srv.push_error(429, retry_after=1)          # then a rate limit ...
        srv.push_text("after the retry")            # ... and the retried answer
        env = {"OPENAI_BASE_URL": srv.base_url}     # loopback: no API key needed
        ...
        srv.requests[0]["messages"]                 # JSON bodies received, in order
        srv.headers[0]["authorization"]             # their headers (lower-case names)

    with FakeAnthropicServer(api_key="sk-ant-test") as srv:   # srv.base_url has no /v1
        ...                                         # ANTHROPIC_BASE_URL=srv.base_url

A response is a dict (the same shape the `scripted` provider reads, plus HTTP extras):
  text           str (streamed word by word) or list of chunks
  tool_calls     [{"name", "arguments": {...} | "raw_arguments": "<json text>", "id"?}]
                 arguments are streamed in fragments of `fragment` characters (default 7)
  usage          {"input_tokens", "output_tokens"} (default: estimated)
  finish_reason  e.g. "length" (default stop / tool_calls, mapped per API)
  status         >= 400 sends an error body; with `message`, `retry_after` (Retry-After
                 header, seconds), `error_type`, `error_code`
  raw            send this body verbatim (`content_type`, `status` optional): malformed JSON
  cut_after      end the stream after this many SSE events, without the final ones;
                 `cut_mode`: "close" (clean end of body, default) or "abort" (connection reset)
  delay          seconds to sleep before each SSE event (exercises cancellation / timeouts)
  no_usage       true: report no token usage (as many local servers do)
  stream_error   {"type", "message"}: an error event inside the 200 stream after
                 `error_after` chunks (OpenAI `{"error": …}` chunk, Anthropic `event: error`)
  request_id     sent as the x-request-id header (on errors too)
  error          the scripted provider's {"code", "message"}: sent as the matching HTTP error
                 (model_rate_limited 429, model_auth 401, model_not_found 404, others 400/5xx)
When the queue is empty the server answers `default` if given, else HTTP 400 saying so.

As a process (for CLI and end-to-end tests): ``python -m harness_ls.testing.fake_models
--port 0 --script script.json [--kind anthropic] [--api-key K]`` prints its base URL as the
first line of stdout and serves until terminated. The script is ``{"responses": [...],
"default": {...}?}``. Over HTTP, ``GET /_fake/requests`` returns the received bodies, ``GET /_fake/headers``
the headers of every request on any other path, and ``POST /_fake/responses`` (a JSON list) queues more responses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from harness_ls.testing.fake_wire import (
    Chunks,
    StreamAbort,
    anthropic_chunks,
    anthropic_error,
    anthropic_message,
    openai_chunks,
    openai_error,
    openai_message,
    scripted_error,
    stream_variant,
)


class FakeModelServer:
    """Base of the two fakes: a response queue, recorded requests, a uvicorn thread."""

    path = ""  # appended to the root URL to form base_url

    def __init__(
        self,
        responses: list[dict[str, Any]] | None = None,
        *,
        default: dict[str, Any] | None = None,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.queue: list[dict[str, Any]] = list(responses or [])
        self.default = default
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._host, self._port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.root_url = ""
        self.app = Starlette(routes=[
            Route("/v1/chat/completions", self._openai, methods=["POST"]),
            Route("/v1/messages", self._anthropic, methods=["POST"]),
            Route("/v1/models", self._models, methods=["GET"]),
            Route("/_fake/requests", self._recorded, methods=["GET"]),
            Route("/_fake/headers", self._recorded_headers, methods=["GET"]),
            Route("/_fake/responses", self._enqueue, methods=["POST"]),
            Route("/{path:path}", self._elsewhere, methods=["GET", "POST", "PUT", "DELETE"]),
        ])  # fmt: skip

    # queue API
    def push(self, *responses: dict[str, Any]) -> FakeModelServer:
        with self._lock:
            self.queue.extend(responses)
        return self

    def push_text(self, *chunks: str, **extra: Any) -> FakeModelServer:
        return self.push(
            {"text": list(chunks) if len(chunks) > 1 else (chunks[0] if chunks else "")} | extra
        )

    def push_tool_call(
        self, name: str, arguments: dict[str, Any] | None = None, *, text: str = "", **extra: Any
    ) -> FakeModelServer:
        return self.push(
            {"text": text, "tool_calls": [{"name": name, "arguments": arguments or {}}]} | extra
        )

    def push_error(
        self,
        status: int,
        message: str | None = None,
        *,
        retry_after: float | None = None,
        **extra: Any,
    ) -> FakeModelServer:
        return self.push({"status": status, "message": message, "retry_after": retry_after} | extra)

    @property
    def base_url(self) -> str:
        return self.root_url + self.path

    # lifecycle
    def start(self) -> FakeModelServer:
        config = uvicorn.Config(self.app, host=self._host, port=self._port, log_level="critical",
                                access_log=False, lifespan="off", timeout_graceful_shutdown=1)  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, name=f"{type(self).__name__}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{type(self).__name__} did not start on {self._host}:{self._port}"
                )
            time.sleep(0.005)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.root_url = f"http://{self._host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # request handling
    def _next(self) -> dict[str, Any]:
        with self._lock:
            if self.queue:
                return self.queue.pop(0)
        if self.default is not None:
            return self.default
        n = len(self.requests)
        return {
            "status": 400,
            "message": f"fake server: no scripted response left ({n} requests received); queue more with push()",
        }

    async def _record(self, request: Request) -> dict[str, Any] | Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return JSONResponse(
                {"error": {"message": "fake server: request body is not JSON"}}, status_code=400
            )
        with self._lock:
            self.requests.append(body)
            self.headers.append({k.lower(): v for k, v in request.headers.items()})
        return body

    def _auth_failed(self, request: Request, anthropic: bool) -> bool:
        if self.api_key is None:
            return False
        if anthropic:
            return request.headers.get("x-api-key") != self.api_key
        return request.headers.get("authorization") != f"Bearer {self.api_key}"

    async def _serve(self, request: Request, anthropic: bool) -> Response:
        body = await self._record(request)
        if isinstance(body, Response):
            return body
        resp = (
            {
                "status": 401,
                "message": "invalid x-api-key" if anthropic else "Incorrect API key provided",
            }
            if self._auth_failed(request, anthropic)
            else self._next()
        )
        resp = scripted_error(resp)
        status = int(resp.get("status") or 200)
        if "raw" in resp:
            ctype = resp.get("content_type") or (
                "text/event-stream" if body.get("stream") else "application/json"
            )
            return Response(resp["raw"], status_code=status, media_type=ctype)
        if status >= 400:
            headers = (
                {"retry-after": str(resp["retry_after"])}
                if resp.get("retry_after") is not None
                else {}
            )
            if resp.get("request_id"):
                headers["x-request-id"] = str(resp["request_id"])
            err = anthropic_error(status, resp) if anthropic else openai_error(status, resp)
            return JSONResponse(err, status_code=status, headers=headers)
        if not body.get("stream"):
            return JSONResponse(
                anthropic_message(resp, body) if anthropic else openai_message(resp, body)
            )
        chunks = anthropic_chunks(resp, body) if anthropic else openai_chunks(resp, body)
        chunks = stream_variant(chunks, resp, anthropic)
        return StreamingResponse(self._sse(chunks, resp, anthropic), media_type="text/event-stream")

    async def _sse(
        self, chunks: Chunks, resp: dict[str, Any], anthropic: bool
    ) -> AsyncIterator[bytes]:
        cut = resp.get("cut_after")
        delay = float(resp.get("delay") or 0)
        for n, (event, payload) in enumerate(chunks):
            if cut is not None and n >= int(cut):
                if resp.get("cut_mode") == "abort":
                    raise StreamAbort("stream cut by the script")
                return
            if delay:
                await asyncio.sleep(delay)
            head = f"event: {event}\n" if event else ""
            yield f"{head}data: {json.dumps(payload)}\n\n".encode()
        if resp.get("stream_error"):
            return  # a server that sent an error event ends the stream there
        if not anthropic:
            yield b"data: [DONE]\n\n"

    async def _openai(self, request: Request) -> Response:
        return await self._serve(request, anthropic=False)

    async def _anthropic(self, request: Request) -> Response:
        return await self._serve(request, anthropic=True)

    async def _models(self, request: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": "fake-model", "object": "model", "owned_by": "fake"}],
            }
        )

    async def _recorded(self, request: Request) -> Response:
        return JSONResponse(self.requests)

    async def _elsewhere(self, request: Request) -> Response:
        """Any other path: recorded too (its headers, with `:path`), then 404."""
        with self._lock:
            self.headers.append(
                {":path": request.url.path, **{k.lower(): v for k, v in request.headers.items()}}
            )
        return JSONResponse({"error": {"message": "fake server: no such route"}}, status_code=404)

    async def _recorded_headers(self, request: Request) -> Response:
        """The headers of every model request received (lower-cased names), e.g. to prove
        which credential reached which server."""
        return JSONResponse(self.headers)

    async def _enqueue(self, request: Request) -> Response:
        items = json.loads(await request.body())
        self.push(*(items if isinstance(items, list) else [items]))
        return JSONResponse({"queued": len(self.queue)})


class FakeOpenAIServer(FakeModelServer):
    """`.base_url` ends in /v1, as OPENAI_BASE_URL expects."""

    path = "/v1"


class FakeAnthropicServer(FakeModelServer):
    """`.base_url` is the root, as ANTHROPIC_BASE_URL expects."""

    path = ""


@contextmanager
def recorded_retries() -> Iterator[list[Any]]:
    """The retry notices (models.http.RetryNotice) of the model calls made inside the block, in
    the current task: tests assert the wait a provider chose instead of timing it."""
    from harness_ls.models.http import retry_listener

    notices: list[Any] = []

    async def record(notice: Any) -> None:
        notices.append(notice)

    token = retry_listener.set(record)
    try:
        yield notices
    finally:
        retry_listener.reset(token)


def load_server_script(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(doc, list):
        return doc, None
    return list(doc.get("responses") or []), doc.get("default")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness_ls.testing.fake_models", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help='JSON: {"responses": [...], "default": {...}}')
    parser.add_argument("--kind", choices=["openai", "anthropic"], default="openai")
    parser.add_argument("--api-key", default=None, help="require this key (Bearer / x-api-key)")
    args = parser.parse_args(argv)
    responses, default = load_server_script(args.script) if args.script else ([], None)
    cls = FakeAnthropicServer if args.kind == "anthropic" else FakeOpenAIServer
    server = cls(responses, default=default, api_key=args.api_key, host=args.host, port=args.port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(server.base_url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
