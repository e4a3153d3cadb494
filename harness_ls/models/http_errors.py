"""A provider's refusal, read: the status and error body of an HTTP answer (or an error event
inside a 200 stream) mapped to one of our ProviderErrors, with a hint the user can act on.

Its own module because every provider speaks its own error dialect (OpenAI, Anthropic,
llama.cpp, Ollama) and the retry loop in models/http.py only needs the verdict: which error,
and whether it may pass on a second try.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from .errors import (
    BadRequest,
    ContextOverflow,
    EndpointNotFound,
    ModelAuthError,
    ModelNotFound,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    one_line,
)


def _error_fields(body: bytes) -> tuple[str, str, str]:
    """(message, type, code) from OpenAI / Anthropic / llama.cpp / Ollama error bodies."""
    text = body.decode("utf-8", "replace").strip()
    try:
        doc = json.loads(text)
    except ValueError:
        return one_line(text or "(empty body)", 200), "", ""
    err: Any = doc.get("error", doc) if isinstance(doc, dict) else doc
    if isinstance(err, str):
        return one_line(err, 200), "", ""
    if not isinstance(err, dict):
        return one_line(text, 200), "", ""
    msg = err.get("message") or doc.get("message") or text
    return one_line(str(msg), 200), str(err.get("type") or ""), str(err.get("code") or "")


_OVERFLOW_HINTS = (
    "context length",
    "context_length",
    "context window",
    "maximum context",
    "prompt is too long",
    "exceed_context_size",
    "exceeds the available context",
    "too many tokens",
)


_STREAM_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "overloaded_error": 529,
    "api_error": 500,
    "server_error": 500,
}


def stream_error(doc: dict[str, Any], *, provider: str, model: str) -> ProviderError:
    """An error sent inside a 200 stream (OpenAI `{"error": …}` chunk, Anthropic `event: error`).

    The HTTP status says nothing here, so the error's own type decides: an invalid request
    fails with the provider's message, overload and server errors may be retried.
    """
    _msg, etype, code = _error_fields(json.dumps(doc).encode())
    status = _STREAM_ERROR_STATUS.get(etype) or _STREAM_ERROR_STATUS.get(code) or 500
    err = doc.get("error") if isinstance(doc.get("error"), dict) else {}
    if isinstance(err.get("status"), int) and 400 <= err["status"] < 600:
        status = err["status"]
    return classify_error(
        status, json.dumps(doc).encode(), provider=provider, model=model, key_env=None
    )


def _is_model_error(msg: str, etype: str, code: str, model: str) -> bool:
    low = f"{msg} {etype} {code}".lower()
    return (
        code == "model_not_found"
        or etype == "not_found_error"
        or "model" in low
        or (bool(model) and model.lower() in low)
    )


def classify_error(
    status: int,
    body: bytes,
    *,
    provider: str,
    model: str,
    key_env: str | None,
    url: str | None = None,
) -> ProviderError:
    msg, etype, code = _error_fields(body)
    low = f"{msg} {etype} {code}".lower()
    where = f"{provider} (HTTP {status})"
    if status == 404 and url and not _is_model_error(msg, etype, code, model):
        base = url.rsplit("/", 2)[0] if url.endswith("/chat/completions") else url
        path = urlsplit(url).path
        hint = "check the base URL (see docs/models.md)"
        if "/v1" not in path:
            hint = f"OpenAI-compatible servers usually serve the API under /v1: try {base}/v1"
        return EndpointNotFound(
            f"{provider}: {url} does not exist on the server (HTTP 404: {msg})", hint=hint
        )
    if status in (401, 403):
        hint = f"check that {key_env} holds a valid {provider} key" if key_env else None
        return ModelAuthError(f"{where} rejected the credentials: {msg}", hint=hint)
    if any(h in low for h in _OVERFLOW_HINTS):
        return ContextOverflow(
            f"the conversation is too long for {model}: {msg}",
            hint="shorten the input or pick a model with a larger context window",
        )
    if status == 404 or code == "model_not_found" or etype == "not_found_error":
        hint = "check the model name and the base URL (see docs/models.md)"
        if provider == "ollama":
            hint = f"pull it first: ollama pull {model}"
        return ModelNotFound(f"{where}: model '{model}' not found: {msg}", hint=hint)
    if status == 429:
        if "insufficient_quota" in low or "quota" in code:
            return BadRequest(
                f"{where}: quota exhausted: {msg}", hint="check the account's billing"
            )
        return RateLimited(f"{where}: rate limited: {msg}")
    if status >= 500 or status in (408, 409, 529):
        return ProviderUnavailable(f"{where}: server error: {msg}")
    return BadRequest(f"{where} rejected the request: {msg}")
