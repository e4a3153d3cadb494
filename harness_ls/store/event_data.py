"""Data models of the event types: known fields typed, extra fields allowed and kept.

Fields are optional unless a consumer cannot do without them, so producers stay free to add
detail. Registered (with durability and docs) in harness_ls/store/events.py.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    """Base of every data model: unknown fields are kept, so producers may add detail freely."""

    model_config = ConfigDict(extra="allow")


class RunCreated(EventData):
    workspace: str
    spec_path: str
    model: str | None = None
    title: str | None = None
    spec_sha256: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class RunStarted(EventData):
    model: str | None = None
    offline: bool | None = None


class RunResumed(EventData):
    reason: str | None = None
    from_step: str | None = None


class RunCompleted(EventData):
    outcome: str | None = None
    summary: str | None = None
    warnings: list[str] = Field(default_factory=list)  # completed, but the user must know these


class Failure(EventData):
    error: str | None = None
    code: str | None = None
    hint: str | None = None


class RunCancelled(EventData):
    reason: str | None = None
    surface: str | None = None


class Interrupted(EventData):
    reason: str | None = None
    previous_status: str | None = None


class RunApplied(EventData):
    """A remote run's changes brought home (executor/apply.py)."""

    ok: bool = True
    summary: str | None = None
    files: list[dict[str, Any]] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    branch: str | None = None
    commit: str | None = None
    error: str | None = None


class StepStarted(EventData):
    title: str | None = None
    phase: str | None = None
    index: int | None = None


class StepCompleted(EventData):
    title: str | None = None
    summary: str | None = None


class PlanUpdated(EventData):
    steps: list[dict[str, Any]] = Field(default_factory=list)


class ToolCallData(EventData):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    kind: str | None = None


class ToolResultData(EventData):
    name: str | None = None
    ok: bool = True
    output: str = ""
    error_code: str | None = None


class ToolRefused(EventData):
    name: str | None = None
    reason: str | None = None
    rule: str | None = None


class ApprovalRequested(EventData):
    approval_id: str | None = None
    tool: str | None = None
    preview: dict[str, Any] = Field(default_factory=dict)
    view: dict[str, Any] | None = None  # tools.consent.ApprovalView: what every surface shows
    spec_path: str | None = None
    spec_line: int | None = None
    similar: str | None = None  # what "approve similar" would add, in words


class ApprovalResolved(EventData):
    approval_id: str | None = None
    decision: str
    surface: str | None = None
    note: str | None = None
    scope: str | None = None


class MessageDelta(EventData):
    text: str = ""


class MessageData(EventData):
    role: str = "assistant"
    content: str | list[dict[str, Any]] = ""
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)


class LogData(EventData):
    level: str = "info"
    message: str = ""


class ModelUnavailable(EventData):
    model: str | None = None
    reason: str | None = None
    fallback: str | None = None


class ModelUsage(EventData):
    model: str | None = None
    input_tokens: int | None = None  # null: the server reported no usage (not zero)
    output_tokens: int | None = None
    reported: bool | None = None
    cost: float | None = None


class ModelRetry(EventData):
    attempt: int  # 1-based number of the attempt that failed
    max_attempts: int
    error: str
    message: str | None = None
    delay_s: float
    status: int | None = None
    request_id: str | None = None
    retry_after_s: float | None = None
    phase: str | None = None  # "request" (before streaming) or "stream" (mid-answer)


class MessageDiscarded(EventData):
    chars: int
    reason: str | None = None


class VerifyStarted(EventData):
    commands: list[str] = Field(default_factory=list)


class VerifyResult(EventData):
    command: str | None = None
    ok: bool | None = None
    exit_code: int | None = None
    output: str | None = None


class ArtifactWritten(EventData):
    path: str
    bytes: int | None = None
    sha256: str | None = None
    mime: str | None = None


class CheckpointCreated(EventData):
    commit: str | None = None
    message: str | None = None
    tree: str | None = None
    name: str | None = None
    step: int | None = None
    shadow: str | None = None


class CheckpointBefore(EventData):
    tree: str
    tool: str | None = None
    shadow: str | None = None
    at: float | None = None  # when the snapshot began (Unix seconds)


class CheckpointFile(EventData):
    path: str
    before: str | None = None
    after: str | None = None
    before_mode: str | None = None
    after_mode: str | None = None


class CheckpointDelta(EventData):
    before: str
    after: str
    tool: str | None = None
    files: list[CheckpointFile] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list)  # git-ignored paths a shell call wrote


class DocsUpdated(EventData):
    paths: list[str] = Field(default_factory=list)
    by: str | None = None
    diagrams: list[str] = Field(default_factory=list)
    links_fixed: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class SessionCreated(EventData):
    workspace: str
    mode: str = "chat"
    spec_path: str | None = None
    model: str | None = None
    title: str | None = None
    surface: str | None = None


class UserMessage(EventData):
    content: str | list[dict[str, Any]] = ""
    refs: list[str] = Field(default_factory=list)


class TurnStarted(EventData):
    turn: int | None = None
    model: str | None = None


class TurnCompleted(EventData):
    turn: int | None = None
    finish_reason: str | None = None


class TurnCancelled(EventData):
    turn: int | None = None
    reason: str | None = None


class TurnQueued(EventData):
    position: int | None = None


class SpecValidated(EventData):
    ok: bool | None = None
    problems: list[dict[str, Any]] = Field(default_factory=list)
    attempt: int | None = None


class SpecWritten(EventData):
    path: str
    sha256: str | None = None


class ContextTrimmed(EventData):
    dropped: int | None = None
    tokens_before: int | None = None
    tokens_after: int | None = None
    summary: str | None = None


class ContextBuilt(EventData):
    files: list[str] = Field(default_factory=list)
    tokens: int | None = None
    budget: int | None = None


class ContextLocalized(EventData):
    picked: list[str] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    candidates: int | None = None
    fallback: bool | None = None
    note: str | None = None
    usage: dict[str, Any] | None = None
    duration_ms: float | None = None


class AttachmentAdded(EventData):
    ref: str
    name: str | None = None
    mime: str | None = None
    bytes: int | None = None


class AttachmentSkipped(EventData):
    name: str
    mime: str | None = None
    reason: str
    model: str | None = None


class SessionClosed(EventData):
    reason: str | None = None


class StoreRecovered(EventData):
    cut_bytes: int = 0
    corrupt_path: str | None = None
    last_seq: int | None = None


class StoreWarning(EventData):
    message: str
    offset: int | None = None
    excerpt: str | None = None
