"""MCP servers as tools: the user's Model Context Protocol servers (a database, a browser, the
issue tracker) appear to the model next to the built-in tools and go through the same gate.

Configured in the user config `<data dir>/config.toml` (a cloned repository cannot add servers):

    [mcp.servers.git]
    command = ["mcp-server-git", "--repository", "{workspace}"]   # stdio; {workspace} is filled in
    env = { GIT_PAGER = "cat" }
    timeout = 60                                                  # seconds per call (default 60)

    [mcp.servers.tracker]
    url = "http://127.0.0.1:9000/mcp"                             # streamable HTTP
    headers = { Authorization = "Bearer …" }

    [mcp]                     # policy for MCP tools: default ask (deny in read-only, allow in
    allow = ["time.*"]        # full-auto); patterns are `server.tool` globs; deny beats ask
    deny = ["git.git_reset"]  # beats allow

The model sees `server__tool` (function names may not contain dots); events, approvals and
rules name it `mcp:server.tool`. Each call has a timeout, its output is capped and masked like
any tool's; a server that cannot start, crashes or stops answering is an error the model reads
and a warning event — never a hung run.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import fnmatch
import json
import logging
import os
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from harness_ls.errors import HarnessError
from harness_ls.tools.base import ActionPreview, Kind, Tool, ToolContext, ToolResult, cut_middle
from harness_ls.tools.mcp_box import ServerBox, box_server
from harness_ls.tools.mcp_config import (  # noqa: F401 - re-exported
    DEFAULT_CALL_TIMEOUT,
    SEP,
    WORKSPACE_MCP,
    McpConfig,
    ServerConfig,
    load_config,
    load_workspace_servers,
)

log = logging.getLogger("harness_ls.mcp")

START_TIMEOUT = 30.0


class McpUnavailable(HarnessError):
    code = "mcp_unavailable"
    status = 502


# --- connections ---------------------------------------------------------------------------------


class McpConnection:
    """One running server. The SDK's context managers live in a holder task (anyio needs them
    entered and exited in one task); calls from any task go through the session it opened."""

    def __init__(self, cfg: ServerConfig, workspace: Path, data_dir: Path | None = None) -> None:
        self.cfg = cfg
        self.workspace = workspace
        self.data_dir = data_dir
        self.box: ServerBox | None = None
        self.session: Any = None
        self.tools: list[Any] = []
        self.error: str | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def alive(self) -> bool:
        return self.session is not None and self._task is not None and not self._task.done()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._hold(), name=f"mcp:{self.cfg.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), START_TIMEOUT)
        except TimeoutError:
            self.error = f"did not start within {START_TIMEOUT:g} s"
            await self.close()
        if self.session is None:
            raise McpUnavailable(
                f"MCP server {self.cfg.name} is unavailable: {self.error or 'it exited'}",
                hint=f"check [mcp.servers.{self.cfg.name}] in the user config.toml "
                "(`agentctl mcp list` tries it)",
            )

    async def _hold(self) -> None:
        from mcp import ClientSession

        try:
            async with self._transport() as streams, ClientSession(streams[0], streams[1]) as s:
                await s.initialize()
                self.tools = list((await s.list_tools()).tools)
                self.session = s
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:  # noqa: BLE001 - any failure makes the server unavailable
            self.error = _describe(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self.session = None
            self._ready.set()

    def _transport(self) -> Any:
        if self.cfg.url:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            client = create_mcp_http_client(headers=self.cfg.headers or None)
            return _owned(client, streamable_http_client(self.cfg.url, http_client=client))
        from mcp import StdioServerParameters, stdio_client

        argv = self.cfg.argv(self.workspace)
        env = dict(self.cfg.env)
        if self.cfg.sandboxed:
            self.box = box_server(argv, self.workspace, self.data_dir)
            argv = self.box.argv
            env.update(self.box.env)
        params = StdioServerParameters(
            command=argv[0], args=argv[1:], env=env or None, cwd=str(server_cwd())
        )
        return stdio_client(params, errlog=open(os.devnull, "w"))  # noqa: SIM115 - closed at exit

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        session = self.session
        if session is None:
            raise McpUnavailable(f"MCP server {self.cfg.name} is not running: {self.error}")
        try:
            return await asyncio.wait_for(
                session.call_tool(tool, arguments), timeout=self.cfg.timeout
            )
        except TimeoutError:
            await self.close()  # a server that stopped answering is restarted on the next call
            raise McpUnavailable(
                f"MCP server {self.cfg.name} did not answer {tool} within {self.cfg.timeout:g} s",
                hint=f"raise timeout in [mcp.servers.{self.cfg.name}] if the tool is slow",
            ) from None
        except Exception as exc:  # noqa: BLE001 - a crash mid-call is an error, not a hang
            what = _describe(exc)
            if not self.alive or "connection closed" in what.lower():
                await self.close()  # restarted on the next call
                raise McpUnavailable(
                    f"MCP server {self.cfg.name} stopped during {tool} ({what}); "
                    "the call's effects are unknown",
                    hint="it is restarted on the next call",
                ) from None
            raise McpUnavailable(f"MCP {self.cfg.name}.{tool} failed: {what}") from None

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None and not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            except (TimeoutError, Exception):  # noqa: BLE001
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task
        if self.box is not None:
            self.box.cleanup()


@contextlib.asynccontextmanager
async def _owned(client: Any, transport: Any) -> Any:
    async with client, transport as streams:
        yield streams


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class McpHub:
    """The running servers of one harness, per (server, workspace); started on first use and
    kept until the harness closes, so later runs do not pay the start-up again."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._conns: dict[tuple[str, str], McpConnection] = {}
        self._lock = asyncio.Lock()

    def config(self) -> McpConfig:
        return load_config(self.data_dir)

    async def connection(self, cfg: ServerConfig, workspace: Path) -> McpConnection:
        key = (cfg.name, str(workspace))
        async with self._lock:
            conn = self._conns.get(key)
            if conn is not None and conn.alive and conn.cfg == cfg:
                return conn
            if conn is not None:
                await conn.close()
            conn = McpConnection(cfg, workspace, self.data_dir)
            self._conns[key] = conn
        await conn.start()
        return conn

    async def toolset(self, workspace: Path) -> tuple[dict[str, Tool], McpConfig, list[str]]:
        """Tools of every configured server for this workspace, the config, and one warning per
        server that could not start (its tools are simply absent)."""
        cfg = self.config()
        tools: dict[str, Tool] = {}
        problems: list[str] = []
        extra, warning = load_workspace_servers(workspace, self.data_dir)
        if warning:
            problems.append(warning)
        servers = {**extra, **cfg.servers}  # the user's own servers win a name clash
        for server in servers.values():
            try:
                conn = await self.connection(server, workspace)
            except McpUnavailable as exc:
                problems.append(exc.one_line())
                continue
            for spec in conn.tools:
                tool = McpTool(self, server, spec)
                tools[tool.name] = tool
        return tools, cfg, problems

    async def close(self) -> None:
        conns, self._conns = list(self._conns.values()), {}
        for conn in conns:
            await conn.close()


