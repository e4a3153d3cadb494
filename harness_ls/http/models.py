"""Request and response bodies of the HTTP API (pydantic; the OpenAPI document is built from them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal[
    "created", "running", "waiting_approval", "completed", "failed", "cancelled", "interrupted"
]
SessionStatus = Literal["idle", "running", "closed", "interrupted"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunCreate(Strict):
    workspace: str = Field(min_length=1, description="Absolute path of the workspace (a git repo).")
    spec: str = Field(min_length=1, description="Spec path, relative to the workspace.")
    model: str | None = Field(None, description="Model id; default from config/HARNESS_MODEL.")
    resume: str | None = Field(None, description="Id of an interrupted run to resume.")
    branch: bool = Field(
        False, description="Ray executor: put the result on harness/<run_id>, not the work tree."
    )


class RunListQuery(Strict):
    status: RunStatus | None = None
    limit: int = Field(100, ge=1, le=1000)


class SessionListQuery(Strict):
    status: SessionStatus | None = None
    limit: int = Field(100, ge=1, le=1000)


class EventsQuery(BaseModel):
    after: int | None = Field(None, ge=0, description="Resume after this seq (Last-Event-ID wins).")
    follow: bool = Field(True, description="false: replay what exists, then end.")


class ApprovalAnswer(Strict):
    decision: Literal["approve", "deny"]
    note: str | None = Field(None, max_length=4000)
    scope: Literal["once", "similar"] = Field(
        "once", description="'similar': also approve similar actions for the rest of this run."
    )


class SessionCreate(Strict):
    workspace: str = Field(min_length=1)
    mode: Literal["chat", "spec"] = "chat"
    model: str | None = None
    title: str | None = Field(None, max_length=200)
    spec_path: str | None = None


class AttachmentRef(Strict):
    ref: str = Field(min_length=1, description="`attachments/<name>` as the upload returned it")
    mime: str | None = Field(None, description="media type; default: detected from the bytes")


class MessagePost(Strict):
    text: str = Field(min_length=1, max_length=200_000)
    attachments: list[str | AttachmentRef] = Field(
        default_factory=list,
        description="Attachment refs (from the upload's `ref`), or {ref, mime} objects, to include.",
    )


class SpecNew(Strict):
    workspace: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class SpecGenerate(SpecNew):
    prompt: str = Field(min_length=1, max_length=50_000)
    overwrite: bool = False
    model: str | None = None


class SpecCreated(BaseModel):
    path: str
    text: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    version: str
    kind: str
    pid: int
    started_at: str
    auth: bool
    open_streams: int = 0


class LoginLink(BaseModel):
    """A one-time dashboard login link: open `url` (relative to the server) within `expires_in` s."""

    url: str
    expires_in: int


class DoctorCheck(BaseModel):
    name: str
    ok: bool
    detail: str


class Doctor(BaseModel):
    version: str
    python: str
    data_dir: str
    auth: bool
    allowed_hosts: list[str]
    checks: list[DoctorCheck]


class Diff(BaseModel):
    run_id: str
    diff: str
    source: str


class ErrorBody(BaseModel):
    code: str
    message: str
    hint: str | None = None
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody
