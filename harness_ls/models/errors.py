"""Typed model errors: one line each, secrets masked, stable codes for hosts and events."""

from __future__ import annotations

from harness_ls.errors import InvalidInput, ModelError

from .env import mask_secrets


def one_line(text: str, limit: int = 240) -> str:
    """Collapse whitespace to one line and cut long provider messages."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class _Masked:
    """Mixin: mask secrets and flatten message/hint before they are stored."""

    def __init__(self, message: str, *, hint: str | None = None, details: object = None) -> None:
        super().__init__(  # type: ignore[call-arg]
            mask_secrets(one_line(message)),
            hint=mask_secrets(one_line(hint)) if hint else None,
            details=details,
        )


class ProviderError(_Masked, ModelError):
    """A model call failed; `retryable` tells the runtime whether trying again may help."""

    code = "model_error"
    retryable = False


class ModelNotConfigured(ProviderError):
    code = "model_not_configured"


class ModelAuthError(ProviderError):
    code = "model_auth"


class ModelNotFound(ProviderError):
    code = "model_not_found"


class EndpointNotFound(ProviderError):
    """The server has no such API path (a base URL without /v1, a wrong proxy prefix)."""

    code = "model_endpoint_not_found"


class ContextOverflow(ProviderError):
    code = "model_context_overflow"


class RateLimited(ProviderError):
    code = "model_rate_limited"
    retryable = True


class ProviderUnavailable(ProviderError):
    """5xx, connection refused, timeouts: the provider is (for now) not answering."""

    code = "model_unavailable"
    retryable = True


class BadRequest(ProviderError):
    code = "model_bad_request"


class MalformedResponse(ProviderError):
    code = "model_malformed_response"
    retryable = True


class StreamCut(ProviderError):
    """The stream ended before the provider said it was done: the answer is incomplete."""

    code = "model_stream_cut"
    retryable = True


class InvalidToolArguments(ProviderError):
    """The model asked for a tool with arguments that are not a JSON object."""

    code = "model_invalid_tool_arguments"
    retryable = True


class ScriptExhausted(ProviderError):
    code = "model_script_exhausted"


class UnknownModel(_Masked, InvalidInput):
    code = "unknown_model"


class ModelConfigError(_Masked, InvalidInput):
    """models.toml or a model setting is invalid."""

    code = "model_config"


class ModelUnsuitable(ProviderError):
    """The chosen model lacks a capability the task needs (tools, vision, audio, json)."""

    code = "model_unsuitable"


def json_object(provider: str, data: str | bytes) -> dict:
    """A provider's JSON body or SSE data line as an object, or MalformedResponse saying why."""
    import json

    try:
        doc = json.loads(data)
    except ValueError:
        raise MalformedResponse(
            f"{provider}: malformed JSON from the server: {one_line(str(data)[:120], 120)!r}"
        ) from None
    if not isinstance(doc, dict):
        raise MalformedResponse(f"{provider}: expected a JSON object, got {type(doc).__name__}")
    return doc
