"""`agentctl mcp list`: the MCP servers a run in the workspace would get (your config's, and the
workspace's trusted `.harness/mcp.toml`, boxed), started here, with their tools and status (no
daemon needed) — the quickest way to see why a server's tools do not show up."""

from __future__ import annotations

import asyncio
from typing import Any

from harness_ls.cli import errors as ex
from harness_ls.cli.errors import CliError
from harness_ls.cli.workspace import workspace_arg
from harness_ls.errors import HarnessError


def list_servers(app: Any) -> int:
    ws = workspace_arg(app.args.workspace)
    from harness_ls.core.mcp import probe_servers

    try:
        rows = asyncio.run(probe_servers(app.data_dir, ws))
    except HarnessError as exc:  # a broken [mcp] config: the message names file and entry
        raise CliError(exc.message, exit_code=ex.USAGE, hint=exc.hint) from None
    if app.json:
        app.emit_json(rows)
        return _exit(rows)
    if not rows:
        app.out("no MCP servers configured")
        app.note(f"declare them under [mcp.servers.<name>] in {app.data_dir / 'config.toml'} "
                 "(see docs/mcp.md)")  # fmt: skip
        return ex.OK
    s = app.style
    for r in rows:
        mark = {"ok": s.ok, "unavailable": s.bad}.get(r["status"], s.warn)
        if r["status"] == "not_started":
            app.out(f"{mark} {s.bold(r['name'])} (workspace, not started)")
        else:
            where = f"{r['source']}, in the sandbox" if r["sandboxed"] else r["source"]
            app.out(f"{mark} {s.bold(r['name'])} ({where}; {r['transport']}: {r['target']})")
        if r["status"] != "ok":
            app.out(f"    {r['error']}")
        for tool in r["tools"]:
            app.out(f"    mcp:{tool}")
    return _exit(rows)


def _exit(rows: list[dict[str, Any]]) -> int:
    """Failed only when a server that should start did not (an untrusted file is not an error)."""
    return ex.FAILED if any(r["status"] == "unavailable" for r in rows) else ex.OK