# --- the tool and its policy -------------------------------------------------------------------


def _args_model(schema: dict[str, Any]) -> type[BaseModel]:
    """Arguments pass through as the server's JSON Schema says (the server validates them)."""
    frozen = copy.deepcopy(schema) or {"type": "object", "properties": {}}

    class Args(BaseModel):
        model_config = ConfigDict(extra="allow")

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
            return copy.deepcopy(frozen)

    return Args


class McpTool(Tool):
    kind: ClassVar[Kind] = "mcp"

    def __init__(self, hub: McpHub, server: ServerConfig, spec: Any) -> None:
        self.hub = hub
        self.server = server
        self.tool = spec.name
        self.name = f"{server.name}{SEP}{spec.name}"  # type: ignore[misc]
        self.qualified = f"{server.name}.{spec.name}"
        self.description = (f"[MCP {server.name}] " + (spec.description or spec.name))[
            # type: ignore[misc]
            :1024
        ]
        self.Args = _args_model(dict(spec.input_schema or {}))  # type: ignore[misc]
        self.event_fields = {"mcp_server": server.name, "mcp_tool": spec.name}

    def _preview(self, ctx: ToolContext, args: Any) -> ActionPreview:
        data = args.model_dump() if isinstance(args, BaseModel) else dict(args)
        shown = json.dumps(data, ensure_ascii=False, sort_keys=True)
        return ActionPreview(
            kind="mcp",
            summary=f"mcp:{self.qualified} {shown if len(shown) <= 300 else shown[:297] + '...'}",
            command=f"mcp:{self.qualified} {shown}",
        )

    async def _run(self, ctx: ToolContext, args: Any) -> ToolResult:
        data = args.model_dump() if isinstance(args, BaseModel) else dict(args)
        conn = await self.hub.connection(self.server, ctx.workspace)
        result = await conn.call(self.tool, data)
        text = _result_text(result)
        text, cut = cut_middle(text, ctx.output_cap)
        extra = {**self.event_fields, "cut_chars": cut} if cut else dict(self.event_fields)
        if getattr(result, "is_error", False):
            return ToolResult(ok=False, output=text, data=extra, error_code="mcp_tool_error")
        return ToolResult(ok=True, output=text, data=extra)


