"""Model registry: a built-in table of known models, extended by models.toml files.

Later sources win: built-in < `<data_dir>/models.toml` < `<workspace>/.harness/models.toml`.
A models.toml may declare `[[models]]`, `[defaults]` (purpose -> "provider:model") and
`[providers.<name>]` (extra OpenAI-compatible or Anthropic-compatible endpoints).

A workspace's models.toml comes with the repository, so until the user trusts its exact content
(harness_ls/trust.py) it may only describe models and pick defaults among the user's providers:
it never adds a provider nor sets what decides where a request goes or which key it carries
(ROUTING). No models.toml may hand the harness's own secrets (HARNESS_*) to a provider.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from harness_ls.config import data_dir as default_data_dir
from harness_ls.errors import InvalidInput
from harness_ls.secrets import is_secret_name
from harness_ls.trust import MODELS, ConfigFile, read_config

from .errors import ModelConfigError

CAPABILITIES = ("tools", "vision", "audio", "json")


class ModelInfo(BaseModel):
    id: str  # the name sent to the provider's API, e.g. "gpt-4.1" or "qwen2.5-coder:7b"
    provider: str  # "openai" | "anthropic" | "ollama" | "scripted" | "offline" | a custom name
    context_window: int = 32_768
    max_output: int = 4_096
    supports_tools: bool = True
    supports_vision: bool = False
    supports_audio: bool = False
    supports_json: bool = True
    price_in: float | None = None  # USD per million input tokens
    price_out: float | None = None  # USD per million output tokens
    known: bool = True  # False when synthesized for a model the registry has never heard of

    @property
    def qualified(self) -> str:
        return f"{self.provider}:{self.id}"

    def cost(self, input_tokens: int, output_tokens: int) -> float | None:
        """USD for this many tokens, when the price is known."""
        if self.price_in is None or self.price_out is None:
            return None
        return (input_tokens * self.price_in + output_tokens * self.price_out) / 1_000_000

    def supports(self, need: str) -> bool:
        return bool(getattr(self, f"supports_{need}", False))

    def missing(self, needs: set[str] | frozenset[str]) -> list[str]:
        return sorted(n for n in needs if not self.supports(n))


class ProviderConfig(BaseModel):
    """How to reach a provider. Built-in ones read the usual environment variables."""

    name: str
    kind: Literal["openai", "anthropic"]
    base_url: str | None = None  # literal URL; else base_url_env / default
    base_url_env: str | None = None
    default_base_url: str | None = None
    api_key_env: str | None = None
    key_required: bool = True  # False: a loopback base URL works without a key
    auto: bool = True  # may be picked by automatic resolution when configured
    preferred: list[str] = []  # model ids tried in order by automatic resolution


def _m(id: str, provider: str, ctx: int, out: int, *, tools=True, vision=False, audio=False,
       json=True, price: tuple[float, float] | None = None) -> ModelInfo:  # fmt: skip
    return ModelInfo(
        id=id, provider=provider, context_window=ctx, max_output=out, supports_tools=tools,
        supports_vision=vision, supports_audio=audio, supports_json=json,
        price_in=price[0] if price else None, price_out=price[1] if price else None,
    )  # fmt: skip


# Prices in USD per million tokens as published by the providers (late 2025). The table
# lags new releases: name any model as "provider:model" or describe it in models.toml.
BUILTIN_MODELS: list[ModelInfo] = [
    _m("gpt-5", "openai", 400_000, 128_000, vision=True, price=(1.25, 10.0)),
    _m("gpt-5-mini", "openai", 400_000, 128_000, vision=True, price=(0.25, 2.0)),
    _m("gpt-5-nano", "openai", 400_000, 128_000, vision=True, price=(0.05, 0.40)),
    _m("gpt-4.1", "openai", 1_047_576, 32_768, vision=True, price=(2.0, 8.0)),
    _m("gpt-4.1-mini", "openai", 1_047_576, 32_768, vision=True, price=(0.40, 1.60)),
    _m("gpt-4.1-nano", "openai", 1_047_576, 32_768, vision=True, price=(0.10, 0.40)),
    _m("gpt-4o", "openai", 128_000, 16_384, vision=True, price=(2.50, 10.0)),
    _m("gpt-4o-mini", "openai", 128_000, 16_384, vision=True, price=(0.15, 0.60)),
    _m("gpt-4o-audio-preview", "openai", 128_000, 16_384, audio=True, price=(2.50, 10.0)),
    _m("o3", "openai", 200_000, 100_000, vision=True, price=(2.0, 8.0)),
    _m("o4-mini", "openai", 200_000, 100_000, vision=True, price=(1.10, 4.40)),
    _m("claude-sonnet-4-5", "anthropic", 200_000, 64_000, vision=True, price=(3.0, 15.0)),
    _m("claude-haiku-4-5", "anthropic", 200_000, 64_000, vision=True, price=(1.0, 5.0)),
    _m("claude-opus-4-1", "anthropic", 200_000, 32_000, vision=True, price=(15.0, 75.0)),
    _m("claude-sonnet-4-0", "anthropic", 200_000, 64_000, vision=True, price=(3.0, 15.0)),
    _m("claude-3-5-haiku-latest", "anthropic", 200_000, 8_192, vision=True, price=(0.80, 4.0)),
    # Gemini through Google's OpenAI-compatible endpoint (prices for prompts up to 200k tokens)
    _m("gemini-2.5-pro", "gemini", 1_048_576, 65_536, vision=True, audio=True, price=(1.25, 10.0)),
    _m(
        "gemini-2.5-flash", "gemini", 1_048_576, 65_536, vision=True, audio=True, price=(0.30, 2.50)
    ),
    # Common local models (Ollama tags; the context actually used depends on num_ctx).
    _m("qwen2.5-coder:7b", "ollama", 32_768, 8_192),
    _m("qwen2.5-coder:32b", "ollama", 32_768, 8_192),
    _m("qwen3:8b", "ollama", 40_960, 8_192),
    _m("gpt-oss:20b", "ollama", 131_072, 16_384),
    _m("llama3.1:8b", "ollama", 131_072, 8_192),
    _m("llama3.2-vision:11b", "ollama", 131_072, 8_192, tools=False, vision=True),
    _m("mistral-small3.2:24b", "ollama", 131_072, 8_192, vision=True),
    _m("gemma3:12b", "ollama", 131_072, 8_192, tools=False, vision=True),
]

BUILTIN_PROVIDERS: list[ProviderConfig] = [
    ProviderConfig(
        name="openai",
        kind="openai",
        base_url_env="OPENAI_BASE_URL",
        default_base_url="https://api.openai.com/v1",
        api_key_env="OPENAI_API_KEY",
        key_required=True,
        preferred=["gpt-5", "gpt-4.1", "gpt-4o", "gpt-4o-audio-preview"],
    ),  # fmt: skip
    ProviderConfig(
        name="anthropic",
        kind="anthropic",
        base_url_env="ANTHROPIC_BASE_URL",
        default_base_url="https://api.anthropic.com",
        api_key_env="ANTHROPIC_API_KEY",
        key_required=True,
        preferred=["claude-sonnet-4-5", "claude-haiku-4-5"],
    ),  # fmt: skip
    ProviderConfig(
        name="gemini",
        kind="openai",
        base_url_env="GEMINI_BASE_URL",
        default_base_url="https://generativelanguage.googleapis.com/v1beta/openai",
        api_key_env="GEMINI_API_KEY",
        key_required=True,
        preferred=["gemini-2.5-pro", "gemini-2.5-flash"],
    ),  # fmt: skip
    ProviderConfig(
        name="ollama",
        kind="openai",
        base_url_env="OLLAMA_HOST",
        default_base_url="http://127.0.0.1:11434",
        api_key_env=None,
        key_required=False,
        preferred=[
            "qwen2.5-coder:7b",
            "qwen3:8b",
            "gpt-oss:20b",
            "llama3.1:8b",
            "llama3.2-vision:11b",
        ],
    ),  # fmt: skip
]
RESERVED_PROVIDERS = {"scripted", "offline"}


class Registry(BaseModel):
    models: list[ModelInfo]
    providers: dict[str, ProviderConfig]
    defaults: dict[str, str] = {}  # purpose -> "provider:model"
    sources: list[str] = []  # files that contributed, for doctor output
    declared: list[str] = []  # qualified names declared in models.toml files
    warnings: list[str] = []  # e.g. an untrusted workspace file tried to re-point a provider

    def find(self, provider: str | None, model_id: str) -> ModelInfo | None:
        for info in reversed(self.models):  # later entries (models.toml) win
            if info.id == model_id and (provider is None or info.provider == provider):
                return info
        return None

    def for_provider(self, provider: str) -> list[ModelInfo]:
        seen: dict[str, ModelInfo] = {}
        for info in self.models:
            if info.provider == provider:
                seen[info.id] = info
        return list(seen.values())

    def names(self) -> list[str]:
        return sorted({m.qualified for m in self.models})


# What decides where a request goes and which credential it carries: only the user sets these.
ROUTING = ("kind", "base_url", "base_url_env", "default_base_url", "api_key_env")


def _check_keys(raw: object, model: type[BaseModel]) -> None:
    """Typos such as `suports_tools` must not be silently ignored."""
    if not isinstance(raw, dict):
        raise ValueError("must be a table")
    if unknown := sorted(set(raw) - set(model.model_fields) - {"name"}):
        raise ValueError(
            f"unknown key {', '.join(unknown)} (known: {', '.join(model.model_fields)})"
        )


def _parse(path: Path, text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelConfigError(
            f"{path}: cannot read models.toml: {exc}", hint="fix the TOML syntax"
        ) from None


def _narrowed(reg: Registry, doc: dict, file: ConfigFile) -> dict:
    """An untrusted workspace models.toml without what would re-route a request or a key: no
    new provider (nor its models and defaults), no ROUTING key of an existing one."""
    providers = doc.get("providers", {})
    if not isinstance(providers, dict):
        return doc
    kept: dict[str, object] = {}
    ignored: list[str] = []
    new = {name for name in providers if name not in reg.providers}
    for name, raw in providers.items():
        if name in new or not isinstance(raw, dict):
            ignored.append(f"[providers.{name}] (a new provider)")
            continue
        ignored += [f"providers.{name}.{k}" for k in ROUTING if k in raw]
        kept[name] = {k: v for k, v in raw.items() if k not in ROUTING}
    out = {**doc, "providers": kept}
    if new and isinstance(doc.get("models"), list):
        out["models"] = [
            m for m in doc["models"] if not (isinstance(m, dict) and m.get("provider") in new)
        ]
    if new and isinstance(doc.get("defaults"), dict):
        out["defaults"] = {k: v for k, v in doc["defaults"].items()
                           if str(v).partition(":")[0] not in new}  # fmt: skip
    if ignored:
        reg.warnings.append(
            f"{file.path} is not trusted, so it may not say where requests go or which key they "
            f"carry; ignored: {', '.join(ignored)}. " + file.untrusted_note()
        )
    return out


def _check_routing(cfg: ProviderConfig) -> None:
    """What no models.toml may do, trusted or not."""
    if cfg.api_key_env and cfg.api_key_env.upper().startswith("HARNESS_"):
        raise ValueError(
            f"api_key_env = {cfg.api_key_env!r}: the harness's own secrets are never sent to a "
            "model provider"
        )
    if cfg.base_url_env and is_secret_name(cfg.base_url_env):
        raise ValueError(f"base_url_env = {cfg.base_url_env!r} names a secret, not a URL")
    for label, url in (("base_url", cfg.base_url), ("default_base_url", cfg.default_base_url)):
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"{label} must be an http(s) URL")


def _merge_file(reg: Registry, path: Path, doc: dict | None = None) -> None:
    if doc is None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelConfigError(
                f"{path}: cannot read models.toml: {exc}", hint="fix the TOML syntax"
            ) from None
        doc = _parse(path, text)
    where = ""
    try:
        shapes = {"providers": dict, "models": list, "defaults": dict}
        for key, kind in shapes.items():
            if not isinstance(doc.get(key, kind()), kind):
                raise ValueError(
                    f"'{key}' must be a {'table' if kind is dict else 'list of [[models]] tables'}"
                )
        for name, raw in doc.get("providers", {}).items():
            where = f"providers.{name}."
            if name in RESERVED_PROVIDERS:
                raise ValueError(f"provider name '{name}' is reserved")
            _check_keys(raw, ProviderConfig)
            base = reg.providers.get(name)
            merged = (base.model_dump() if base else {"name": name}) | dict(raw)
            merged["name"] = name
            reg.providers[name] = ProviderConfig.model_validate(merged)
            _check_routing(reg.providers[name])
        for n, raw in enumerate(doc.get("models", []), 1):
            where = f"[[models]] #{n}: "
            _check_keys(raw, ModelInfo)
            info = ModelInfo.model_validate(raw)
            if info.provider not in reg.providers:
                raise ValueError(f"model '{info.id}' names unknown provider '{info.provider}'")
            reg.models.append(info)
            reg.declared.append(info.qualified)
        where = ""
        for purpose, name in doc.get("defaults", {}).items():
            if purpose not in ("run", "session", "spec", "chat"):
                raise ValueError(
                    f"[defaults] key '{purpose}' is not one of run, session, spec, chat"
                )
            reg.defaults[purpose] = str(name)
    except (ValidationError, ValueError, TypeError, AttributeError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            detail = f"{where}{'.'.join(str(x) for x in first['loc']) or 'entry'}: {first['msg']}"
        else:
            detail = f"{where}{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        raise ModelConfigError(
            f"{path}: invalid models.toml: {detail}", hint="see docs/models.md for the format"
        ) from None
    reg.sources.append(str(path))


def load_registry(
    workspace: Path | None = None, *, data_dir: Path | None = None, trusted_only: bool = False
) -> Registry:
    """Built-in models and providers, extended by models.toml in the data dir and workspace.
    `trusted_only`: leave out a workspace file the user has not trusted (what the user's own
    config says, e.g. which base URL each key is for)."""
    reg = Registry(
        models=list(BUILTIN_MODELS),
        providers={p.name: p.model_copy() for p in BUILTIN_PROVIDERS},
    )
    data = data_dir or default_data_dir()
    user = data / "models.toml"
    if user.is_file():
        _merge_file(reg, user)
    if workspace is None:
        return reg
    file = read_config(workspace, MODELS, data)
    if file.problem:
        reg.warnings.append(f"{file.path} ignored: {file.problem}")
    if file.content is None or (trusted_only and not file.trusted):
        return reg
    try:
        doc = _parse(file.path, file.text())
    except InvalidInput as exc:
        raise ModelConfigError(exc.message, hint="fix the file") from None
    _merge_file(reg, file.path, doc if file.trusted else _narrowed(reg, doc, file))
    return reg
