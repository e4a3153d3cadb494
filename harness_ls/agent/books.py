"""A run's books across its segments: a run interrupted (or failed) and then resumed is one run,
so its totals — tokens, model calls, tool calls, active seconds — are the sum over every segment,
and its checkpoint names continue where the earlier segments stopped.

Everything is read back from the run's log, which is the state: `model.usage` (execute turns),
the plan's and the localization's usage, `tool.call`, the segments' first and last events, and
`checkpoint.created` names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness_ls.agent.turn import Usage

SEGMENT_START = ("run.started", "run.resumed")
SEGMENT_END = ("run.interrupted", "run.failed", "run.cancelled", "run.completed")


@dataclass
class Books:
    usage: Usage = field(default_factory=Usage)
    tool_calls: int = 0
    duration_ms: float = 0.0
    checkpoint_names: set[str] = field(default_factory=set)

    @property
    def next_checkpoint(self) -> int:
        """The first step number no earlier segment used for a checkpoint."""
        numbers = [int(n) for n in self.checkpoint_names if n.isdigit()]
        return max(numbers, default=0) + 1 if numbers else 1


def usage_of(data: dict[str, Any] | None) -> Usage:
    """A `Usage` back from its `as_dict()` form (null tokens: every call unreported)."""
    if not isinstance(data, dict):
        return Usage()
    calls = int(data.get("model_calls") or 0)
    if data.get("input_tokens") is None and data.get("output_tokens") is None:
        return Usage(model_calls=calls, unreported=calls)
    return Usage(
        int(data.get("input_tokens") or 0),
        int(data.get("output_tokens") or 0),
        calls,
        int(data.get("unreported_calls") or 0),
    )


def _ts(ev: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(ev.ts).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _closing(ev: Any) -> bool:
    """Written by whoever found the run dead (recovery), not while it ran."""
    d = ev.data if isinstance(ev.data, dict) else {}
    if ev.type in ("run.interrupted",):
        return True
    if ev.type == "approval.resolved" and d.get("surface") == "recovery":
        return True
    return ev.type == "tool.result" and d.get("error_code") == "interrupted"


def books_of(events: Iterable[Any]) -> Books:
    """The totals of every segment recorded so far (see the module docstring)."""
    out = Books()
    start: float | None = None
    last: float | None = None
    for ev in events:
        d = ev.data if isinstance(ev.data, dict) else {}
        if ev.type in SEGMENT_START:
            if start is not None and last is not None:
                out.duration_ms += max(0.0, last - start) * 1000
            start = last = _ts(ev)
            continue
        if start is not None and not _closing(ev):
            last = _ts(ev) or last
        if ev.type == "model.usage":
            if d.get("reported"):
                out.usage.add(
                    Usage(int(d.get("input_tokens") or 0), int(d.get("output_tokens") or 0), 1)
                )
            else:
                out.usage.add(Usage(model_calls=1, unreported=1))
        elif ev.type == "step.completed" and d.get("phase") == "plan":
            out.usage.add(usage_of(d.get("usage")))
        elif ev.type == "context.localized":
            out.usage.add(usage_of(d.get("usage")))
        elif ev.type == "tool.call":
            out.tool_calls += 1
        elif ev.type == "checkpoint.created" and d.get("name") is not None:
            out.checkpoint_names.add(str(d["name"]))
        if ev.type in SEGMENT_END and start is not None and last is not None:
            out.duration_ms += max(0.0, last - start) * 1000
            start = last = None
    if start is not None and last is not None:  # a segment cut without an end event
        out.duration_ms += max(0.0, last - start) * 1000
    out.duration_ms = round(out.duration_ms, 1)
    return out
