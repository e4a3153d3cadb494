"""Which model a run, session or spec generation uses, and why.

Precedence: `explicit` (e.g. --model) > HARNESS_MODEL > models.toml `[defaults]` > the first
provider with credentials (openai, anthropic, ollama, then models.toml providers) that has a
model meeting the needs > offline. Named models that cannot work raise a one-line error;
having nothing configured never raises: it resolves to the offline provider.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from harness_ls.errors import InvalidInput
from harness_ls.secrets import getenv

from .anthropic import AnthropicProvider
from .errors import ModelAuthError, ModelNotConfigured, ModelUnsuitable, UnknownModel
from .http import is_loopback
from .keys import BoundKey, origin
from .openai import OpenAIProvider
from .registry import (
    BUILTIN_MODELS,
    CAPABILITIES,
    ModelInfo,
    ProviderConfig,
    Registry,
    load_registry,
)
from .scripted import OFFLINE_HINT, OfflineProvider, shared_script
from .types import Completion, Message, Provider, StreamEvent, ToolSpec

Purpose = Literal["run", "session", "spec", "chat"]
_PURPOSE_NEEDS: dict[str, frozenset[str]] = {
    "run": frozenset({"tools"}),
    "session": frozenset({"tools"}),
    "spec": frozenset(),
    "chat": frozenset(),
}


@dataclass
class ResolvedModel:
    info: ModelInfo
    provider: Provider
    is_offline: bool
    reason: str  # one line: why this model (or why offline), safe to show in events
    needs: frozenset[str] = field(default_factory=frozenset)
    hint: str | None = None  # offline: how to configure a model (for the model.unavailable event)
    warnings: list[str] = field(default_factory=list)  # e.g. an untrusted models.toml ignored

    @property
    def name(self) -> str:
        """ "provider:model" as users write it ("offline" for the offline stand-in)."""
        return "offline" if self.is_offline else self.info.qualified

    def stream(
        self, messages: list[Message], tools: list[ToolSpec] | None = None, **opts: Any
    ) -> AsyncIterator[StreamEvent]:
        return self.provider.stream(self.info.id, messages, tools, **opts)

    async def complete(
        self, messages: list[Message], tools: list[ToolSpec] | None = None, **opts: Any
    ) -> Completion:
        return await self.provider.complete(self.info.id, messages, tools, **opts)


# --- provider credentials ----------------------------------------------------------------------


@dataclass
class ProviderStatus:
    config: ProviderConfig
    base_url: str
    api_key: str | None
    configured: bool  # usable without the user naming it (key set, or local URL given)
    reachable: bool  # usable when named explicitly
    missing: str  # what to set when not reachable / not configured

    def build(self, origins: dict[str, frozenset[str]] | None = None) -> Provider:
        """The provider, its key bound to the origins the user configured for that key
        (`origins`, from `key_origins`), else to this provider's own base URL."""
        cls = AnthropicProvider if self.config.kind == "anthropic" else OpenAIProvider
        env = self.config.api_key_env
        key: str | BoundKey | None = self.api_key
        if key is not None and origins is not None:
            key = BoundKey(key, env, origins.get(env or "", frozenset()))
        return cls(self.base_url, key, name=self.config.name, key_env=env)


def key_origins(workspace: Path | None, data_dir: Path | None) -> dict[str, frozenset[str]]:
    """Key variable -> the origins the user's own config (environment, data-dir models.toml, a
    trusted workspace models.toml) sends it to: the only places that key may go."""
    out: dict[str, set[str]] = {}
    for cfg in load_registry(workspace, data_dir=data_dir, trusted_only=True).providers.values():
        where = origin(provider_status(cfg).base_url) if cfg.api_key_env else ""
        if where:
            out.setdefault(cfg.api_key_env or "", set()).add(where)
    return {env: frozenset(found) for env, found in out.items()}


def _ollama_url(raw: str) -> str:
    """OLLAMA_HOST forms: "host:port", "0.0.0.0", "http://host:port" -> ".../v1"."""
    if "://" not in raw:
        raw = f"http://{raw}"
    parts = urlsplit(raw)
    host = parts.hostname or "127.0.0.1"
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    netloc = f"{host}:{parts.port or 11434}"
    path = parts.path.rstrip("/")
    return urlunsplit(
        (parts.scheme, netloc, path if path.endswith("/v1") else f"{path}/v1", "", "")
    )


