"""MCP tools for one run or session: the configured servers' tools added to the built-in ones,
behind a policy that gates them like any tool (see tools/mcp.py). A server that cannot start is
a warning event; its tools are absent and the run goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness_ls.errors import HarnessError


async def add_mcp_tools(
    harness: Any, workspace: Path, stream: Any, tools: dict[str, Any], policy: Any
) -> tuple[dict[str, Any], Any]:
    """(tools, policy) with the MCP servers' tools added; unchanged when none is configured."""
    from harness_ls.tools.mcp import McpPolicy

    for_workspace = getattr(harness, "mcp_for", None)  # a Ray worker has no hub at all
    hub = for_workspace(workspace) if for_workspace else harness.mcp
    if hub is None:
        return tools, policy
    try:
        found, cfg, problems = await hub.toolset(workspace)
    except HarnessError as exc:  # a broken [mcp] config: said once, the run goes on without it
        await _warn(stream, "mcp.config", exc.one_line())
        return tools, policy
    for problem in problems:
        await _warn(stream, "mcp.unavailable", problem)
    if not found:
        return tools, policy
    clash = sorted(set(found) & set(tools))
    if clash:
        await _warn(
            stream, "mcp.name_clash", f"MCP tools shadowing built-in tools ignored: {clash}"
        )
        found = {n: t for n, t in found.items() if n not in tools}
    return {**tools, **found}, McpPolicy(policy, found, cfg)


async def _warn(stream: Any, code: str, message: str) -> None:
    await stream.append("log", {"level": "warning", "code": code, "message": message})
