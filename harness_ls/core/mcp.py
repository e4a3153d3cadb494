"""MCP servers of the user config, started and listed for a host (`agentctl mcp list`).

Lives in the core so hosts reach tools/mcp through one layer (issue 33).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness_ls.tools.mcp import McpHub, McpUnavailable


async def probe_servers(data_dir: Path, workspace: Path) -> list[dict[str, Any]]:
    """Start every configured server once: name, transport, target, status, tools (or error).

    A broken [mcp] config raises HarnessError naming the file and entry.
    """
    hub = McpHub(data_dir)
    out: list[dict[str, Any]] = []
    try:
        for server in hub.config().servers.values():
            row: dict[str, Any] = {
                "name": server.name,
                "transport": server.transport,
                "target": server.url or " ".join(server.argv(workspace)),
            }
            try:
                conn = await hub.connection(server, workspace)
            except McpUnavailable as exc:
                row.update(status="unavailable", error=exc.one_line(), tools=[])
            else:
                row.update(status="ok", tools=[f"{server.name}.{t.name}" for t in conn.tools])
            out.append(row)
    finally:
        await hub.close()
    return out