def provider_status(cfg: ProviderConfig) -> ProviderStatus:
    env_base = os.environ.get(cfg.base_url_env, "").strip() if cfg.base_url_env else ""
    base = cfg.base_url or env_base or cfg.default_base_url or ""
    if cfg.base_url_env == "OLLAMA_HOST":
        base = _ollama_url(base)
    key = (getenv(cfg.api_key_env) or "").strip() or None if cfg.api_key_env else None
    local = bool(base) and is_loopback(base)
    keyless_ok = not cfg.key_required or local
    reachable = bool(base) and (key is not None or keyless_ok)
    # a loopback server counts as configured only when the user pointed us at it
    configured = reachable and (key is not None or bool(cfg.base_url or env_base))
    missing = ""
    if not base:
        missing = f"set base_url for provider {cfg.name} in models.toml"
    elif not reachable:
        missing = (
            f"set {cfg.api_key_env}"
            if cfg.api_key_env
            else f"set api_key_env (or key_required = false) for provider {cfg.name} in models.toml"
        )
    elif not configured:
        missing = f"set {cfg.base_url_env}" if cfg.base_url_env else "set its base_url"
    return ProviderStatus(cfg, base, key, configured, reachable, missing)


def _check_key_shape(st: ProviderStatus) -> None:
    """Catch the classic mix-up: an Anthropic key in OPENAI_API_KEY or the reverse."""
    key, cfg = st.api_key or "", st.config
    if cfg.base_url_env and os.environ.get(cfg.base_url_env):
        return  # proxies and gateways use their own key formats
    if cfg.name == "openai" and key.startswith("sk-ant-"):
        raise ModelAuthError(
            "OPENAI_API_KEY holds an Anthropic key (it starts with sk-ant-)",
            hint="move it to ANTHROPIC_API_KEY",
        )
    if cfg.name == "anthropic" and key.startswith("sk-") and not key.startswith("sk-ant-"):
        raise ModelAuthError(
            "ANTHROPIC_API_KEY holds what looks like an OpenAI key (Anthropic keys start with sk-ant-)",
            hint="move it to OPENAI_API_KEY",
        )


# --- resolution --------------------------------------------------------------------------------


def _needs(purpose: str, needs: set[str] | frozenset[str]) -> frozenset[str]:
    if purpose not in _PURPOSE_NEEDS:
        raise InvalidInput(f"unknown purpose {purpose!r}", hint="use run, session, spec or chat")
    bad = sorted(set(needs) - set(CAPABILITIES))
    if bad:
        raise InvalidInput(
            f"unknown model capability {', '.join(bad)}", hint=f"use {', '.join(CAPABILITIES)}"
        )
    return frozenset(needs) | _PURPOSE_NEEDS[purpose]


def _what(purpose: str, needs: frozenset[str]) -> str:
    return f"{', '.join(sorted(needs)) or 'text'} (for a {purpose})"


def offline(reason: str) -> ResolvedModel:
    info = ModelInfo(
        id="offline", provider="offline", context_window=0, max_output=0, supports_tools=False,
        supports_json=False,
    )  # fmt: skip
    return ResolvedModel(
        info, OfflineProvider(reason), True, f"offline: {reason}", hint=OFFLINE_HINT
    )


def _scripted(
    path_text: str, workspace: Path | None, needs: frozenset[str], source: str
) -> ResolvedModel:
    path = Path(path_text).expanduser()
    if not path.is_absolute():
        path = (workspace or Path.cwd()) / path
    provider = shared_script(path.resolve())
    info = ModelInfo(
        id=str(path.resolve()), provider="scripted", context_window=1_000_000, max_output=100_000,
        supports_vision=True, supports_audio=True,
    )  # fmt: skip
    return ResolvedModel(info, provider, False, f"scripted responses from {path} ({source})", needs)


def _split(name: str, reg: Registry) -> tuple[str | None, str]:
    prefix, sep, rest = name.partition(":")
    if sep and prefix in reg.providers:
        return prefix, rest
    return None, name  # bare name; Ollama tags such as "llama3:8b" contain colons too


def _suggest(reg: Registry, needs: frozenset[str]) -> str:
    for st in (provider_status(c) for c in reg.providers.values()):
        for m in reg.for_provider(st.config.name):
            if st.configured and not m.missing(needs):
                return m.qualified
    fits = [m.qualified for m in BUILTIN_MODELS if not m.missing(needs)]
    return fits[0] if fits else "openai:gpt-4.1"


