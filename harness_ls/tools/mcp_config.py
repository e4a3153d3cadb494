"""The MCP part of the user config (`[mcp]`, `[mcp.servers.<name>]` in `<data dir>/config.toml`)
and of a trusted workspace `.harness/mcp.toml`: parsed into typed server entries, with errors that
name the file and the entry. See tools/mcp.py for what is done with them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness_ls.errors import InvalidInput

SEP = "__"  # model-facing names: server__tool (so a server name may not contain it)
DEFAULT_CALL_TIMEOUT = 60.0
_NAME_OK = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


@dataclass(frozen=True)
class ServerConfig:
    name: str
    command: tuple[str, ...] = ()
    url: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_CALL_TIMEOUT
    sandboxed: bool = False  # declared by the workspace: runs in the agent's sandbox

    @property
    def transport(self) -> str:
        return "http" if self.url else "stdio"

    def argv(self, workspace: Path) -> list[str]:
        return [a.replace("{workspace}", str(workspace)) for a in self.command]


@dataclass
class McpConfig:
    servers: dict[str, ServerConfig] = field(default_factory=dict)
    allow: list[str] = field(default_factory=list)
    ask: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)


def load_config(data_dir: Path) -> McpConfig:
    """The `[mcp]` part of the user config; InvalidInput naming the file and the entry."""
    path = Path(data_dir) / "config.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return McpConfig()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{path}: {exc}", hint="fix the TOML (see docs/mcp.md)") from None
    section = raw.get("mcp", {})
    if not isinstance(section, dict):
        raise InvalidInput(f"{path}: [mcp] must be a table")
    cfg = McpConfig()
    for action in ("allow", "ask", "deny"):
        value = section.get(action, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"{path}: [mcp] {action} must be a list of `server.tool` patterns")
        setattr(cfg, action, [v.removeprefix("mcp:") for v in value])
    servers = section.get("servers", {})
    if not isinstance(servers, dict):
        raise InvalidInput(f"{path}: [mcp.servers] must be a table of servers")
    for name, entry in servers.items():
        cfg.servers[name] = _server(path, name, entry)
    return cfg


WORKSPACE_MCP = Path(".harness") / "mcp.toml"


def load_workspace_servers(
    workspace: Path, data_dir: Path | None
) -> tuple[dict[str, ServerConfig], str | None]:
    """The `[mcp.servers.*]` of the workspace's `.harness/mcp.toml` — only once the user trusted
    that exact content (a cloned repository must not start programs on its own); else none and
    a warning naming the command that trusts it."""
    from harness_ls.trust import MCP, read_config

    file = read_config(workspace, MCP, data_dir)
    if file.problem:
        return {}, f"{file.path} ignored: {file.problem}"
    content, path = file.content, file.path
    if content is None:
        return {}, None
    if not file.trusted:
        return {}, (
            f"{file.path} declares MCP servers but is not trusted, so they are not started. "
            + file.untrusted_note()
        )
    try:
        raw = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, f"{path}: {exc}"
    servers = (raw.get("mcp") or {}).get("servers") or {}
    if not isinstance(servers, dict):
        return {}, f"{path}: [mcp.servers] must be a table of servers"
    try:
        return {
            name: replace(_server(path, name, entry), sandboxed=True)
            for name, entry in servers.items()
        }, None
    except InvalidInput as exc:
        return {}, exc.one_line()


def _server(path: Path, name: str, entry: Any) -> ServerConfig:
    where = f"{path} [mcp.servers.{name}]"
    if not name or any(c not in _NAME_OK for c in name) or SEP in name:
        raise InvalidInput(f"{where}: server names use letters, digits, '-' and single '_'")
    if not isinstance(entry, dict):
        raise InvalidInput(f"{where}: expected a table")
    command, url = entry.get("command"), entry.get("url")
    if isinstance(command, str):
        command = [command] + list(entry.get("args", []))
    if (command is None) == (url is None):
        raise InvalidInput(
            f"{where}: give either `command` (stdio) or `url` (streamable HTTP)",
            hint='e.g. command = ["mcp-server-time"] or url = "http://127.0.0.1:9000/mcp"',
        )
    if command is not None and (
        not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command)
    ):
        raise InvalidInput(f"{where}: command must be a non-empty list of strings")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("http://", "https://"))
    ):
        raise InvalidInput(f"{where}: url must be an http(s) URL")
    timeout = entry.get("timeout", DEFAULT_CALL_TIMEOUT)
    if not isinstance(timeout, int | float) or not 0 < timeout <= 3600:
        raise InvalidInput(f"{where}: timeout must be a number of seconds in (0, 3600]")
    env, headers = entry.get("env", {}), entry.get("headers", {})
    for label, table in (("env", env), ("headers", headers)):
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise InvalidInput(f"{where}: {label} must be a table of strings")
    return ServerConfig(
        name=name,
        command=tuple(command or ()),
        url=url,
        env=dict(env),
        headers=dict(headers),
        timeout=float(timeout),
    )
