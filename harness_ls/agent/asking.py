"""What a gated call's approval carries, and what answering it sets: the approval's data, the
preview notes (a protected file), the target state an approved write is held to (tools/target.py)
and the session rule of "approve similar". Used by the agent loop's gate (agent/loop.py)."""

from __future__ import annotations

from typing import Any

from harness_ls.errors import HarnessError


def write_target(ctx: Any, tool: Any, raw: dict[str, Any]) -> str | None:
    """The state of a write's target when its preview is built (None: not a file write)."""
    from harness_ls.tools.paths import rel_posix, resolve_path
    from harness_ls.tools.target import target_state

    path = raw.get("path") if isinstance(raw, dict) else None
    if tool.kind != "write" or not isinstance(path, str) or not path:
        return None
    try:
        real = resolve_path(ctx.tool_ctx.workspace, path, for_write=True)
    except HarnessError:
        return None  # the preview refuses it
    return target_state(ctx.tool_ctx.workspace, rel_posix(ctx.tool_ctx.workspace, real))


async def approve_similar(ctx: Any, name: str, args: Any, ev: dict[str, Any]) -> None:
    pattern = similar_pattern(ctx.policy, name, args)
    ctx.policy.with_session_rule(name, pattern, "allow")
    await ctx.stream.append(
        "log",
        {
            "level": "info",
            "code": "policy.session_rule",
            "message": f"rule added: {similar_rule(ctx, name, args)}",
            "rule": {"tool": name, "pattern": pattern, "action": "allow"},
        },
        **ev,
    )


def similar_rule(ctx: Any, tool: str, args: Any) -> str:
    """What "approve similar" adds, in words, for the approval and the log alike."""
    return (
        f"allow {tool} {similar_pattern(ctx.policy, tool, args)!r} for the rest of this {ctx.owner}"
    )


def approval_data(
    ctx: Any, call_id: str, held: str | None, decision: Any, changed: str | None = None
) -> dict[str, Any] | None:
    from harness_ls.agent.holds import UNKNOWN

    data: dict[str, Any] = (
        {"plan_step_id": ctx.step_id, "tool_call_id": call_id} if ctx.owner == "run" else {}
    )
    if held:
        data.update(reason=held, held=True)
        if held.startswith(UNKNOWN):
            data["interrupted"] = True
    if changed:
        data.update(reason=changed, target_changed=True)
    data["policy"] = policy_record(decision)  # the parsed parts and the rule that asked
    return data


def policy_record(decision: Any) -> dict[str, Any]:
    """What the event log keeps of a decision: the action, the deciding rule, each parsed part."""
    if hasattr(decision, "record"):
        return decision.record()
    return {"action": getattr(decision, "action", None), "rule": getattr(decision, "rule", None)}


def name_protected(preview: Any, decision: Any) -> Any:
    """An approval for a protected or secret file says so in its summary, on every surface."""
    if preview is None or not hasattr(preview, "model_copy"):
        return preview
    notes = []
    protected = getattr(decision, "protected", None)
    if protected:
        notes.append(f"protected file {protected}: {decision.rule}")
    secrets = getattr(decision, "secrets", None)
    if secrets and decision.action == "ask":
        notes.append(f"secret file{'s' if len(secrets) > 1 else ''} {', '.join(secrets)}: "
                     "approving lets this call read it; its values stay masked")  # fmt: skip
    if not notes:
        return preview
    return preview.model_copy(update={"summary": f"{preview.summary} ({'; '.join(notes)})"})


def similar_pattern(policy: Any, tool: str, args: Any) -> str:
    """The pattern an "approve similar" answer allows: `pytest *` for shell, `src/**` for files."""
    if hasattr(policy, "similar_pattern"):
        return policy.similar_pattern(tool, args)
    data = args.model_dump() if hasattr(args, "model_dump") else dict(args)
    if data.get("command"):
        head = str(data["command"]).split()[0]
        return f"{head} *"
    path = str(data.get("path") or "")
    parent = path.rsplit("/", 1)[0] if "/" in path else ""
    return f"{parent}/**" if parent else path or "*"
