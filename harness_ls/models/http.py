"""What the HTTP providers share: client settings, retries with backoff, SSE.

Reading an error answer into a ProviderError is models/http_errors.py.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import os
import random
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # httpx is imported on first use: it costs ~90 ms at start-up
    import httpx

from .errors import ProviderError, ProviderUnavailable, StreamCut
from .http_errors import classify_error


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass
class HttpSettings:
    """Timeouts and retry policy. Env: HARNESS_MODEL_TIMEOUT, _RETRIES, _MAX_WAIT."""

    read_timeout: float = 300.0  # max silence in a streamed answer (reasoning models think long)
    connect_timeout: float = 10.0
    max_retries: int = 3
    backoff_base: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 30.0  # a longer Retry-After is reported instead of waited out

    @classmethod
    def from_env(cls) -> HttpSettings:
        return cls(
            read_timeout=_env_float("HARNESS_MODEL_TIMEOUT", 300.0),
            max_retries=int(_env_float("HARNESS_MODEL_RETRIES", 3)),
            max_retry_after=_env_float("HARNESS_MODEL_MAX_WAIT", 30.0),
        )

    def timeout(self) -> httpx.Timeout:
        import httpx

        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout, write=30.0)


def is_loopback(url: str) -> bool:
    """True for localhost / 127.x / ::1 / private-network URLs (local model servers)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "host.docker.internal") or host.endswith(".local"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_unspecified


_pools: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[object, ...], httpx.AsyncClient]
]
_pools = weakref.WeakKeyDictionary()


@asynccontextmanager
async def pooled_client(base_url: str, settings: HttpSettings) -> AsyncIterator[httpx.AsyncClient]:
    """A client shared by calls on this event loop, so model calls reuse TLS connections.

    Clients live as long as their loop; `aclose_clients()` closes them earlier (on shutdown).
    """
    pool = _pools.setdefault(asyncio.get_running_loop(), {})
    key = (is_loopback(base_url), settings.read_timeout, settings.connect_timeout)
    client = pool.get(key)
    if client is None or client.is_closed:
        client = pool[key] = make_client(base_url, settings)
    yield client


async def aclose_clients() -> None:
    """Close the pooled clients of the running loop (hosts call this when they stop)."""
    pool = _pools.pop(asyncio.get_running_loop(), {})
    for client in pool.values():
        await client.aclose()


def make_client(base_url: str, settings: HttpSettings) -> httpx.AsyncClient:
    import httpx

    # Proxy variables must not reroute loopback traffic to a local model server.
    return httpx.AsyncClient(timeout=settings.timeout(), trust_env=not is_loopback(base_url))


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms, Retry-After seconds or date)."""
    if ms := headers.get("retry-after-ms"):
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def request_id(headers: httpx.Headers) -> str | None:
    """The provider's id of a request, worth quoting when asking its support about it."""
    for name in ("x-request-id", "request-id", "openai-request-id", "cf-ray"):
        if value := headers.get(name):
            return value[:100]
    return None


@dataclass(frozen=True)
class RetryNotice:
    """One failed attempt that will be tried again: what failed and how long we wait."""

    attempt: int  # 1-based number of the attempt that failed
    max_attempts: int
    error: str  # the error's code, e.g. model_rate_limited
    message: str
    delay_s: float
    status: int | None = None  # HTTP status, when there was an answer
    request_id: str | None = None
    retry_after_s: float | None = None  # what the server asked for, when it did
    phase: str = "request"  # "request" (before streaming) or "stream" (cut or error mid-answer)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class RetryBudget:
    """The retries one model call may spend, shared by every layer that retries it: the
    request (refused before any byte of an answer) and the turn (an answer broken mid-stream).
    One budget per call, so retries never nest (HARNESS_MODEL_RETRIES is the whole allowance)."""

    max_retries: int
    used: int = 0

    @property
    def left(self) -> bool:
        return self.used < self.max_retries


# Set by whoever drives a model call (agent/turn.py) for the length of the call; open_stream
# makes its own when none is set (a plain provider call).
retry_budget: ContextVar[RetryBudget | None] = ContextVar("retry_budget", default=None)


RetryListener = Callable[[RetryNotice], Awaitable[None]]
# Set by whoever drives a model call (the agent loop) to record retries as they happen; the
# providers stay free of any event log.
retry_listener: ContextVar[RetryListener | None] = ContextVar("retry_listener", default=None)


async def notify_retry(notice: RetryNotice) -> None:
    listener = retry_listener.get()
    if listener is not None:
        await listener(notice)


