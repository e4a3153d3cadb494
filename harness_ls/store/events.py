"""The event envelope and the registry of event types with their data models.

Every line of an `events.ndjson` is one `Event`. Each type is registered here with a lenient data
model (known fields typed, extra fields kept), whether it is *durable* (fsync'd before `append`
returns) or *chatty* (batched, see docs/events.md "Write policy"), and a one-line summary.
A type must be documented in docs/events.md; tests/store/test_events_docs.py enforces it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from harness_ls.errors import InvalidInput
from harness_ls.store.event_data import (  # noqa: F401 - re-exported
    ApprovalRequested,
    ApprovalResolved,
    ArtifactWritten,
    AttachmentAdded,
    AttachmentSkipped,
    CheckpointBefore,
    CheckpointCreated,
    CheckpointDelta,
    ContextBuilt,
    ContextLocalized,
    ContextTrimmed,
    DocsUpdated,
    EventData,
    Failure,
    Interrupted,
    LogData,
    MessageData,
    MessageDelta,
    MessageDiscarded,
    ModelRetry,
    ModelUnavailable,
    ModelUsage,
    PlanUpdated,
    RunApplied,
    RunCancelled,
    RunCompleted,
    RunCreated,
    RunResumed,
    RunStarted,
    SessionClosed,
    SessionCreated,
    SpecValidated,
    SpecWritten,
    StepCompleted,
    StepStarted,
    StoreRecovered,
    StoreWarning,
    ToolCallData,
    ToolRefused,
    ToolResultData,
    TurnCancelled,
    TurnCompleted,
    TurnQueued,
    TurnStarted,
    UserMessage,
    VerifyResult,
    VerifyStarted,
)


class Event(BaseModel):
    """One NDJSON line; keys serialize in this order and None ids are omitted."""

    seq: int
    id: str
    ts: str
    type: str
    run_id: str | None = None
    session_id: str | None = None
    step_id: str | None = None
    call_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The wire form: like the log line (no None ids)."""
        out: dict[str, Any] = {"seq": self.seq, "id": self.id, "ts": self.ts, "type": self.type}
        for key in ("run_id", "session_id", "step_id", "call_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["data"] = self.data
        return out

    def to_json(self) -> str:
        """Compact JSON, exactly the log line without its newline."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @property
    def stream_id(self) -> str:
        return self.run_id or self.session_id or ""


_ts_cache: list = [-1, -1, "", ""]  # ms, second, "YYYY-MM-DDTHH:MM:SS.", full ts


def now_ts(ms: int | None = None) -> str:
    """UTC ISO-8601 with milliseconds and a Z, e.g. 2026-11-24T17:54:12.123Z (cached per ms)."""
    if ms is None:
        ms = time.time_ns() // 1_000_000
    cache = _ts_cache
    if ms == cache[0]:
        return cache[3]
    sec, frac = divmod(ms, 1000)
    if sec != cache[1]:
        cache[1] = sec
        cache[2] = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    ts = f"{cache[2]}{frac:03d}Z"
    cache[0], cache[3] = ms, ts
    return ts


_EVENT_FIELDS = frozenset(Event.model_fields)


def make_event(fields: dict[str, Any]) -> Event:
    """Build an Event from trusted, complete fields without validation (the append hot path)."""
    ev = Event.__new__(Event)
    object.__setattr__(ev, "__dict__", fields)
    object.__setattr__(ev, "__pydantic_fields_set__", set(_EVENT_FIELDS))  # ~0.1 us
    object.__setattr__(ev, "__pydantic_extra__", None)
    object.__setattr__(ev, "__pydantic_private__", None)
    return ev


Scope = Literal["run", "session", "any"]


@dataclass(frozen=True)
class EventType:
    name: str
    model: type[EventData]
    durable: bool
    scope: Scope
    summary: str


EVENT_TYPES: dict[str, EventType] = {}


def register(
    name: str, model: type[EventData], summary: str, *, durable: bool = True, scope: Scope = "any"
) -> EventType:
    """Add a type to the registry (document it in docs/events.md in the same change)."""
    et = EventType(name, model, durable, scope, summary)
    EVENT_TYPES[name] = et
    return et


def event_type(name: str) -> EventType:
    """The registered type; InvalidInput naming it when unknown."""
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise InvalidInput(
            f"unknown event type {name!r}",
            hint="register it in harness_ls/store/events.py and document it in docs/events.md",
        ) from None


def check_data(name: str, data: dict[str, Any] | BaseModel | None) -> dict[str, Any]:
    """Validate `data` against the type's model; return a JSON-ready dict (extras kept)."""
    et = event_type(name)
    if data is None:
        data = {}
    elif isinstance(data, BaseModel):
        data = data.model_dump(mode="json", exclude_none=True)
    elif isinstance(data, dict):
        data = dict(data)  # the caller may reuse its dict; the event keeps its own
    else:
        raise InvalidInput(f"event {name} data must be an object, got {type(data).__name__}")
    try:
        et.model.model_validate(data)
    except ValidationError as exc:
        fields = [".".join(str(p) for p in err["loc"]) + ": " + err["msg"] for err in exc.errors()]
        raise InvalidInput(
            f"event {name} has invalid data ({'; '.join(fields)})",
            hint="see docs/events.md for the fields of each event type",
            details=fields,
        ) from None
    return data


_R, _S = "run", "session"
register("run.created", RunCreated, "A run was created from a spec.", scope=_R)
register("run.started", RunStarted, "The run began executing.", scope=_R)
register("run.resumed", RunResumed, "An interrupted or stopped run continues.", scope=_R)
register("run.completed", RunCompleted, "The run finished (terminal).", scope=_R)
register("run.failed", Failure, "The run stopped on an error (terminal).", scope=_R)
register("run.cancelled", RunCancelled, "The run was cancelled (terminal).", scope=_R)
register("run.interrupted", Interrupted, "The host died mid-run (terminal).", scope=_R)
register(
    "run.applied", RunApplied, "A remote run's changes were applied (or put on a branch).", scope=_R
)
register("step.started", StepStarted, "A plan step began.", scope=_R)
register("step.completed", StepCompleted, "A plan step finished.", scope=_R)
register("step.failed", Failure, "A plan step failed.", scope=_R)
register("plan.updated", PlanUpdated, "The plan (list of steps) was set or changed.", scope=_R)
register("tool.call", ToolCallData, "The agent called a tool.")
register("tool.result", ToolResultData, "A tool call returned.")
register("tool.refused", ToolRefused, "Policy or containment refused a tool call.")
register("approval.requested", ApprovalRequested, "A gated action awaits an answer.")
register("approval.resolved", ApprovalResolved, "A gated action was answered.")
register("message.delta", MessageDelta, "A streamed chunk of model text.", durable=False)
register("message", MessageData, "A complete message (assistant or tool).")
register("log", LogData, "A diagnostic line for humans.", durable=False)
register("model.unavailable", ModelUnavailable, "The wanted model could not be used.")
register("model.usage", ModelUsage, "Tokens (and cost) used by a model call.")
register("model.retry", ModelRetry, "A model call failed and is tried again after a delay.")
register(
    "message.discarded",
    MessageDiscarded,
    "The streamed text since the last message broke off and is not part of the answer.",
)
register("verify.started", VerifyStarted, "Acceptance tests began.", scope=_R)
register("verify.result", VerifyResult, "One acceptance test finished.", scope=_R)
register("artifact.written", ArtifactWritten, "A file was stored under artifacts/.")
register(
    "checkpoint.created", CheckpointCreated, "The work tree was snapshotted at a step boundary."
)
register("checkpoint.before", CheckpointBefore, "The work tree just before a mutating tool call.")
register("checkpoint.delta", CheckpointDelta, "What one mutating tool call changed.")
register("docs.updated", DocsUpdated, "Documentation files were updated.")
register("session.created", SessionCreated, "A chat or spec session was created.", scope=_S)
register("session.closed", SessionClosed, "The session was closed.", scope=_S)
register("session.interrupted", Interrupted, "The host died mid-turn.", scope=_S)
register("user.message", UserMessage, "The user sent a message.", scope=_S)
register("turn.started", TurnStarted, "An agent turn began.", scope=_S)
register("turn.completed", TurnCompleted, "An agent turn finished.", scope=_S)
register("turn.cancelled", TurnCancelled, "An agent turn was cancelled.", scope=_S)
register("turn.queued", TurnQueued, "A message waits for the running turn.", scope=_S)
register("spec.validated", SpecValidated, "A spec draft was validated.")
register("spec.written", SpecWritten, "A valid spec was written to disk.")
register("context.trimmed", ContextTrimmed, "History was trimmed to fit the model.")
register("context.built", ContextBuilt, "Context (repo map, excerpts) was gathered.")
register(
    "context.localized",
    ContextLocalized,
    "The model picked the files to edit from the ranked map (or the plain ranking was kept).",
    scope=_R,
)
register("attachment.added", AttachmentAdded, "A file was attached to the session.", scope=_S)
register(
    "attachment.skipped",
    AttachmentSkipped,
    "An attachment the model cannot take was left out of this turn (the model got a note).",
    scope=_S,
)
register("store.recovered", StoreRecovered, "The store repaired a torn log tail on open.")
register("store.warning", StoreWarning, "The store skipped an unreadable log line.")

TERMINAL_RUN_EVENTS: frozenset[str] = frozenset(
    {"run.completed", "run.failed", "run.cancelled", "run.interrupted"}
)
CHATTY_EVENTS: frozenset[str] = frozenset(n for n, et in EVENT_TYPES.items() if not et.durable)
DURABLE_EVENTS: frozenset[str] = frozenset(n for n, et in EVENT_TYPES.items() if et.durable)
