"""What one session turn is made of: the model, the policy, the sandbox and the tools it runs
with (`turn_context`), and the messages it sends (`turn_messages`: system prompt, history
rebuilt from the log and trimmed to the context window, attachments fitted to the model).

Apart from agent/sessions.py, which owns a session's lifecycle (the writer, the queue, the turn
tasks, cancel and close): that module decides *when* a turn runs, this one *what* it runs with.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from harness_ls.agent import attachments as att
from harness_ls.agent import prompts
from harness_ls.agent.history import TRIM_AT, estimate_tokens, rebuild, trim
from harness_ls.agent.loop import LoopContext
from harness_ls.agent.replay import log_holds
from harness_ls.agent.repo import project_instructions
from harness_ls.errors import InvalidInput

if TYPE_CHECKING:
    from harness_ls.agent.host import AgentHost as Harness


class TurnState(Protocol):
    """What a turn reads and keeps of its live session (agent/sessions.py's `_Live`)."""

    stream: Any
    policy: Any  # kept across turns so "approve similar" lasts for the session
    sandbox: Any  # tools.sandbox.Settings, read with the policy


def session_mode(meta: Any) -> str:
    return getattr(meta, "mode", None) or (getattr(meta, "extra", None) or {}).get("mode") or "chat"


def spec_rel(ws: Path, spec_path: str | None) -> str:
    if not spec_path:
        raise InvalidInput("spec mode needs a spec path", hint="pass --spec specs/<name>/spec.md")
    from harness_ls.agent.specfile import session_spec_rel

    return session_spec_rel(ws, spec_path)


def _read_or_empty(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _resolve(harness: Harness, meta: Any, needs: set[str]) -> Any:
    from harness_ls.models import resolve

    purpose = "spec" if session_mode(meta) == "spec" else "session"
    return resolve(
        purpose,
        needs | {"tools"},
        meta.model or harness.model,
        workspace=Path(meta.workspace),
        data_dir=harness.data_dir,
    )


def resolve_for(harness: Harness, meta: Any, needs: set[str]) -> Any:
    """The model for a turn: one that takes the attachments when there is one; otherwise
    the session's model anyway (the attachments it cannot take are left out with a note)."""
    from harness_ls.models import ModelUnsuitable

    try:
        return _resolve(harness, meta, needs)
    except ModelUnsuitable:
        return _resolve(harness, meta, set())


async def turn_context(harness: Harness, meta: Any, live: TurnState) -> LoopContext | None:
    """The loop context of the next turn, or None (said in the log) when no model can answer."""
    from harness_ls.tools import TOOLS, Policy, ToolContext, sandbox
    from harness_ls.tools.trust import workspace_trusted

    stream = live.stream
    events = list(stream.read())
    last_user = next((e for e in reversed(events) if e.type == "user.message"), None)
    mimes = [a["mime"] for a in (last_user.data.get("attachments", []) if last_user else [])]
    resolved = resolve_for(harness, meta, att.needs_for(mimes))
    if resolved.is_offline:
        await stream.append(
            "model.unavailable",
            {
                "reason": resolved.reason,
                "message": f"no model to answer: {resolved.reason}",
                "hint": getattr(resolved, "hint", None)
                or "set OPENAI_API_KEY or ANTHROPIC_API_KEY, or HARNESS_MODEL=<provider>:<model>",
            },
        )
        return None
    ws = Path(meta.workspace)
    if live.policy is None:
        live.policy = Policy.load(ws, harness.data_dir, mode=harness.policy_mode)
        for warning in [*live.policy.warnings, *getattr(resolved, "warnings", [])]:
            await stream.append(
                "log", {"level": "warning", "code": "policy.untrusted", "message": warning}
            )
        trusted = workspace_trusted(ws, harness.data_dir)
        live.sandbox = sandbox.load(ws, harness.data_dir, trusted=trusted)
        for warning in sandbox.warnings(live.sandbox):  # once per session and process
            await stream.append("log", warning)
    policy = live.policy
    tools: dict[str, Any] = dict(TOOLS)
    if session_mode(meta) == "spec":
        from harness_ls.agent.specwrite import SPEC_MODE_TOOLS, SpecModePolicy, WriteSpecTool

        tools = {n: t for n, t in TOOLS.items() if n in SPEC_MODE_TOOLS}
        tools["write_spec"] = WriteSpecTool(harness, stream, ws, ws / meta.spec_path)
        policy = SpecModePolicy(policy)
    else:  # spec mode keeps its small tool set; chat gets the user's MCP servers too
        from harness_ls.agent.mcp_tools import add_mcp_tools

        tools, policy = await add_mcp_tools(harness, ws, stream, tools, policy)
    ctx = LoopContext(
        stream=stream,
        provider=resolved.provider,
        model=resolved.info.id,
        model_info=resolved.info,
        tool_ctx=ToolContext(
            workspace=ws,
            data_dir=harness.data_dir,
            extra={"sandbox": live.sandbox, "unmask": getattr(policy, "secret_allowed", None)},
        ),
        policy=policy,
        broker=harness.broker,
        owner="session",
        owner_id=meta.id,
        workspace=ws,
        tools=tools,
        spec_path=meta.spec_path,
        checkpoints=harness.options.checkpoints,
        max_turns=harness.options.max_turns,
        loop_limit=harness.options.loop_limit,
        holds=log_holds(events, ws, tools, "session", stream.load_data),
    )
    return ctx


async def turn_messages(harness: Harness, meta: Any, stream: Any, ctx: LoopContext) -> list[Any]:
    """System prompt plus the conversation rebuilt from the log, trimmed to fit the model."""
    from harness_ls.models import Message

    ws = Path(meta.workspace)
    if session_mode(meta) == "spec":
        # checked again: a link may have replaced the file since the session began
        path = ws / spec_rel(ws, meta.spec_path)
        current = await asyncio.to_thread(_read_or_empty, path)
        system = prompts.SPEC_SYSTEM.format(
            spec_path=meta.spec_path, spec_text=current or "(the file does not exist yet)"
        )
    else:
        system = prompts.CHAT_SYSTEM.format(workspace=ws)
        if rules := await asyncio.to_thread(project_instructions, ws):
            system += "\n\n" + rules
    directory = harness.store.attachments_dir(meta.id)
    turns = rebuild(
        stream.read(),
        lambda ref, mime: att.content_part(att.resolve_ref(directory, ref), mime),
        stream.load_data,
    )
    window = int(getattr(ctx.model_info, "context_window", 0) or 128_000)
    budget = int(window * TRIM_AT) - estimate_tokens([Message(role="system", content=system)])
    kept, dropped = trim(turns, max(budget, 1000))
    if dropped:
        await stream.append(
            "context.trimmed",
            {
                "dropped": dropped,
                "tokens_before": sum(estimate_tokens(t) for t in turns),
                "tokens_after": sum(estimate_tokens(t) for t in kept),
                "kept_turns": len(kept),
                "context_window": window,
                "summary": f"dropped the {dropped} oldest turn(s) to fit the model's context",
            },
        )
    messages = [Message(role="system", content=system)] + [m for t in kept for m in t]
    dropped = att.fit_to_model(messages, ctx.model_info, ctx.provider)
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=-1)
    for d in dropped:
        if d["message"] == last_user:  # said once, in the turn it was sent with
            await stream.append(
                "attachment.skipped",
                {
                    "name": d["name"],
                    "mime": d["mime"],
                    "reason": d["reason"],
                    "model": getattr(ctx.model_info, "qualified", ctx.model),
                },
            )
    return messages
