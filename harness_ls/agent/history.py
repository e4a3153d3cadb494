"""A session's conversation rebuilt from its event log, and trimmed to fit the context window.

The log is the only state: after a daemon restart the same messages come back from
`user.message`, `message` (with its tool calls), `tool.call` → `tool.result` / `tool.refused`.
Trimming drops whole turns from the oldest end so tool calls and their results stay paired.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

CHARS_PER_TOKEN = 4  # rough estimate; good enough to decide when to trim
TRIM_AT = 0.75  # share of the context window the history may use


def rebuild(
    events: Iterable[Any],
    part_for_ref: Callable[[str, str | None], Any] | None = None,
    load_data: Callable[[Any], dict[str, Any]] | None = None,
) -> list[list[Any]]:
    """Turns (each a list of Messages, starting with the user's) from a session's events.

    A turn that was cancelled mid-way keeps what happened; tool calls without a recorded
    result get a "no result (interrupted)" tool message so the history stays well-formed.
    """
    from harness_ls.models import ContentPart, Message, ToolCall

    turns: list[list[Any]] = []
    model_ids: dict[str, str] = {}  # our call_id -> the model's tool call id
    answered: set[str] = set()
    open_calls: list[tuple[str, str]] = []

    def close_open(turn: list[Any]) -> None:
        for mid, name in open_calls:
            if mid not in answered:
                turn.append(
                    Message(
                        role="tool", content="no result (interrupted)", tool_call_id=mid, name=name
                    )
                )
        open_calls.clear()

    for ev in events:
        data = ev.data
        if load_data is not None and "$artifact" in data:
            data = load_data(ev)  # oversize event stored as an artifact
        if ev.type == "user.message":
            if turns:
                close_open(turns[-1])
            said = _text(data)
            parts = [ContentPart(type="text", text=said)]
            for att in data.get("attachments", []):
                if part_for_ref is not None:
                    try:
                        parts.append(part_for_ref(att["ref"], att.get("mime")))
                    except Exception:  # noqa: BLE001 - a deleted attachment must not break history
                        parts.append(
                            ContentPart(
                                type="text", text=f"[attachment {att.get('ref')} unavailable]"
                            )
                        )
            content: Any = parts if len(parts) > 1 else said
            turns.append([Message(role="user", content=content)])
        elif not turns:
            continue
        elif ev.type == "message" and data.get("role", "assistant") == "assistant":
            close_open(turns[-1])
            calls = [
                ToolCall(id=c["id"], name=c["name"], arguments=c.get("arguments") or {})
                for c in data.get("tool_calls", [])
            ]
            turns[-1].append(Message(role="assistant", content=_text(data), tool_calls=calls))
            open_calls.extend((c.id, c.name) for c in calls)
        elif ev.type == "tool.call" and ev.call_id:
            model_ids[ev.call_id] = data.get("model_call_id") or ev.call_id
        elif ev.type in ("tool.result", "tool.refused") and ev.call_id in model_ids:
            mid = model_ids[ev.call_id]
            if mid in answered:
                continue
            answered.add(mid)
            if ev.type == "tool.refused":
                text = f"Refused: {data.get('reason', '')}"
            elif data.get("ok"):
                text = data.get("output", "")
            else:
                text = f"Error ({data.get('error_code')}): {data.get('output', '')}"
            turns[-1].append(
                Message(role="tool", content=text, tool_call_id=mid, name=data.get("name"))
            )
    if turns:
        close_open(turns[-1])
    return turns


def _text(data: dict[str, Any]) -> str:
    content = data.get("content", data.get("text", ""))
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    return str(content or "")


def estimate_tokens(messages: Iterable[Any]) -> int:
    total = 0
    for m in messages:
        if isinstance(m.content, str):
            total += len(m.content)
        else:
            for p in m.content:
                total += len(p.text or "") if p.type == "text" else 1000 * CHARS_PER_TOKEN
        for c in m.tool_calls:
            total += len(str(c.arguments)) + len(c.name)
    return total // CHARS_PER_TOKEN + 1


def trim(turns: list[list[Any]], budget_tokens: int) -> tuple[list[list[Any]], int]:
    """Drop the oldest turns until the rest fits; always keeps the newest turn. (kept, dropped)."""
    kept = list(turns)
    dropped = 0
    while len(kept) > 1 and sum(estimate_tokens(t) for t in kept) > budget_tokens:
        kept.pop(0)
        dropped += 1
    return kept, dropped


def compact_tool_outputs(
    messages: list[Any], budget_tokens: int, keep_last: int = 4
) -> tuple[int, int, int]:
    """Within one long conversation (a run's steps, a long turn): replace the oldest tool outputs
    with a short placeholder until it fits; the newest `keep_last` outputs stay intact.

    Returns (outputs trimmed, tokens before, tokens after). Pairs of calls and results stay valid.
    """
    before = estimate_tokens(messages)
    total = before
    trimmed = 0
    tool_positions = [i for i, m in enumerate(messages) if m.role == "tool"]
    for i in tool_positions[: max(len(tool_positions) - keep_last, 0)]:
        if total <= budget_tokens:
            break
        msg = messages[i]
        if not isinstance(msg.content, str) or len(msg.content) < 200:
            continue
        saved = (len(msg.content) - 60) // CHARS_PER_TOKEN
        messages[i] = msg.model_copy(
            update={"content": f"[output of {msg.name or 'tool'} trimmed to fit the context]"}
        )
        total -= saved
        trimmed += 1
    return trimmed, before, estimate_tokens(messages) if trimmed else before
