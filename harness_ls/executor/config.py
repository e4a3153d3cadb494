"""Where runs execute: `[executor]` in <data dir>/config.toml, overridden by agentd's flags.

[executor]
kind = "ray"                 # "local" (default: in agentd's process) or "ray"
address = "ray://head:10001" # or "auto" / "10.0.0.5:6379"; absent: a local Ray beside agentd
namespace = "harness-ls"
num_cpus = 1                 # per run (the actor's reservation)
memory_mb = 2048             # optional
resources = { ssd = 1 }      # optional custom Ray resources
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness_ls.errors import InvalidInput

RAY_HINT = "install the extra: pip install 'harness-ls[ray]' (on agentd's machine and every node)"


class ExecutorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["local", "ray"] = "local"
    address: str | None = None
    namespace: str = "harness-ls"
    num_cpus: float = Field(1.0, ge=0)
    memory_mb: int | None = Field(None, gt=0)
    resources: dict[str, float] = {}


def load_settings(
    data_dir: Path, *, kind: str | None = None, address: str | None = None
) -> ExecutorSettings:
    """The `[executor]` table with flags on top; InvalidInput naming the bad key."""
    path = Path(data_dir) / "config.toml"
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        doc = {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(
            f"{path}: cannot be read: {exc}", hint="fix or remove the file"
        ) from None
    table = doc.get("executor") or {}
    if not isinstance(table, dict):
        raise InvalidInput(f"{path}: [executor] must be a table")
    if kind is not None:
        table = {**table, "kind": kind}
    if address is not None:
        table = {**table, "address": address, "kind": table.get("kind", "ray")}
    try:
        return ExecutorSettings.model_validate(table)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(
            f"{path} [executor]: {where}",
            hint='e.g. kind = "ray", address = "auto", num_cpus = 1 (see docs/scale-out.md)',
        ) from None


def require_ray() -> None:
    """InvalidInput with the install command when Ray is not installed."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise InvalidInput(
            "the Ray executor needs Ray, which is not installed", hint=RAY_HINT
        ) from None
