"""A small MCP server for tests, built with the official SDK: `echo`, `add`, `crash` (the
process exits mid-call) and `hang` (never answers). Serves stdio by default, or streamable
HTTP on 127.0.0.1 with `--http PORT`.

    python -m harness_ls.testing.mcp_server            # stdio
    python -m harness_ls.testing.mcp_server --http 0   # prints the URL, then serves
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys


def build() -> object:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("harness-test")

    @server.tool()
    def echo(text: str) -> str:
        """Echo the text back."""
        return f"echo: {text}"

    @server.tool()
    def add(a: int, b: int) -> str:
        """Add two integers."""
        return str(a + b)

    @server.tool()
    def crash() -> str:
        """Exit the server process in the middle of the call."""
        os._exit(3)

    @server.tool()
    async def hang() -> str:
        """Never answer."""
        await asyncio.sleep(3600)
        return "late"

    return server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness_ls.testing.mcp_server")
    parser.add_argument("--http", type=int, default=None, metavar="PORT", help="0: a free port")
    args = parser.parse_args(argv)
    server = build()
    if args.http is None:
        server.run()  # type: ignore[attr-defined]
        return 0
    port = args.http or free_port()
    print(f"http://127.0.0.1:{port}/mcp", flush=True)
    asyncio.run(
        server.run_streamable_http_async(host="127.0.0.1", port=port)  # type: ignore[attr-defined]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
