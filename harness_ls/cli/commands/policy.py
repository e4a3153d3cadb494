"""`agentctl policy trust|untrust|show`: the user's say over a workspace's config files.

Every workspace config file (`.harness/policy.toml`, `.harness/mcp.toml`, `.harness/models.toml`,
`.env`, `.env.local`) may only narrow until the user trusts its exact content at its place
(recorded by path and sha256 in the data dir; harness_ls/trust.py). A symlinked one is never
trusted. These commands run locally: trust is the user's decision at their terminal, never
something an HTTP client or the agent can do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness_ls.cli import errors as ex
from harness_ls.cli.errors import CliError
from harness_ls.cli.workspace import workspace_arg

_WHAT = {
    ".harness/policy.toml": "[allow] rules and mode",
    ".harness/mcp.toml": "MCP servers",
    ".harness/models.toml": "providers, base URLs and key variables",
    ".env": "variables other than provider keys",
    ".env.local": "variables other than provider keys",
}


def _workspace(raw: str | None) -> Path:
    return workspace_arg(raw)


def _names(app: Any) -> list[str]:
    """The config files named with --file (as given or relative to the workspace), else all."""
    from harness_ls.trust import CONFIG_FILES

    wanted = list(getattr(app.args, "file", None) or [])
    out = []
    for raw in wanted:
        name = raw.removeprefix("./")
        if name not in CONFIG_FILES:
            raise CliError(f"{raw} is not a workspace config file", exit_code=ex.USAGE,
                           hint="name one of: " + ", ".join(CONFIG_FILES))  # fmt: skip
        out.append(name)
    return out or list(CONFIG_FILES)


def trust(app: Any) -> int:
    from harness_ls.errors import InvalidInput
    from harness_ls.trust import read_config, trust_config

    if getattr(app.args, "list", False):
        return _list(app)
    ws = _workspace(app.args.workspace)
    explicit = bool(getattr(app.args, "file", None))
    done, refused = [], []
    for name in _names(app):
        if not explicit and read_config(ws, name, None).content is None:
            continue  # absent: nothing to trust
        try:
            done.append(trust_config(app.data_dir, ws, name))
        except InvalidInput as exc:
            refused.append({"path": str(ws / name), "reason": exc.message, "hint": exc.hint})
    if not done and not refused:
        raise CliError(
            f"{ws} has no .harness/policy.toml, .harness/mcp.toml, .harness/models.toml, .env "
            "or .env.local to trust",
            exit_code=ex.USAGE, hint="run `agentctl init` there, or pass --workspace",
        )  # fmt: skip
    if app.json:
        app.emit_json({"workspace": str(ws), "refused": refused,
                       "files": [{"path": str(f.path), "sha256": f.sha256} for f in done]})  # fmt: skip
    else:
        for f in done:
            app.out(f"trusted {f.path}  sha256 {f.sha256}  ({_WHAT[f.name]} now apply)")
        for r in refused:
            app.out(f"not trusted {r['path']}: {r['reason']}")
        app.note("any edit to a file un-trusts it: it may only narrow again")
    return ex.OK if done else ex.USAGE


def _list(app: Any) -> int:
    """Every file the user trusts, with the hash trusted and whether the file still matches."""
    from harness_ls.trust import locate, read_config, trusted_files

    rows = []
    for path, sha in sorted(trusted_files(app.data_dir).items()):
        try:
            file = read_config(*locate(path), app.data_dir)
            state = "current" if file.trusted else ("gone" if file.content is None else "changed")
        except Exception:  # noqa: BLE001 - an old or odd entry is listed, not fatal
            state = "unknown"
        rows.append({"path": path, "sha256": sha, "state": state})
    if app.json:
        app.emit_json({"trusted": rows})
        return ex.OK
    if not rows:
        app.note(f"nothing is trusted (store: {app.data_dir / 'trusted-policies.json'})")
    for row in rows:
        app.out(f"{row['path']}  sha256 {row['sha256']}  {row['state']}")
    return ex.OK


def untrust(app: Any) -> int:
    from harness_ls.trust import untrust_config

    ws = _workspace(app.args.workspace)
    removed = [name for name in _names(app) if untrust_config(app.data_dir, ws, name)]
    if app.json:
        app.emit_json({"workspace": str(ws), "untrusted": [str(ws / n) for n in removed],
                       "was_trusted": ".harness/policy.toml" in removed})  # fmt: skip
        return ex.OK
    for name in removed:
        app.out(f"untrusted {ws / name}")
    if not removed:
        app.out(f"was not trusted: nothing of {ws}")
    return ex.OK


def show(app: Any) -> int:
    """The effective policy for a workspace: mode, every rule with its source, trust state."""
    from harness_ls.core.policy import effective_policy
    from harness_ls.trust import POLICY, read_all

    ws = _workspace(app.args.workspace)
    policy = effective_policy(ws, app.data_dir, app.args.mode)
    files = read_all(ws, app.data_dir)
    ws_policy = next(f for f in files if f.name == POLICY)
    doc = {
        "workspace": str(ws),
        "mode": policy.mode,
        "user_policy": str(app.data_dir / "policy.toml"),
        "workspace_policy": str(ws_policy.path) if ws_policy.content is not None else None,
        "workspace_policy_trusted": ws_policy.trusted,
        "config_files": [
            {
                "path": str(f.path),
                "sha256": f.sha256,
                "trusted": f.trusted,
                "state": f.state(),
                "symlink": f.symlink,
            }
            for f in files
            if f.content is not None or f.problem or f.symlink
        ],
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
    app.out(f"workspace policy  {ws_policy.state()}")
    for f in doc["config_files"]:
        app.out(f"  {f['path']}  {f['state']}" + (f"  sha256 {f['sha256']}" if f["sha256"] else ""))
    for action in ("deny", "ask", "allow"):
        for r in (r for r in policy.rules if r.action == action):
            app.out(f"  {action:<5} {r.key:<10} {r.pattern!r:<28} {r.source}")
    app.out("protected (writes always ask): " + ", ".join(doc["protected"]))
    for warning in policy.warnings:
        app.note(f"warning: {warning}")
    return ex.OK
