"""The agent loop shared by runs and sessions: model turn → tool calls → results → next turn.

Every tool call goes through the same gate: argument validation (errors go back to the model),
containment (path escapes become `tool.refused` events), the policy (allow / ask / deny, and which
rule decided), and for `ask` the approval broker. Nothing a model sends can crash the loop; the
loop stops on a final answer, after `max_turns`, or when the model repeats the same failing call
`loop_limit` times.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harness_ls.agent.asking import (
    approval_data,
    approve_similar,
    name_protected,
    policy_record,
    similar_rule,
    write_target,
)
from harness_ls.agent.holds import CallHolds, identity
from harness_ls.agent.ids import new_id
from harness_ls.agent.killpoint import kill_point
from harness_ls.agent.options import DEFAULTS
from harness_ls.agent.turn import Usage, model_turn
from harness_ls.errors import HarnessError, InvalidInput, Refused

if TYPE_CHECKING:
    from harness_ls.agent.approvals import ApprovalBroker
    from harness_ls.models import Message, Provider, ToolCall
    from harness_ls.store import EventStream

EVENT_OUTPUT_CAP = 4000  # chars of tool output kept in an event (the model gets the full result)
MAX_ASKS = 3  # approvals for one call whose target keeps changing under them


class LoopStopped(HarnessError):
    """The loop stopped without a final answer (turn limit, repeated failing call)."""

    code = "loop_stopped"
    status = 500


@dataclass
class LoopContext:
    """Everything one agent loop needs; built by the run engine or a session."""

    stream: EventStream
    provider: Provider
    model: str
    tool_ctx: Any  # tools.ToolContext
    policy: Any  # tools.Policy
    broker: ApprovalBroker
    owner: Literal["run", "session"]
    owner_id: str
    workspace: Path
    tools: dict[str, Any]  # name -> tools.Tool
    spec_path: str | None = None
    spec_line: int | None = None
    step_id: str | None = None  # plan step the events belong to (runs)
    checkpoints: bool = True  # snapshot around mutating calls (agent/checkpoints.py run_watched)
    max_turns: int = DEFAULTS.max_turns
    model_info: Any = None  # models.ModelInfo: prices for the cost in model.usage
    loop_limit: int = DEFAULTS.loop_limit
    usage: Usage = field(default_factory=Usage)
    tool_calls: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    # calls that ask even where a rule allows them, for the whole run or session: denied by the
    # user, or interrupted with unknown effects (agent/holds.py); shared by a run's steps
    holds: CallHolds = field(default_factory=CallHolds)


@dataclass
class CallOutcome:
    ok: bool
    content: str  # what the model sees
    refused: bool = False
    changed: str | None = None  # the approved write's target changed: ask again (why)


async def run_loop(ctx: LoopContext, messages: list[Message]) -> str:
    """Drive the model until it answers without tool calls; returns its final text.

    `messages` is extended in place with assistant and tool messages.
    """
    from harness_ls.models import Message, ToolSpec

    specs = [
        ToolSpec(name=n, description=t.description, parameters=tool_schema(t))
        for n, t in ctx.tools.items()
    ]
    for _turn in range(ctx.max_turns):
        await _fit_context(ctx, messages)
        text, calls = await model_turn(ctx, messages, specs)
        messages.append(Message(role="assistant", content=text, tool_calls=calls))
        if not calls:
            return text
        for call in calls:
            outcome = await handle_call(ctx, call)
            messages.append(
                Message(role="tool", content=outcome.content, tool_call_id=call.id, name=call.name)
            )
    await ctx.stream.append(
        "log",
        {
            "level": "warning",
            "code": "max_turns",
            "message": f"stopped after {ctx.max_turns} model turns",
        },
        step_id=ctx.step_id,
    )
    raise LoopStopped(
        f"the model did not finish within {ctx.max_turns} turns",
        hint="raise max_turns or split the step in the spec",
    )


async def handle_call(ctx: LoopContext, call: ToolCall) -> CallOutcome:
    """Validate, gate and run one tool call; always returns something to tell the model."""
    call_id = new_id("call")
    ctx.tool_calls += 1
    key = call_key(call.name, call.arguments)
    outcome = await _gate_and_run(ctx, call, call_id)
    for _ in range(MAX_ASKS - 1):  # what runs is what was approved: a fresh preview, asked again
        if outcome.changed is None:
            break
        outcome = await _gate_and_run(ctx, call, new_id("call"), changed=outcome.changed)
    if outcome.ok:
        ctx.failures.pop(key, None)
    else:
        ctx.failures[key] = ctx.failures.get(key, 0) + 1
        if ctx.failures[key] >= ctx.loop_limit:
            await ctx.stream.append(
                "log",
                {
                    "level": "error",
                    "code": "loop_detected",
                    "message": f"the model repeated the same failing call {ctx.loop_limit} times",
                    "tool": call.name,
                    "args": call.arguments,
                },
                step_id=ctx.step_id,
                call_id=call_id,
            )
            raise LoopStopped(
                f"stopped: the model repeated the same failing {call.name} call {ctx.loop_limit} times",
                hint="make the step clearer in the spec, or use a stronger model",
            )
    return outcome


def approval_tool(tool: Any, name: str) -> str:
    """The tool's name as approvals and rules say it: `mcp:server.tool` for an MCP tool (the
    model sees `server__tool`, since function names may not hold dots)."""
    qualified = getattr(tool, "qualified", None)
    return f"mcp:{qualified}" if getattr(tool, "event_fields", {}).get("mcp_server") else name


async def _gate_and_run(
    ctx: LoopContext, call: ToolCall, call_id: str, changed: str | None = None
) -> CallOutcome:
    """One attempt at a call. `changed`: an earlier attempt's approved target changed before it
    ran, so this one asks whatever the rules say, with a fresh preview naming the change."""
    from harness_ls.agent.checkpoints import run_watched
    from harness_ls.tools import parse_args

    ev = {"step_id": ctx.step_id, "call_id": call_id}
    tool = ctx.tools.get(call.name)
    base = {"name": call.name, "arguments": call.arguments, "model_call_id": call.id}
    if tool is None:
        await ctx.stream.append("tool.call", base, **ev)
        msg = f"unknown tool {call.name!r}; available: {', '.join(sorted(ctx.tools))}"
        return await _result(ctx, ev, call.name, False, msg, "unknown_tool", 0.0)
    try:
        args = parse_args(tool, call.arguments)
    except InvalidInput as exc:
        await ctx.stream.append("tool.call", base, **ev)
        return await _result(ctx, ev, call.name, False, exc.one_line(), "invalid_args", 0.0)
    key = identity(call.name, args, ctx.workspace)
    decision, held = ctx.holds.apply(key, ctx.policy.decide(call.name, args))
    if changed and decision.action == "allow":
        decision = decision.model_copy(update={"action": "ask", "rule": f"changed: {changed}"})
    note = changed or held
    await ctx.stream.append(
        "tool.call",
        {
            **base,
            **getattr(tool, "event_fields", {}),  # e.g. the MCP server a tool comes from
            "kind": tool.kind,
            "rule": decision.rule,
            "action": decision.action,
            "policy": policy_record(decision),
        },
        **ev,
    )
    preview, expected = None, None
    try:
        if tool.kind != "read" or decision.action == "ask":
            expected = write_target(ctx, tool, call.arguments)  # before the preview: a change after
            preview = tool.preview(ctx.tool_ctx, args)  # it asks again; containment for writes
            preview = name_protected(preview, decision)
        if note and preview is not None:
            sep = " " if note.endswith("?") else "; "
            preview = preview.model_copy(update={"summary": f"{note}{sep}{preview.summary}"})
    except Refused as exc:
        return await _refused(ctx, ev, call.name, exc.one_line(), "containment")
    except HarnessError as exc:  # e.g. an edit whose `old` text is not in the file
        code = "invalid_args" if exc.code == "invalid_input" else exc.code
        return await _result(ctx, ev, call.name, False, exc.one_line(), code, 0.0)
    if decision.action == "deny":
        return await _refused(
            ctx, ev, call.name, f"denied by policy ({decision.rule})", decision.rule
        )
    if decision.action == "ask":
        resolution = await ctx.broker.request(
            stream=ctx.stream,
            id=new_id("st") if ctx.owner == "run" else call_id,
            tool=approval_tool(tool, call.name),
            preview=preview,
            run_id=ctx.owner_id if ctx.owner == "run" else None,
            session_id=ctx.owner_id if ctx.owner == "session" else None,
            workspace=str(ctx.workspace),
            spec_path=ctx.spec_path,
            spec_line=ctx.spec_line,
            data={
                **(approval_data(ctx, call_id, held, decision, changed) or {}),
                "similar": similar_rule(ctx, call.name, args),
            },
        )
        if resolution.decision == "cancelled":
            raise asyncio.CancelledError("approval cancelled")
        if not resolution.approved:
            ctx.holds.deny(key, ctx.owner)  # no allow rule runs it again in this run/session
            why = f"denied by {resolution.surface}" + (
                f": {resolution.note}" if resolution.note else ""
            )
            return await _refused(ctx, ev, call.name, why, "user")
        if resolution.scope == "similar":
            await approve_similar(ctx, call.name, args, ev)
        if expected is not None and preview is not None and preview.path:
            from harness_ls.tools.target import Guarded

            tool = Guarded(tool, preview.path, expected)  # checked now, and right before it
            if (why := tool.changed(ctx.tool_ctx)) is not None:  # writes (after the snapshot)
                await _result(ctx, ev, call.name, False, f"{why}; not written", "target_changed", 0)
                return CallOutcome(ok=False, content=f"{why}; not written", changed=why)
    kill_point("approved")
    started = time.perf_counter()
    # secret files the call names are shown to it only when someone approved this very call
    # (or, for a read tool, a file rule allows it); otherwise the sandbox masks them
    asked = decision.action == "ask" or tool.kind == "read"
    granted = (getattr(decision, "secrets", None) or []) if asked else []
    tool_ctx = ctx.tool_ctx.with_reveal(granted) if hasattr(ctx.tool_ctx, "with_reveal") else None
    try:
        result = await run_watched(ctx, tool, args, ev, tool_ctx)  # snapshots around mutations
    except LoopStopped:
        raise  # a tool saying the turn cannot go on (e.g. invalid spec limit)
    except Refused as exc:
        return await _refused(ctx, ev, call.name, exc.one_line(), "containment")
    except HarnessError as exc:
        return await _result(ctx, ev, call.name, False, exc.one_line(), exc.code, _ms(started))
    except Exception as exc:  # noqa: BLE001 - a tool bug must not kill the run
        return await _result(
            ctx, ev, call.name, False, f"{type(exc).__name__}: {exc}", "internal", _ms(started)
        )
    kill_point("executing")
    if not result.ok and result.error_code == "refused":
        return await _refused(ctx, ev, call.name, result.output, "containment")
    outcome = await _result(
        ctx, ev, call.name, result.ok, result.output, result.error_code, _ms(started), result.data
    )
    kill_point("result")
    if result.error_code == "target_changed":
        outcome.changed = result.output.removesuffix("; not written")
    return outcome


async def _result(
    ctx: LoopContext,
    ev: dict[str, Any],
    tool: str,
    ok: bool,
    output: str,
    code: str | None,
    ms: float,
    data: dict[str, Any] | None = None,
) -> CallOutcome:
    from harness_ls.models import mask_secrets

    output = mask_secrets(output)  # e.g. `cat .env.local`: neither the log nor the model sees keys
    await ctx.stream.append(
        "tool.result",
        {
            "name": tool,
            "ok": ok,
            "output": _cap(output),
            "error_code": code,
            "duration_ms": ms,
            "data": data or {},
        },
        **ev,
    )
    content = output if ok else f"Error ({code}): {output}"
    return CallOutcome(ok=ok, content=content)


async def _refused(
    ctx: LoopContext, ev: dict[str, Any], tool: str, reason: str, rule: str
) -> CallOutcome:
    await ctx.stream.append("tool.refused", {"name": tool, "reason": reason, "rule": rule}, **ev)
    return CallOutcome(ok=False, content=f"Refused: {reason}", refused=True)


def tool_schema(tool: Any) -> dict[str, Any]:
    schema = tool.Args.model_json_schema()
    schema.pop("title", None)
    return schema


async def _fit_context(ctx: LoopContext, messages: list[Message]) -> None:
    """Keep a long conversation inside the model's window by trimming old tool outputs."""
    from harness_ls.agent.history import TRIM_AT, compact_tool_outputs

    window = int(getattr(ctx.model_info, "context_window", 0) or 0)
    if window <= 0:
        return
    trimmed, before, after = compact_tool_outputs(messages, int(window * TRIM_AT))
    if trimmed:
        await ctx.stream.append(
            "context.trimmed",
            {
                "dropped": trimmed,
                "tokens_before": before,
                "tokens_after": after,
                "context_window": window,
                "summary": f"replaced {trimmed} old tool output(s) with a placeholder",
            },
            step_id=ctx.step_id,
        )


def call_key(name: str, args: dict[str, Any]) -> str:
    """One string per (tool, arguments), for repeated-call detection."""
    return name + ":" + _canonical(args)


def _canonical(args: dict[str, Any]) -> str:
    try:
        return json.dumps(args, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(args)


def _cap(text: str) -> str:
    if len(text) <= EVENT_OUTPUT_CAP:
        return text
    half = EVENT_OUTPUT_CAP // 2
    return f"{text[:half]}\n… [{len(text) - EVENT_OUTPUT_CAP} chars cut] …\n{text[-half:]}"


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
