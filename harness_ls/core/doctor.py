"""Facts `agentctl doctor` reports about this machine: model resolution, git, the sandbox, the
diagram tools, and the MCP servers and hooks of the user config.

Plain facts, no verdicts: the host turns them into ✓/✗/! lines. Lives in the core so hosts reach
models/, gitrun/, tools/, workspace/ and agent/ through one layer (issue 33).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from harness_ls.agent.hooks import Hook, load_hooks
from harness_ls.gitrun import git_available, git_version
from harness_ls.models import describe, resolve
from harness_ls.tools import sandbox
from harness_ls.tools.mcp import load_config
from harness_ls.tools.mcp_config import ServerConfig

DIAGRAM_TOOLS = ("mmdc", "chromium", "awsdac")


@dataclass(frozen=True)
class ModelFacts:
    configured: list[str]  # providers with settings (never key values)
    offline: bool  # a run would use the offline model
    reason: str  # why offline ("" otherwise)
    provider: str
    model: str


@dataclass(frozen=True)
class GitFacts:
    available: bool
    version: str  # "" when git is missing


@dataclass(frozen=True)
class SandboxFacts:
    available: bool
    detail: str
    install_hint: str


def model_facts(workspace: Path) -> ModelFacts:
    """What a run started in `workspace` would use; raises (HarnessError or other) on bad settings."""
    configured = [p["name"] for p in describe(workspace)["providers"] if p["configured"]]
    resolved = resolve("run", workspace=workspace)
    return ModelFacts(
        configured=configured,
        offline=resolved.is_offline,
        reason=resolved.reason if resolved.is_offline else "",
        provider=resolved.info.provider,
        model=resolved.info.id,
    )


def git_facts() -> GitFacts:
    available = git_available()
    return GitFacts(available, git_version() if available else "")


def sandbox_facts() -> SandboxFacts:
    """Whether shell commands would run boxed here, and how to get it if not."""
    ok, detail = sandbox.availability()
    return SandboxFacts(ok, detail, sandbox.INSTALL_HINT)


def diagram_tool_paths(workspace: Path, fallback: Path) -> dict[str, str | None]:
    """mmdc, chromium, awsdac as the diagram tools would find them (mmdc also under `fallback`,
    the checkout); on any failure, plain PATH lookups."""
    try:
        from harness_ls.diagrams import tool_paths

        paths = tool_paths(workspace)
        if not paths.get("mmdc"):
            paths["mmdc"] = tool_paths(fallback).get("mmdc")
    except Exception:  # noqa: BLE001 - a doctor reports, it never fails
        paths = {name: shutil.which(name) for name in DIAGRAM_TOOLS}
    return paths


def mcp_servers(data_dir: Path) -> list[ServerConfig]:
    """The [mcp] servers of the user config, not started; HarnessError when the config is broken."""
    return list(load_config(data_dir).servers.values())


def hooks(data_dir: Path) -> list[Hook]:
    """The hooks of the user config; HarnessError when the config is broken."""
    return load_hooks(data_dir)