def _named(name: str, purpose: str, needs: frozenset[str], reg: Registry,
           workspace: Path | None, source: str,
           origins: dict[str, frozenset[str]] | None = None) -> ResolvedModel:  # fmt: skip
    if name == "offline":
        return offline(f"chosen by {source}")
    if name.startswith("scripted:"):
        return _scripted(name.removeprefix("scripted:"), workspace, needs, source)
    provider, model_id = _split(name, reg)
    if not model_id:
        raise UnknownModel(f"model name missing in '{name}'", hint=f"e.g. {provider}:<model>")
    info = reg.find(provider, model_id)
    if info is None and provider is None:
        close = difflib.get_close_matches(model_id, [m.id for m in reg.models], n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        hint += f"providers: {', '.join(sorted(reg.providers))}; "
        raise UnknownModel(
            f"unknown model '{name}' ({source})",
            hint=f"{hint}name an unlisted model with its provider, e.g. openai:{model_id} or ollama:{model_id}",
        )
    if info is None:
        info = ModelInfo(id=model_id, provider=provider or "openai", known=False)
    status = provider_status(reg.providers[info.provider])
    if not status.reachable:
        raise ModelNotConfigured(
            f"model {info.qualified} ({source}) needs {status.config.api_key_env or 'a base URL'}",
            hint=f"{status.missing} in the environment or .env.local, or pick another model",
        )
    _check_key_shape(status)
    if missing := info.missing(needs):
        extra = "" if info.known else " (unlisted model: declare its capabilities in models.toml)"
        raise ModelUnsuitable(
            f"model {info.qualified} does not support {', '.join(missing)}, needed for a {purpose}{extra}",
            hint=f"pick a model that does, e.g. {_suggest(reg, needs)}",
        )
    built = status.build(origins)
    return ResolvedModel(info, built, False, f"{info.qualified} ({source})", needs)


def _auto(
    purpose: str,
    needs: frozenset[str],
    reg: Registry,
    origins: dict[str, frozenset[str]] | None = None,
) -> ResolvedModel:
    skipped: list[str] = []
    unsuitable: list[str] = []
    for cfg in reg.providers.values():
        st = provider_status(cfg)
        if not st.configured or not cfg.auto:
            continue
        _check_key_shape(st)
        declared = [m for m in reg.for_provider(cfg.name) if m.qualified in reg.declared]
        cloud = st.base_url == cfg.default_base_url and not is_loopback(st.base_url)
        if cloud:
            order = {mid: n for n, mid in enumerate(cfg.preferred)}
            builtin = [m for m in reg.for_provider(cfg.name) if m.qualified not in reg.declared]
            candidates = declared + sorted(builtin, key=lambda m: order.get(m.id, len(order)))
        else:
            candidates = declared  # which models a local server or gateway has is the user's call
            if not candidates:
                env = cfg.base_url_env or "its base_url"
                skipped.append(
                    f"{env} is set but no model is named: set HARNESS_MODEL={cfg.name}:<model>"
                )
                continue
        for info in candidates:
            if not info.missing(needs):
                via = cfg.api_key_env if st.api_key else cfg.base_url_env or cfg.name
                reason = f"{info.qualified}: first configured provider ({via}) with a model for {_what(purpose, needs)}"
                return ResolvedModel(info, st.build(origins), False, reason, needs)
        unsuitable.append(cfg.name)
    if unsuitable:
        raise ModelUnsuitable(
            f"no model of the configured providers ({', '.join(unsuitable)}) supports {_what(purpose, needs)}",
            hint=f"set HARNESS_MODEL to one that does, e.g. {_suggest(reg, needs)}, or declare one in models.toml",
        )
    checked = "OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, OPENAI_BASE_URL, OLLAMA_HOST"
    return offline("; ".join(skipped) if skipped else f"none of {checked} is set")


def resolve(
    purpose: Purpose = "run",
    needs: set[str] | frozenset[str] = frozenset(),
    explicit: str | None = None,
    *,
    workspace: Path | None = None,
    data_dir: Path | None = None,
) -> ResolvedModel:
    """Pick the model for `purpose` (run/session need tools) that has every capability in `needs`."""
    all_needs = _needs(purpose, needs)
    reg = load_registry(workspace, data_dir=data_dir)
    origins = key_origins(workspace, data_dir)
    resolved: ResolvedModel | None = None
    for value, source in (
        (explicit, "--model"),
        (os.environ.get("HARNESS_MODEL"), "HARNESS_MODEL"),
        (reg.defaults.get(purpose), f"models.toml [defaults] {purpose}"),
    ):
        if value and value.strip():
            resolved = _named(value.strip(), purpose, all_needs, reg, workspace, source, origins)
            break
    resolved = resolved or _auto(purpose, all_needs, reg, origins)
    resolved.warnings = list(reg.warnings)
    return resolved


def describe(workspace: Path | None = None, *, data_dir: Path | None = None) -> dict[str, Any]:
    """Doctor view: providers (configured or not, never key values), models and sources."""
    from .env import mask_secrets

    reg = load_registry(workspace, data_dir=data_dir)
    providers = []
    for cfg in reg.providers.values():
        st = provider_status(cfg)
        providers.append({
            "name": cfg.name, "kind": cfg.kind, "base_url": mask_secrets(st.base_url),
            "configured": st.configured, "key_set": st.api_key is not None, "missing": st.missing,
        })  # fmt: skip
    return {
        "providers": providers,
        "models": reg.names(),
        "sources": reg.sources,
        "defaults": reg.defaults,
        "warnings": reg.warnings,
    }
