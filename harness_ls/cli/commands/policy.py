"""`agentctl policy trust|untrust|show`: the user's say over a workspace's `.harness/policy.toml`.

A workspace policy may only narrow the user's policy until the user trusts its exact content
(recorded by sha256 in the data dir). These commands run locally: trust is the user's decision at
their terminal, never something an HTTP client or the agent can do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness_ls.cli import errors as ex
from harness_ls.cli.errors import CliError


def _workspace(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise CliError(f"workspace {raw} is not a directory", exit_code=ex.USAGE)
    return path.resolve()


def trust(app: Any) -> int:
    from harness_ls.tools.trust import trust as record

    ws = _workspace(app.args.workspace)
    files = [p for p in _trustable(ws) if p.is_file()]
    if not files:
        raise CliError(
            f"{ws} has no .harness/policy.toml or .harness/mcp.toml to trust",
            exit_code=ex.USAGE,
            hint="run `agentctl init` there, or pass --workspace",
        )
    done = {str(path): record(app.data_dir, path) for path in files}
    if app.json:
        app.emit_json({"trusted": str(files[0]), "sha256": done[str(files[0])], "files": done})
        return ex.OK
    for path, sha in done.items():
        app.out(f"trusted {path} (sha256 {sha[:16]}…)")
    app.note("any edit to a file un-trusts it: its [allow] rules, mode and MCP servers are "
             "ignored again")  # fmt: skip
    return ex.OK


def _trustable(ws: Path) -> list[Path]:
    """The workspace files that widen what runs once trusted: the policy, then MCP servers."""
    from harness_ls.tools.mcp import WORKSPACE_MCP
    from harness_ls.tools.trust import workspace_policy

    return [workspace_policy(ws), ws / WORKSPACE_MCP]


def untrust(app: Any) -> int:
    from harness_ls.tools.trust import untrust as forget
    from harness_ls.tools.trust import workspace_policy

    ws = _workspace(app.args.workspace)
    path = workspace_policy(ws)
    removed = forget(app.data_dir, path)
    mcp = _trustable(ws)[1]
    mcp_removed = forget(app.data_dir, mcp)
    if app.json:
        app.emit_json(
            {"untrusted": str(path), "was_trusted": removed, "mcp_was_trusted": mcp_removed}
        )
    else:
        app.out(f"{'untrusted' if removed else 'was not trusted:'} {path}")
        if mcp_removed:
            app.out(f"untrusted {mcp}")
    return ex.OK


def show(app: Any) -> int:
    """The effective policy for a workspace: mode, every rule with its source, trust state."""
    from harness_ls.tools import Policy
    from harness_ls.tools.trust import is_trusted, workspace_policy

    ws = _workspace(app.args.workspace)
    path = workspace_policy(ws)
    policy = Policy.load(ws, app.data_dir, app.args.mode)
    content = path.read_bytes() if path.is_file() else None
    trusted = content is not None and is_trusted(app.data_dir, path, content)
    doc = {
        "workspace": str(ws),
        "mode": policy.mode,
        "user_policy": str(app.data_dir / "policy.toml"),
        "workspace_policy": str(path) if content is not None else None,
        "workspace_policy_trusted": trusted,
        "rules": [
            {"action": r.action, "key": r.key, "pattern": r.pattern, "source": r.source}
            for r in policy.rules
        ],
        "protected": [".harness/**", ".git/**", ".env*", str(app.data_dir)],
        "warnings": policy.warnings,
    }
    if app.json:
        app.emit_json(doc)
        return ex.OK
    app.out(f"workspace  {ws}")
    app.out(f"mode       {policy.mode}")
    state = (
        "absent" if content is None else ("trusted" if trusted else "NOT trusted (narrows only)")
    )
    app.out(f"workspace policy  {state}")
    for action in ("deny", "ask", "allow"):
        for r in (r for r in policy.rules if r.action == action):
            app.out(f"  {action:<5} {r.key:<10} {r.pattern!r:<28} {r.source}")
    app.out("protected (writes always ask): " + ", ".join(doc["protected"]))
    for warning in policy.warnings:
        app.note(f"warning: {warning}")
    return ex.OK
