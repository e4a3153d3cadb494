"""The server's settings: one typed model, parsed once from initializationOptions and
`workspace/didChangeConfiguration`, reported clearly when wrong."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_SPEC_GLOBS = ["specs/**/spec.md", "**/*.spec.md"]


class SidecarSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    spec_globs: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SPEC_GLOBS), alias="specGlobs"
    )
    sidecar: SidecarSettings = SidecarSettings()
    token: str | None = None
    model: str | None = None
    policy_mode: Literal["read-only", "ask", "auto-edit", "full-auto"] = Field(
        default="ask", alias="policyMode"
    )
    approval_prompt: Literal["codeAction", "messageRequest"] = Field(
        default="codeAction", alias="approvalPrompt"
    )
    debounce_ms: int = Field(default=0, ge=0, le=5000, alias="debounceMs")


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
    merged = base.model_dump(by_alias=True) | raw
    try:
        return Settings.model_validate(merged), None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        return base, f"harness setting '{where}': {err['msg']} (keeping the previous value)"
