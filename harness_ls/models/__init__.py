"""Models: provider-neutral types, a registry, resolution, and HTTP/scripted/offline providers.

    from harness_ls.models import resolve, Message
    model = resolve("run", workspace=ws)          # never raises for "nothing configured"
    if model.is_offline: ...                      # tell the user model.reason
    async for ev in model.stream([Message(role="user", content="hi")], tools): ...

See docs/models.md for configuration (env vars, models.toml, local servers).
"""

from __future__ import annotations

from .anthropic import AnthropicProvider
from .env import (
    SecretMaskingFilter,
    install_log_masking,
    is_secret_name,
    load_env,
    mask_secrets,
    register_secret,
)
from .errors import (
    BadRequest,
    ContextOverflow,
    InvalidToolArguments,
    MalformedResponse,
    ModelAuthError,
    ModelConfigError,
    ModelNotConfigured,
    ModelNotFound,
    ModelUnsuitable,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    ScriptExhausted,
    StreamCut,
    UnknownModel,
)
from .http import HttpSettings, aclose_clients
from .openai import OpenAIProvider
from .registry import BUILTIN_MODELS, ModelInfo, ProviderConfig, Registry, load_registry
from .resolve import ResolvedModel, describe, offline, provider_status, resolve
from .scripted import OfflineProvider, ScriptedProvider, load_script
from .types import (
    Completion,
    ContentPart,
    Done,
    Message,
    Provider,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    ToolSpec,
    Usage,
    collect,
)

__all__ = [
    "AnthropicProvider", "BUILTIN_MODELS", "aclose_clients", "SecretMaskingFilter", "install_log_masking", "BadRequest", "Completion", "ContentPart", "ContextOverflow",
    "Done", "HttpSettings", "InvalidToolArguments", "MalformedResponse", "Message", "ModelAuthError",
    "ModelConfigError", "ModelInfo", "ModelNotConfigured", "ModelNotFound", "ModelUnsuitable",
    "OfflineProvider", "OpenAIProvider", "Provider", "ProviderConfig", "ProviderError",
    "ProviderUnavailable", "RateLimited", "Registry", "ResolvedModel", "ScriptExhausted",
    "ScriptedProvider", "StreamCut", "StreamEvent", "TextDelta", "ToolCall", "ToolCallEvent",
    "ToolSpec", "UnknownModel", "Usage", "collect", "describe", "is_secret_name", "load_env",
    "load_registry", "load_script", "mask_secrets", "offline", "provider_status", "register_secret",
    "resolve",
]  # fmt: skip