async def wait_to_retry(
    settings: HttpSettings,
    attempt: int,
    err: ProviderError,
    *,
    wait: float | None = None,
    status: int | None = None,
    request_id: str | None = None,
    phase: str = "request",
) -> None:
    """Tell the listener about the retry (before waiting, so it shows while it happens), then
    wait: the server's Retry-After when given, else exponential backoff with jitter."""
    delay = wait if wait is not None else backoff(settings, attempt)
    await notify_retry(
        RetryNotice(
            attempt=attempt + 1,
            max_attempts=settings.max_retries + 1,
            error=err.code,
            message=err.message,
            delay_s=round(delay, 3),
            status=status,
            request_id=request_id,
            retry_after_s=None if wait is None else round(wait, 3),
            phase=phase,
        )
    )
    await asyncio.sleep(delay)


def backoff(settings: HttpSettings, attempt: int) -> float:
    base = min(settings.max_backoff, settings.backoff_base * (2**attempt))
    return base * (0.75 + random.random() * 0.5)


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: dict[str, str],
    body: dict[str, Any],
    settings: HttpSettings,
    provider: str,
    model: str,
    key_env: str | None,
) -> AsyncIterator[httpx.Response]:
    """POST `body` and yield the streaming response once it is 2xx, retrying what may pass.

    Retries 429/5xx/connection failures (not once streaming has begun) up to
    `settings.max_retries` times, waiting Retry-After when given (bounded) or backing off.
    """
    import httpx

    budget = retry_budget.get() or RetryBudget(settings.max_retries)
    while True:
        wait: float | None = None
        status: int | None = None
        rid: str | None = None
        try:
            resp = await client.send(
                client.build_request("POST", url, json=body, headers=headers), stream=True
            )
        except httpx.ConnectTimeout:
            err: ProviderError = ProviderUnavailable(
                f"{provider}: cannot connect to {url} within {settings.connect_timeout:g} s",
                hint="is the server running and the base URL right?",
            )
        except httpx.TimeoutException:
            err = ProviderUnavailable(
                f"{provider}: no answer from {url} within {settings.read_timeout:g} s",
                hint="raise HARNESS_MODEL_TIMEOUT for slow models",
            )
        except httpx.TransportError as exc:
            err = ProviderUnavailable(
                f"{provider}: cannot reach {url}: {exc or type(exc).__name__}",
                hint="is the server running and the base URL right?",
            )
        else:
            if resp.status_code < 400:
                try:
                    yield resp
                finally:
                    await resp.aclose()
                return
            try:
                raw = await resp.aread()
            except httpx.HTTPError:
                raw = b""
            finally:
                await resp.aclose()
            status, rid = resp.status_code, request_id(resp.headers)
            err = classify_error(
                resp.status_code, raw, provider=provider, model=model, key_env=key_env, url=url
            )
            wait = retry_after(resp.headers)
        if not err.retryable or not budget.left:
            if budget.used:
                err = type(err)(f"{err.message} (after {budget.used + 1} attempts)", hint=err.hint)
            raise before_stream(err)
        if wait is not None and wait > settings.max_retry_after:
            raise before_stream(
                type(err)(
                    f"{err.message} (the server asks to wait {wait:.0f} s)",
                    hint="try again later, or raise HARNESS_MODEL_MAX_WAIT",
                )
            )
        await wait_to_retry(settings, budget.used, err, wait=wait, status=status, request_id=rid)
        budget.used += 1


def before_stream(err: ProviderError) -> ProviderError:
    """Mark an error raised before any answer arrived: its retries are spent (or pointless), so
    the turn must not retry it again as if a stream had broken."""
    err.before_stream = True  # type: ignore[attr-defined]
    return err


async def sse_events(resp: httpx.Response, provider: str) -> AsyncIterator[tuple[str, str]]:
    """(event, data) pairs of a text/event-stream body; transport failures become StreamCut."""
    import httpx

    event = ""
    data: list[str] = []
    try:
        async for line in resp.aiter_lines():
            if not line:
                if data:
                    yield event, "\n".join(data)
                event, data = "", []
            elif line.startswith("data:"):
                data.append(line[6:] if line.startswith("data: ") else line[5:])
            elif line.startswith("event:"):
                event = line[6:].strip()
    except httpx.ReadTimeout:
        raise ProviderUnavailable(
            f"{provider}: the stream stalled (no data before the timeout)"
        ) from None
    except httpx.TransportError as exc:
        raise StreamCut(
            f"{provider}: the stream was cut mid-answer ({type(exc).__name__})",
            hint="the answer is incomplete; retry the step",
        ) from None
    if data:
        yield event, "\n".join(data)