def _result_text(result: Any) -> str:
    parts: list[str] = []
    for item in getattr(result, "content", None) or []:
        kind = getattr(item, "type", "")
        if kind == "text":
            parts.append(item.text)
        elif kind == "resource":
            res = getattr(item, "resource", None)
            parts.append(getattr(res, "text", None) or f"[resource {getattr(res, 'uri', '')}]")
        else:
            parts.append(f"[{kind or 'content'} omitted]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    return "\n".join(parts) or "(no output)"


class McpPolicy:
    """The run's policy, plus decisions for MCP tools: deny beats ask beats allow among the
    `[mcp]` patterns; else ask (deny in read-only, allow in full-auto). Everything else goes to
    the wrapped policy unchanged."""

    def __init__(self, inner: Any, tools: dict[str, Tool], cfg: McpConfig) -> None:
        self.inner = inner
        self.mcp = {n: t for n, t in tools.items() if isinstance(t, McpTool)}
        self.cfg = cfg
        # "approve similar" for an MCP tool lasts as long as the wrapped policy (run / session)
        self.session_allow: list[str] = inner.__dict__.setdefault("mcp_session_allow", [])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def decide(self, tool: str, args: Any) -> Any:
        mcp = self.mcp.get(tool)
        if mcp is None:
            return self.inner.decide(tool, args)
        from harness_ls.tools.policy import Decision

        subject = f"mcp:{mcp.qualified}"
        for action in ("deny", "ask", "allow"):
            for pattern in getattr(self.cfg, action):
                if fnmatch.fnmatchcase(mcp.qualified, pattern):
                    rule = f"config.toml [mcp] {action} {pattern!r}"
                    return Decision(action=action, rule=rule, subject=subject)
        for pattern in self.session_allow:
            if fnmatch.fnmatchcase(mcp.qualified, pattern):
                return Decision(action="allow", rule=f"session mcp {pattern!r}", subject=subject)
        mode = getattr(self.inner, "mode", "ask")
        if mode == "read-only":
            return Decision(
                action="deny", rule="mode read-only: MCP tools are denied", subject=subject
            )
        if mode == "full-auto":
            return Decision(
                action="allow", rule="mode full-auto: allowed unless denied", subject=subject
            )
        return Decision(
            action="ask", rule=f"mode {mode}: MCP tools ask by default", subject=subject
        )

    def similar_pattern(self, tool: str, args: Any) -> str:
        mcp = self.mcp.get(tool)
        return mcp.qualified if mcp is not None else self.inner.similar_pattern(tool, args)

    def with_session_rule(self, tool: str, pattern: str, action: str = "allow") -> None:
        if tool in self.mcp:
            if action == "allow":
                self.session_allow.append(pattern)
            return
        self.inner.with_session_rule(tool, pattern, action)


def server_cwd() -> Path:
    """Where a stdio MCP server starts: your home (else `/`), never the workspace. The server
    runs unsandboxed, and launchers read the directory they start in: `npx` runs a repository's
    `node_modules/.bin/<name>` and obeys its `.npmrc` registry, `python -m` imports its
    `<module>/`, uv reads its `uv.toml` — a cloned repository (or the agent, which writes there)
    would pick the code. `{workspace}` in the command still names the workspace."""
    home = Path.home() if "HOME" in os.environ else None
    try:
        if home is not None and home.is_dir() and home.stat().st_uid == os.getuid():
            return home
    except (OSError, RuntimeError):
        pass
    return Path("/")
