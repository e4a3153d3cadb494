"""MCP servers a run in a workspace would get, started and listed for a host (`agentctl mcp list`):
the user's own servers and those of the workspace's trusted `.harness/mcp.toml` (started in the
command sandbox, as a run starts them); an untrusted file is listed, not started.

Lives in the core so hosts reach tools/mcp through one layer (issue 33).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness_ls.tools.mcp import McpHub, McpUnavailable
from harness_ls.tools.mcp_config import WORKSPACE_MCP, ServerConfig, load_workspace_servers


async def probe_servers(data_dir: Path, workspace: Path) -> list[dict[str, Any]]:
    """Start every server a run here would start, once: name, source (`user` / `workspace`),
    transport, target, sandboxed, status (`ok`, `unavailable`, `not_started`), tools or error.

    The user's own server wins a name clash, as in a run. A broken user [mcp] config raises
    HarnessError naming the file and entry; a workspace file that is untrusted or broken is a
    `not_started` row whose error says why and what to run.
    """
    hub = McpHub(data_dir)
    user = hub.config().servers
    extra, warning = load_workspace_servers(workspace, data_dir)
    servers: list[tuple[str, ServerConfig]] = [("user", s) for s in user.values()]
    servers += [("workspace", s) for name, s in extra.items() if name not in user]
    out: list[dict[str, Any]] = []
    try:
        for source, server in servers:
            row: dict[str, Any] = {
                "name": server.name,
                "source": source,
                "transport": server.transport,
                "target": server.url or " ".join(server.argv(workspace)),
                "sandboxed": server.sandboxed,
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
    if warning:
        out.append({"name": WORKSPACE_MCP.as_posix(), "source": "workspace", "transport": "-",
                    "target": str(workspace / WORKSPACE_MCP), "sandboxed": True,
                    "status": "not_started", "error": warning, "tools": []})  # fmt: skip
    shadowed = sorted(set(extra) & set(user))
    for name in shadowed:
        out.append({"name": name, "source": "workspace", "transport": "-", "target": "-",
                    "sandboxed": True, "status": "not_started",
                    "error": f"{WORKSPACE_MCP} declares {name!r} too: your own server of that "
                    "name is used instead", "tools": []})  # fmt: skip
    return out
