"""The server's settings: one typed model, parsed once from initializationOptions and
`workspace/didChangeConfiguration`, reported clearly when wrong (the previous value stays).

A plain dataclass with a small checker instead of pydantic: it sits on the cold-start path.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_SPEC_GLOBS = ["specs/**/spec.md", "**/*.spec.md"]
POLICY_MODES = ("read-only", "ask", "auto-edit", "full-auto")
APPROVAL_PROMPTS = ("auto", "diagnostic", "message", "both")
# the older `approvalPrompt` values, still accepted
LEGACY_PROMPTS = {"codeAction": "diagnostic", "messageRequest": "message"}


@dataclass(frozen=True)
class SidecarSettings:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8787


@dataclass(frozen=True)
class Settings:
    spec_globs: list[str] = field(default_factory=lambda: list(DEFAULT_SPEC_GLOBS))
    sidecar: SidecarSettings = SidecarSettings()
    token: str | None = None
    model: str | None = None
    policy_mode: str = "ask"
    approval_prompt: str = "auto"  # approvals.prompt
    debounce_ms: int = 0


class _Bad(ValueError):
    pass


def _check(value: Any, kind: type, name: str) -> Any:
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise _Bad(f"harness setting '{name}' must be an integer, got {value!r}")
    if not isinstance(value, kind):
        raise _Bad(f"harness setting '{name}' must be {kind.__name__}, got {value!r}")
    return value


def _choice(value: Any, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise _Bad(f"harness setting '{name}' must be one of {', '.join(choices)}, got {value!r}")
    return value


def _apply(base: Settings, raw: dict[str, Any]) -> Settings:
    s = base
    if "specGlobs" in raw:
        globs = _check(raw["specGlobs"], list, "specGlobs")
        if not all(isinstance(g, str) and g for g in globs):
            raise _Bad("harness setting 'specGlobs' must be a list of non-empty glob strings")
        s = replace(s, spec_globs=list(globs))
    if "sidecar" in raw:
        sc = _check(raw["sidecar"], dict, "sidecar")
        side = s.sidecar
        if "enabled" in sc:
            side = replace(side, enabled=_check(sc["enabled"], bool, "sidecar.enabled"))
        if "host" in sc:
            side = replace(side, host=_check(sc["host"], str, "sidecar.host"))
        if "port" in sc:
            port = _check(sc["port"], int, "sidecar.port")
            if not 0 <= port <= 65535:
                raise _Bad(f"harness setting 'sidecar.port' must be 0..65535, got {port}")
            side = replace(side, port=port)
        s = replace(s, sidecar=side)
    for key, attr in (("token", "token"), ("model", "model")):
        if key in raw:
            value = raw[key]
            s = replace(s, **{attr: None if value in (None, "") else _check(value, str, key)})
    if "policyMode" in raw:
        s = replace(s, policy_mode=_choice(raw["policyMode"], POLICY_MODES, "policyMode"))
    if "approvalPrompt" in raw:
        value = raw["approvalPrompt"]
        value = LEGACY_PROMPTS.get(value, value)
        s = replace(s, approval_prompt=_choice(value, APPROVAL_PROMPTS, "approvalPrompt"))
    if "approvals" in raw:
        approvals = _check(raw["approvals"], dict, "approvals")
        if "prompt" in approvals:
            value = _choice(approvals["prompt"], APPROVAL_PROMPTS, "approvals.prompt")
            s = replace(s, approval_prompt=value)
    if "debounceMs" in raw:
        ms = _check(raw["debounceMs"], int, "debounceMs")
        s = replace(s, debounce_ms=max(0, min(ms, 5000)))
    return s


def parse_settings(raw: Any, current: Settings | None = None) -> tuple[Settings, str | None]:
    """Settings from a client payload (the `harness` key or the object itself).

    Returns the settings and an error message; on error the previous settings stay in force.
    """
    base = current or Settings()
    if raw is None:
        return base, None
    if isinstance(raw, dict) and isinstance(raw.get("harness"), dict):
        raw = raw["harness"]
    if not isinstance(raw, dict):
        return base, f"harness settings must be an object, got {type(raw).__name__}"
    try:
        return _apply(base, raw), None
    except _Bad as exc:
        return base, f"{exc} (keeping the previous value)"
