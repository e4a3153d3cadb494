"""Resuming an interrupted step from its last finished tool call, not from its beginning.

The log is the state: the step's assistant turns (`message` with its tool calls), the
`tool.call` events and their `tool.result` / `tool.refused` rebuild the conversation exactly as
the model saw it. On resume:

- a call with a recorded result is not executed again; the recorded result is fed back;
- a call that never started (it was waiting for its approval, or was never logged) goes through
  the normal gate, so it asks again as the policy says;
- a call whose outcome is unknown (it was approved or allowed, then the host died before its
  result was written) is shown to the user and the model as "interrupted: effects unknown";
  running it again needs an explicit approval even where a rule would allow it, and so does
  every identical call for the rest of the run (agent/holds.py). Exceptions,
  both without effects to repeat: read-only tools are re-run; a `write_file` whose target
  already holds exactly the intended content (sha256) is not redone (an `edit` whose `old`
  text is gone and whose `new` text is present likewise).

"Approved but not started" cannot be told apart from "running" in the log (nothing is written
between the two), so it is treated as effects unknown: asked again, naming the interruption.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import harness_ls.nofollow as nofollow
from harness_ls.agent.holds import REASK, UNKNOWN, CallHolds, holds_from_log, logged_identity
from harness_ls.agent.ids import new_id
from harness_ls.agent.loop import handle_call, run_loop
from harness_ls.store.recover import INTERRUPTED, closing_events
from harness_ls.tools.textfile import MAX_TEXT_BYTES

if TYPE_CHECKING:
    from harness_ls.agent.loop import LoopContext
    from harness_ls.models import Message, ToolCall

State = Literal["done", "unknown", "not_started", "unlogged"]
__all__ = ["REASK", "UNKNOWN", "interrupted_step", "log_holds", "resume_loop"]


@dataclass
class ReplayedCall:
    call: ToolCall
    state: State
    content: str = ""  # what the model saw (state "done")


@dataclass
class StepReplay:
    """What one interrupted step had done: finished turns, and the calls of its last turn."""

    step_id: str
    phase: str
    title: str | None
    history: list[Message] = field(default_factory=list)  # up to the last assistant message
    last: list[ReplayedCall] = field(default_factory=list)  # the last turn's calls, in order
    final_text: str | None = None  # the last turn was the model's final answer

    @property
    def finished_calls(self) -> int:
        return sum(1 for m in self.history if m.role == "tool") + sum(
            1 for c in self.last if c.state == "done"
        )

    @property
    def interrupted_calls(self) -> list[ReplayedCall]:
        return [c for c in self.last if c.state == "unknown"]

    def started_data(self) -> dict[str, Any]:
        """Extra `step.started` fields of the resumed step: what the user should know."""
        return {
            "resumed": True,
            "finished_calls": self.finished_calls,
            "interrupted_calls": [
                {"name": c.call.name, "arguments": c.call.arguments, "effects": "unknown"}
                for c in self.interrupted_calls
            ],
        }


def interrupted_step(
    events: Iterable[Any], load: Callable[[Any], dict[str, Any]] | None = None
) -> StepReplay | None:
    """The step the run was in when it stopped (the last `step.started` that never ended)."""
    evs = list(events)
    starts = [e for e in evs if e.type == "step.started" and e.step_id]
    if not starts:
        return None
    last = starts[-1]
    sid = last.step_id
    if last.data.get("phase") == "plan":
        return None
    if any(e.type in ("step.completed", "step.failed") and e.step_id == sid for e in evs):
        return None
    mine = [e for e in evs if e.step_id == sid]
    return _rebuild(sid, last.data, mine, load)


def _rebuild(
    sid: str, start: dict[str, Any], evs: list[Any], load: Callable[[Any], dict] | None
) -> StepReplay:
    from harness_ls.models import Message, ToolCall

    def data(ev: Any) -> dict[str, Any]:
        return load(ev) if load is not None and "$artifact" in ev.data else ev.data

    # segments: one per assistant message; the tool.call attempts that followed it
    segments: list[tuple[dict[str, Any], list[tuple[Any, Any]]]] = []
    by_call: dict[str, int] = {}
    for ev in evs:
        if ev.type == "message" and ev.data.get("role", "assistant") == "assistant":
            segments.append((data(ev), []))
        elif ev.type == "tool.call" and ev.call_id and segments:
            segments[-1][1].append([ev, None])  # type: ignore[arg-type]
            by_call[ev.call_id] = len(segments) - 1
        elif ev.type in ("tool.result", "tool.refused") and ev.call_id in by_call:
            for attempt in segments[by_call[ev.call_id]][1]:
                if attempt[0].call_id == ev.call_id:
                    attempt[1] = ev  # type: ignore[index]
    replay = StepReplay(sid, str(start.get("phase") or "execute"), start.get("title"))
    for i, (msg, attempts) in enumerate(segments):
        calls = [
            ToolCall(id=c["id"], name=c["name"], arguments=c.get("arguments") or {})
            for c in msg.get("tool_calls", [])
        ]
        content = msg.get("content") if isinstance(msg.get("content"), str) else ""
        replay.history.append(Message(role="assistant", content=content, tool_calls=calls))
        lasting = i == len(segments) - 1
        if not calls:
            replay.final_text = content if lasting else None
            continue
        for call in calls:
            mine = [a for a in attempts if (a[0].data.get("model_call_id") or "") == call.id]
            rc = _state(call, mine, data)
            if lasting:
                replay.last.append(rc)
            else:  # a later turn exists, so the loop got past it: keep the history well-formed
                text = rc.content if rc.state == "done" else f"{UNKNOWN} (no result recorded)"
                replay.history.append(
                    Message(role="tool", content=text, tool_call_id=call.id, name=call.name)
                )
    return replay


def _state(call: ToolCall, attempts: list[Any], data: Callable[[Any], dict]) -> ReplayedCall:
    if attempts:
        full = data(attempts[-1][0])
        if isinstance(full.get("arguments"), dict):
            call = call.model_copy(update={"arguments": full["arguments"]})
    started = False
    for _ev, res in reversed(attempts):
        if res is None:
            started = True  # no result at all (not closed by recovery): assume it may have run
            continue
        rd = data(res)
        if res.type == "tool.refused":
            return ReplayedCall(call, "done", f"Refused: {rd.get('reason', '')}")
        if rd.get("error_code") == INTERRUPTED:
            started = started or bool((rd.get("data") or {}).get("started", True))
            continue
        if rd.get("ok"):
            return ReplayedCall(call, "done", str(rd.get("output", "")))
        return ReplayedCall(call, "done", f"Error ({rd.get('error_code')}): {rd.get('output', '')}")
    if not attempts:
        return ReplayedCall(call, "unlogged")
    return ReplayedCall(call, "unknown" if started else "not_started")


async def resume_loop(ctx: LoopContext, messages: list[Message], replay: StepReplay) -> str:
    """Continue an interrupted step: replay its history, settle its last turn, go on."""
    from harness_ls.models import Message

    messages.extend(replay.history)
    if replay.final_text is not None and not replay.last:
        return replay.final_text
    if replay.last:
        for rc in replay.last:
            content = await _settle(ctx, rc)
            messages.append(
                Message(role="tool", content=content, tool_call_id=rc.call.id, name=rc.call.name)
            )
    return await run_loop(ctx, messages)


async def _settle(ctx: LoopContext, rc: ReplayedCall) -> str:
    """The tool message for one call of the interrupted turn, running it again only if needed."""
    if rc.state == "done":
        return rc.content
    if rc.state in ("not_started", "unlogged"):
        return (await handle_call(ctx, rc.call)).content
    tool = ctx.tools.get(rc.call.name)
    await ctx.stream.append(
        "log",
        {
            "level": "warning",
            "code": "resume.interrupted_call",
            "message": f"{UNKNOWN}: {rc.call.name} {_brief(rc.call.arguments)}",
            "tool": rc.call.name,
        },
        step_id=ctx.step_id,
    )
    if tool is not None and tool.kind == "read":
        outcome = await handle_call(ctx, rc.call)  # nothing to repeat: reads have no effects
        return f"{UNKNOWN}; read again:\n{outcome.content}"
    applied = already_applied(ctx.workspace, rc.call.name, rc.call.arguments)
    if applied is not None:
        return await _record_applied(ctx, rc.call, applied)
    # held for the rest of the run: this attempt and every identical one ask, whatever the rules
    ctx.holds.interrupted(
        logged_identity(ctx.tools, rc.call.name, rc.call.arguments, ctx.workspace)
    )
    outcome = await handle_call(ctx, rc.call)
    if outcome.refused:
        return f"{UNKNOWN}; not run again. {outcome.content}"
    return f"{UNKNOWN} of the first attempt; run again with the user's approval:\n{outcome.content}"


def already_applied(workspace: Path, tool: str, args: dict[str, Any]) -> str | None:
    """Why a file write need not be redone (its target already holds the result), else None."""
    path = args.get("path")
    if tool not in ("write_file", "edit") or not isinstance(path, str) or not path:
        return None
    root = workspace.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        return None
    if tool == "write_file":
        content = args.get("content")
        if not isinstance(content, str):
            return None
        want = content.encode()
        # capped at the intended size (a larger file is refused on its size, unread), no link
        # followed, non-blocking: a FIFO or a huge sparse file planted at the path of an
        # interrupted write hung the resume or filled memory (the whole file was read)
        got = nofollow.read_regular(str(target), len(want))
        if got is not None and got[0] == want:
            return f"{path} already has the intended content (sha256 {_sha(want)[:12]})"
        return None
    got = nofollow.read_regular(str(target), MAX_TEXT_BYTES)  # the edit tool's own limit
    if got is None:
        return None
    old, new = args.get("old"), args.get("new")
    text = got[0].decode("utf-8", errors="replace")
    if isinstance(old, str) and isinstance(new, str) and old and old not in text and new in text:
        return f"{path} already holds the edit (old text gone, new text present)"
    return None


async def _record_applied(ctx: LoopContext, call: ToolCall, why: str) -> str:
    ev = {"step_id": ctx.step_id, "call_id": new_id("call")}
    await ctx.stream.append(
        "tool.call",
        {
            "name": call.name,
            "arguments": call.arguments,
            "model_call_id": call.id,
            "action": "allow",
            "rule": "resume: already applied",
            "replay": "already_applied",
        },
        **ev,
    )
    output = f"{UNKNOWN} for the first attempt, but it had completed: {why}; not run again"
    await ctx.stream.append(
        "tool.result",
        {
            "name": call.name,
            "ok": True,
            "output": output,
            "error_code": None,
            "duration_ms": 0.0,
            "data": {"replay": "already_applied"},
        },
        **ev,
    )
    return output


def log_holds(
    events: Iterable[Any],
    workspace: Path,
    tools: dict[str, Any],
    owner: str = "run",
    load: Callable[[Any], dict[str, Any]] | None = None,
) -> CallHolds:
    """The holds a run's or session's log already implies (agent/holds.py): calls the user
    denied, and calls interrupted with unknown effects — except reads and writes whose target
    already holds the result, which have nothing to repeat. A session's turn is not resumed (the
    user sends a new message): the model sees the interrupted result in its history and may ask
    for the same call again, which then asks the user."""
    return holds_from_log(
        events, workspace, tools, owner=owner, load=load,
        applied=lambda name, args: already_applied(workspace, name, args) is not None,
    )  # fmt: skip


async def close_open(stream: Any, reason: str, surface: str = "system") -> None:
    """Before a run or turn records that it stopped: close its open approvals and calls."""
    try:
        todo = closing_events(stream.read())
    except Exception:  # noqa: BLE001 - recovery at the next start will close them
        return
    for t, data, step_id, call_id in todo:
        await stream.append(t, data, step_id=step_id, call_id=call_id)


def _brief(args: dict[str, Any]) -> str:
    text = str(args.get("command") or args.get("path") or args)
    return text if len(text) <= 120 else text[:117] + "..."


def _sha(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()
