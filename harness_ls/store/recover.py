"""Closing what a dead or stopped host left open, so the log tells the truth.

A run or session stream found in flight (the host was killed) may hold `approval.requested`
events nobody answered and `tool.call` events without a result. Before the stream is marked
interrupted, every open approval gets an `approval.resolved` (decision `cancelled`, the reason
and the surface that closed it) and every open call a `tool.result` marked `interrupted`: exit
status unknown, whether it had started (approved or allowed) and so whether its effects are
unknown. Consumers that pair requests with answers (dashboard history, exports, audits) and
the resume logic (agent/replay.py) rely on this.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness_ls.store.events import Event

INTERRUPTED = "interrupted"  # tool.result error_code of a call whose host stopped under it


def open_items(events: Iterable[Event]) -> tuple[list[Event], list[tuple[Event, bool]]]:
    """(open approval requests, [(open tool.call, started)]) in log order.

    `started` is True when the call was allowed by policy or its approval was approved: it may
    have run, fully or partly. False when it was still waiting for (or lost) its approval.
    """
    requests: dict[str, Event] = {}
    answers: dict[str, str] = {}  # approval id -> decision
    call_approval: dict[str, str] = {}  # tool call id -> approval id
    calls: dict[str, Event] = {}
    finished: set[str] = set()
    for ev in events:
        data = ev.data if isinstance(ev.data, dict) else {}
        if ev.type == "approval.requested":
            aid = str(data.get("approval_id") or ev.step_id or ev.call_id or "")
            requests[aid] = ev
            call_approval[str(data.get("tool_call_id") or ev.call_id or "")] = aid
        elif ev.type == "approval.resolved":
            aid = str(data.get("approval_id") or ev.step_id or ev.call_id or "")
            answers.setdefault(aid, str(data.get("decision") or ""))
        elif ev.type == "tool.call" and ev.call_id:
            calls[ev.call_id] = ev
        elif ev.type in ("tool.result", "tool.refused") and ev.call_id:
            finished.add(ev.call_id)
    open_approvals = [ev for aid, ev in requests.items() if aid not in answers]
    open_calls: list[tuple[Event, bool]] = []
    for cid, ev in calls.items():
        if cid in finished:
            continue
        aid = call_approval.get(cid)
        if aid is not None:
            started = answers.get(aid) == "approve"
        else:
            started = (
                ev.data.get("action") in ("allow", None) if isinstance(ev.data, dict) else True
            )
        open_calls.append((ev, started))
    return open_approvals, open_calls


def closing_events(
    events: Iterable[Event], *, reason: str = "daemon stopped", surface: str = "recovery"
) -> list[tuple[str, dict[str, Any], str | None, str | None]]:
    """The events that close every open approval and tool call: (type, data, step_id, call_id)."""
    approvals, calls = open_items(events)
    out: list[tuple[str, dict[str, Any], str | None, str | None]] = []
    for ev in approvals:
        aid = ev.data.get("approval_id") or ev.step_id or ev.call_id
        data = {
            "approval_id": aid,
            "decision": "cancelled",
            "surface": surface,
            "note": reason,
            "reason": reason,
            "scope": "once",
        }
        out.append(("approval.resolved", data, ev.step_id, ev.call_id))
    for ev, started in calls:
        out.append(("tool.result", interrupted_result(ev, started, reason), ev.step_id, ev.call_id))
    return out


def interrupted_result(call: Event, started: bool, reason: str) -> dict[str, Any]:
    """`tool.result` data for a call whose outcome was never recorded."""
    if started:
        output = (
            f"interrupted: effects unknown ({reason} while the call ran; exit status unknown, "
            "no output recorded)"
        )
    else:
        output = f"interrupted: not started ({reason} before it was approved; no effects)"
    return {
        "name": call.data.get("name"),
        "ok": False,
        "output": output,
        "error_code": INTERRUPTED,
        "duration_ms": None,
        "data": {
            "interrupted": True,
            "started": started,
            "effects": "unknown" if started else "none",
            "exit_status": None,
            "reason": reason,
        },
    }
